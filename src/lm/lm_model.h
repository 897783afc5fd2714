// GptModel: the own-LLM decoder in LibTorch (internal to mle_lm; includes torch). A Llama-style
// stack: token embedding, n_layers x [x += Attn(RMSNorm(x)); x += SwiGLU(RMSNorm(x))], a final
// RMSNorm and the output projection (tied to the embedding or its own). RoPE rotates adjacent
// pairs (x[2i], x[2i+1]) as llama.cpp's "llama" architecture does, so the export needs no
// permutation. Q, K and V are one fused projection (wqkv) and gate/up another (w13): one large
// matrix product instead of three or two; the export splits them back into llama.cpp's names.
#pragma once

#include <torch/torch.h>

#include <functional>
#include <vector>

#include "lm/gguf_export.h"
#include "lm/lm_config.h"

namespace mle::lm {

class GptLayerImpl : public torch::nn::Module {
 public:
  explicit GptLayerImpl(const LmConfig& c);
  torch::Tensor attn_norm, wqkv, wo, ffn_norm, w13, w2;
};
TORCH_MODULE(GptLayer);

class GptModelImpl : public torch::nn::Module {
 public:
  // Weights are initialized from the global LibTorch generator (seed it first): normal(0, 0.02),
  // the residual projections (wo, w2) scaled by 1/sqrt(2 n_layers), norms 1.
  explicit GptModelImpl(const LmConfig& c);

  // tokens [B, T] int64 (T <= context) -> logits [B, T, vocab] float32.
  torch::Tensor forward(const torch::Tensor& tokens);
  // Mean next-token cross entropy of `tokens` [B, T] against `targets` [B, T].
  torch::Tensor Loss(const torch::Tensor& tokens, const torch::Tensor& targets);

  // The weights under llama.cpp's tensor names, fp32 copies.
  std::vector<NamedTensor> ExportTensors() const;
  // Parameters that get weight decay (the matrices) and those that do not (norms).
  std::vector<torch::Tensor> DecayParameters() const;
  std::vector<torch::Tensor> NoDecayParameters() const;

  const LmConfig& config() const { return c_; }

 private:
  LmConfig c_;
  torch::Tensor tok_embd_, output_, norm_f_;
  torch::nn::ModuleList layers_;
  std::vector<GptLayer> layer_refs_;
  torch::Tensor cos_, sin_, mask_;  // [context, head_dim/2] x2, [context, context] additive
};
TORCH_MODULE(GptModel);

struct SampleParams {
  bool greedy = false;
  double temperature = 0.8;
  int top_k = 40;
};

// Appends up to `n` sampled tokens to `ids` (the context is the last `context` tokens);
// stops at `stop_id` (not returned, as the engine does) when given. Returns the new tokens. no_grad
// inside.
std::vector<int32_t> SampleIds(GptModel& model, std::vector<int32_t> ids, int n,
                               const SampleParams& p, uint64_t seed, int32_t stop_id = -1,
                               const std::function<void(int32_t)>& on_token = {});

}  // namespace mle::lm
