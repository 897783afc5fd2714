#include "lm/lm_model.h"

#include "lm/lm_ops.h"

#include <cmath>
#include <limits>

namespace mle::lm {
namespace {

std::vector<float> ToVector(const torch::Tensor& t) {
  torch::Tensor c = t.detach().to(torch::kFloat32).contiguous();
  return std::vector<float>(c.data_ptr<float>(), c.data_ptr<float>() + c.numel());
}

NamedTensor Named(std::string name, const torch::Tensor& t) {
  return {std::move(name), t.sizes().vec(), ToVector(t)};
}

}  // namespace

GptLayerImpl::GptLayerImpl(const LmConfig& c) {
  const int64_t d = c.dim, kv = static_cast<int64_t>(c.n_kv_heads) * c.head_dim(), f = c.hidden();
  const double std = 0.02, resid_std = 0.02 / std::sqrt(2.0 * c.n_layers);
  torch::NoGradGuard no_grad;
  attn_norm = register_parameter("attn_norm", torch::ones({d}));
  wqkv = register_parameter("wqkv", torch::randn({d + 2 * kv, d}) * std);
  wo = register_parameter("wo", torch::randn({d, d}) * resid_std);
  ffn_norm = register_parameter("ffn_norm", torch::ones({d}));
  w13 = register_parameter("w13", torch::randn({2 * f, d}) * std);
  w2 = register_parameter("w2", torch::randn({d, f}) * resid_std);
}

GptModelImpl::GptModelImpl(const LmConfig& c) : c_(c) {
  {
    torch::NoGradGuard no_grad;
    tok_embd_ = register_parameter("tok_embd", torch::randn({c.vocab_size, c.dim}) * 0.02);
  }
  layers_ = register_module("layers", torch::nn::ModuleList());
  for (int i = 0; i < c.n_layers; ++i) {
    layer_refs_.push_back(GptLayer(c));
    layers_->push_back(layer_refs_.back());
  }
  {
    torch::NoGradGuard no_grad;
    norm_f_ = register_parameter("norm_f", torch::ones({c.dim}));
    if (!c.tied_embeddings) {
      output_ = register_parameter("output", torch::randn({c.vocab_size, c.dim}) * 0.02);
    }
  }
  // RoPE tables in double precision, as llama.cpp computes theta = p * base^(-2i/d).
  const int64_t half = c.head_dim() / 2;
  torch::Tensor inv = torch::pow(static_cast<double>(c.rope_theta),
                                 -torch::arange(0, half, torch::kFloat64) * 2.0 / c.head_dim());
  torch::Tensor ang = torch::outer(torch::arange(0, c.context, torch::kFloat64), inv);
  cos_ = register_buffer("rope_cos", ang.cos().to(torch::kFloat32));
  sin_ = register_buffer("rope_sin", ang.sin().to(torch::kFloat32));
  mask_ = register_buffer(
      "causal_mask",
      torch::full({c.context, c.context}, -std::numeric_limits<float>::infinity()).triu(1));
}

torch::Tensor GptModelImpl::forward(const torch::Tensor& tokens) {
  const int64_t b = tokens.size(0), t = tokens.size(1);
  TORCH_CHECK(t <= c_.context, "sequence longer than the model's context");
  const int64_t h = c_.n_heads, kvh = c_.n_kv_heads, hd = c_.head_dim(), d = c_.dim,
                f = c_.hidden();
  const double scale = 1.0 / std::sqrt(static_cast<double>(hd));
  torch::Tensor mask = mask_.narrow(0, 0, t).narrow(1, 0, t).expand({b * h, t, t});
  torch::Tensor x = torch::embedding(tok_embd_, tokens);
  for (const GptLayer& L : layer_refs_) {
    torch::Tensor hn = FusedRmsNorm(x, L->attn_norm, c_.norm_eps);
    std::vector<torch::Tensor> qkv = torch::linear(hn, L->wqkv).split({d, kvh * hd, kvh * hd}, -1);
    torch::Tensor q = FusedRopeToHeads(qkv[0].view({b, t, h, hd}), cos_, sin_);
    torch::Tensor k = FusedRopeToHeads(qkv[1].view({b, t, kvh, hd}), cos_, sin_);
    torch::Tensor v = qkv[2].reshape({b, t, kvh, hd}).transpose(1, 2);
    if (kvh < h) {
      k = k.repeat_interleave(h / kvh, 1);
      v = v.repeat_interleave(h / kvh, 1);
    }
    torch::Tensor att = torch::baddbmm(mask, q.reshape({b * h, t, hd}),
                                       k.reshape({b * h, t, hd}).transpose(1, 2), 1.0, scale);
    att = torch::softmax(att, -1);
    torch::Tensor o = torch::bmm(att, v.reshape({b * h, t, hd}))
                          .view({b, h, t, hd})
                          .transpose(1, 2)
                          .reshape({b, t, d});
    x = x + torch::linear(o, L->wo);
    hn = FusedRmsNorm(x, L->ffn_norm, c_.norm_eps);
    std::vector<torch::Tensor> gu = torch::linear(hn, L->w13).split({f, f}, -1);
    x = x + torch::linear(torch::silu(gu[0]) * gu[1], L->w2);
  }
  x = FusedRmsNorm(x, norm_f_, c_.norm_eps);
  return torch::linear(x, c_.tied_embeddings ? tok_embd_ : output_).to(torch::kFloat32);
}

torch::Tensor GptModelImpl::Loss(const torch::Tensor& tokens, const torch::Tensor& targets) {
  torch::Tensor logits = forward(tokens);
  return torch::cross_entropy_loss(logits.view({-1, c_.vocab_size}), targets.reshape({-1}));
}

std::vector<NamedTensor> GptModelImpl::ExportTensors() const {
  const int64_t d = c_.dim, kv = static_cast<int64_t>(c_.n_kv_heads) * c_.head_dim(),
                f = c_.hidden();
  std::vector<NamedTensor> out;
  out.push_back(Named("token_embd.weight", tok_embd_));
  out.push_back(Named("output_norm.weight", norm_f_));
  if (!c_.tied_embeddings) out.push_back(Named("output.weight", output_));
  for (size_t i = 0; i < layer_refs_.size(); ++i) {
    const GptLayer& L = layer_refs_[i];
    const std::string b = "blk." + std::to_string(i) + ".";
    out.push_back(Named(b + "attn_norm.weight", L->attn_norm));
    out.push_back(Named(b + "attn_q.weight", L->wqkv.narrow(0, 0, d)));
    out.push_back(Named(b + "attn_k.weight", L->wqkv.narrow(0, d, kv)));
    out.push_back(Named(b + "attn_v.weight", L->wqkv.narrow(0, d + kv, kv)));
    out.push_back(Named(b + "attn_output.weight", L->wo));
    out.push_back(Named(b + "ffn_norm.weight", L->ffn_norm));
    out.push_back(Named(b + "ffn_gate.weight", L->w13.narrow(0, 0, f)));
    out.push_back(Named(b + "ffn_up.weight", L->w13.narrow(0, f, f)));
    out.push_back(Named(b + "ffn_down.weight", L->w2));
  }
  return out;
}

std::vector<torch::Tensor> GptModelImpl::DecayParameters() const {
  std::vector<torch::Tensor> p = {tok_embd_};
  if (output_.defined()) p.push_back(output_);
  for (const GptLayer& L : layer_refs_) {
    for (const torch::Tensor& t : {L->wqkv, L->wo, L->w13, L->w2}) p.push_back(t);
  }
  return p;
}

std::vector<torch::Tensor> GptModelImpl::NoDecayParameters() const {
  std::vector<torch::Tensor> p = {norm_f_};
  for (const GptLayer& L : layer_refs_) {
    p.push_back(L->attn_norm);
    p.push_back(L->ffn_norm);
  }
  return p;
}

}  // namespace mle::lm
