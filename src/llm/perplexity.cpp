#include "llm/perplexity.h"

#include <algorithm>
#include <cmath>

namespace mle::llm {

Result<PerplexityResult> Perplexity(const Model& model, std::span<const TokenId> tokens,
                                    const PerplexityOptions& opts) {
  const Hparams& hp = model.hparams();
  if (opts.max_tokens > 0 && static_cast<int64_t>(tokens.size()) > opts.max_tokens) {
    tokens = tokens.first(static_cast<size_t>(opts.max_tokens));
  }
  if (tokens.size() < 2) return InvalidArgument("perplexity needs at least 2 tokens of text");
  const int32_t n_ctx = opts.n_ctx > 0 ? opts.n_ctx : std::min<int32_t>(hp.n_ctx_train, 512);
  if (n_ctx > hp.n_ctx_train) {
    return InvalidArgument("--ctx " + std::to_string(n_ctx) + " is larger than the model's " +
                           std::to_string(hp.n_ctx_train) + " tokens");
  }
  for (TokenId t : tokens) {
    if (t < 0 || t >= hp.n_vocab) {
      return InvalidArgument("token id " + std::to_string(t) + " is outside the vocabulary");
    }
  }
  ContextOptions co;
  co.n_ctx = n_ctx;
  co.n_batch = std::min<int32_t>(n_ctx, 512);
  co.n_threads = opts.n_threads;
  co.kv_type = opts.kv_type;
  MLE_ASSIGN_OR_RETURN(std::unique_ptr<Context> ctx, Context::Create(model, co));

  PerplexityResult r;
  r.n_ctx = n_ctx;
  double nll = 0;
  const size_t n = tokens.size();
  Batch batch;
  for (size_t start = 0; start + 1 < n; start += static_cast<size_t>(n_ctx)) {
    const size_t len = std::min<size_t>(static_cast<size_t>(n_ctx), n - 1 - start);
    ctx->SeqTruncate(0, 0);
    for (size_t done = 0; done < len;) {
      const size_t chunk = std::min<size_t>(static_cast<size_t>(co.n_batch), len - done);
      batch.Clear();
      for (size_t i = 0; i < chunk; ++i) {
        batch.Add(tokens[start + done + i], static_cast<int32_t>(done + i), 0, true);
      }
      MLE_RETURN_IF_ERROR(ctx->Decode(batch));
      for (size_t i = 0; i < chunk; ++i) {
        const float* logits = ctx->Logits(static_cast<int>(i));
        const float mx = *std::max_element(logits, logits + hp.n_vocab);
        double sum = 0;
        for (int32_t v = 0; v < hp.n_vocab; ++v)
          sum += std::exp(static_cast<double>(logits[v] - mx));
        const TokenId target = tokens[start + done + i + 1];
        nll += std::log(sum) - static_cast<double>(logits[target] - mx);
      }
      done += chunk;
    }
    r.n_scored += static_cast<int64_t>(len);
    ++r.n_windows;
  }
  r.mean_nll = nll / static_cast<double>(r.n_scored);
  r.perplexity = std::exp(r.mean_nll);
  return r;
}

}  // namespace mle::llm
