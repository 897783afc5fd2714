// Perplexity of a model over a token sequence, as llama-perplexity measures it but scoring
// every position: the tokens are cut into windows of n_ctx, each window is decoded from an
// empty cache, and position i of a window predicts the token after it (the last one predicts
// the first token of the next window). Used by `ml-engine perplexity` and to compare a
// model's quantized exports with its F32 export.
#pragma once

#include <cstdint>
#include <span>

#include "core/status.h"
#include "llm/model.h"

namespace mle::llm {

struct PerplexityOptions {
  int32_t n_ctx = 0;      // window length; 0 = min(n_ctx_train, 512)
  int32_t n_threads = 0;  // 0 = hardware threads
  KvType kv_type = KvType::kF16;
  int64_t max_tokens = 0;  // 0 = all
};

struct PerplexityResult {
  double mean_nll = 0;  // natural log, per predicted token
  double perplexity = 0;
  int64_t n_scored = 0;
  int n_windows = 0;
  int32_t n_ctx = 0;
};

// Errors: fewer than 2 tokens, a window longer than the model's context, token ids outside
// the vocabulary (InvalidArgument).
Result<PerplexityResult> Perplexity(const Model& model, std::span<const TokenId> tokens,
                                    const PerplexityOptions& opts);

}  // namespace mle::llm
