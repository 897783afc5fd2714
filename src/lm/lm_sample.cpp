// Sampling from a checkpoint with LibTorch (lm generate, the samples logged while training)
// and the prompt logits used to check the GGUF export against the engine.
#include <filesystem>
#include <random>

#include "lm/lm.h"
#include "lm/lm_checkpoint.h"
#include "train/torch_env.h"

namespace mle::lm {

std::vector<int32_t> SampleIds(GptModel& model, std::vector<int32_t> ids, int n,
                               const SampleParams& p, uint64_t seed, int32_t stop_id,
                               const std::function<void(int32_t)>& on_token) {
  torch::NoGradGuard no_grad;
  const bool was_training = model->is_training();
  model->eval();
  std::mt19937_64 rng(seed);
  std::vector<int32_t> out;
  const int64_t ctx = model->config().context;
  for (int i = 0; i < n; ++i) {
    const int64_t start = std::max<int64_t>(0, static_cast<int64_t>(ids.size()) - ctx);
    std::vector<int64_t> window(ids.begin() + start, ids.end());
    torch::Tensor x = torch::tensor(window, torch::kInt64).unsqueeze(0);
    torch::Tensor logits = model->forward(x).select(1, x.size(1) - 1).squeeze(0).contiguous();
    int32_t next = 0;
    if (p.greedy || p.temperature <= 0) {
      next = static_cast<int32_t>(logits.argmax().item<int64_t>());
    } else {
      torch::Tensor l = logits / p.temperature;
      const int64_t k = p.top_k > 0 ? std::min<int64_t>(p.top_k, l.size(0)) : l.size(0);
      auto [vals, idx] = l.topk(k);
      torch::Tensor probs = torch::softmax(vals, 0).contiguous();
      std::vector<double> w(probs.data_ptr<float>(), probs.data_ptr<float>() + k);
      std::discrete_distribution<int64_t> dist(w.begin(), w.end());
      next = static_cast<int32_t>(idx[dist(rng)].item<int64_t>());
    }
    if (next == stop_id) break;
    ids.push_back(next);
    out.push_back(next);
    if (on_token) on_token(next);
  }
  if (was_training) model->train();
  return out;
}

namespace {

Result<LoadedRun> LoadForSampling(const std::string& run_dir, const std::string& ckpt,
                                  int threads) {
  train::SetTorchThreads(threads);
  return LoadRun(run_dir, ckpt);
}

Status CheckGenerateOptions(const LmGenerateOptions& o) {
  if (o.n_tokens < 0) return InvalidArgument("-n must be >= 0");
  if (!(o.temperature >= 0 && o.temperature <= 100)) {
    return InvalidArgument("--temp must be in [0, 100]");
  }
  if (o.top_k < 0) return InvalidArgument("--top-k must be >= 0 (0 = all tokens)");
  return Status::Ok();
}

SampleParams ParamsOf(const LmGenerateOptions& o) {
  return SampleParams{o.greedy, o.temperature, o.top_k};
}

}  // namespace

Result<std::string> Generate(const LmGenerateOptions& o,
                             const std::function<void(const std::string&)>& on_text) {
  MLE_RETURN_IF_ERROR(CheckGenerateOptions(o));
  MLE_ASSIGN_OR_RETURN(LoadedRun run, LoadForSampling(o.run_dir, o.ckpt, o.threads));
  std::vector<int32_t> prompt = run.tokenizer->Encode(o.prompt, /*add_bos=*/true);
  std::vector<int32_t> generated;
  std::string emitted;
  auto on_token = [&](int32_t id) {
    generated.push_back(id);
    std::string text = run.tokenizer->Decode(generated);
    // Hold back an incomplete UTF-8 sequence (a byte token) until it is complete.
    size_t keep = text.size();
    size_t i = text.size();
    int back = 0;
    while (i > 0 && back < 4 && (static_cast<unsigned char>(text[i - 1]) & 0xC0) == 0x80) {
      --i;
      ++back;
    }
    if (i > 0) {
      const auto lead = static_cast<unsigned char>(text[i - 1]);
      const int need = lead >= 0xF0 ? 3 : lead >= 0xE0 ? 2 : lead >= 0xC0 ? 1 : 0;
      if (need > back) keep = i - 1;
    }
    if (keep > emitted.size() && text.compare(0, emitted.size(), emitted) == 0) {
      if (on_text) on_text(text.substr(emitted.size(), keep - emitted.size()));
      emitted = text.substr(0, keep);
    }
  };
  SampleIds(run.model, prompt, o.n_tokens, ParamsOf(o), o.seed, run.tokenizer->eos_id(), on_token);
  std::string text = run.tokenizer->Decode(generated);
  if (on_text && text.size() > emitted.size() && text.compare(0, emitted.size(), emitted) == 0) {
    on_text(text.substr(emitted.size()));
  }
  return text;
}

Result<std::vector<int32_t>> GenerateIds(const LmGenerateOptions& o) {
  MLE_RETURN_IF_ERROR(CheckGenerateOptions(o));
  MLE_ASSIGN_OR_RETURN(LoadedRun run, LoadForSampling(o.run_dir, o.ckpt, o.threads));
  std::vector<int32_t> prompt = run.tokenizer->Encode(o.prompt, /*add_bos=*/true);
  return SampleIds(run.model, prompt, o.n_tokens, ParamsOf(o), o.seed, run.tokenizer->eos_id());
}

Result<std::vector<float>> PromptLogits(const std::string& run_dir, const std::string& ckpt,
                                        const std::string& prompt, std::vector<int32_t>* ids) {
  MLE_ASSIGN_OR_RETURN(LoadedRun run, LoadRun(run_dir, ckpt));
  std::vector<int32_t> tokens = run.tokenizer->Encode(prompt, /*add_bos=*/true);
  if (static_cast<int64_t>(tokens.size()) > run.config.context) {
    return InvalidArgument("prompt has " + std::to_string(tokens.size()) +
                           " tokens, more than the model's context of " +
                           std::to_string(run.config.context));
  }
  if (ids) *ids = tokens;
  torch::NoGradGuard no_grad;
  std::vector<int64_t> t64(tokens.begin(), tokens.end());
  torch::Tensor logits =
      run.model->forward(torch::tensor(t64, torch::kInt64).unsqueeze(0)).squeeze(0).contiguous();
  return std::vector<float>(logits.data_ptr<float>(), logits.data_ptr<float>() + logits.numel());
}

}  // namespace mle::lm
