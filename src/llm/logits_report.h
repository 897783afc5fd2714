// Prompt logits in the layout of ../shared/testdata/llamacpp-ref/*.json, so this engine's
// numbers can be diffed against llama.cpp's: the prompt's ids, and at every prompt position
// the top-k [token, logit] pairs plus the mean and rms of all logits; optionally the greedy
// continuation with each step's top-1 minus top-2 margin.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/status.h"
#include "llm/model.h"

namespace mle::llm {

struct PositionLogits {
  std::vector<std::pair<TokenId, float>> top;  // descending logit, ties by id
  double mean = 0;
  double rms = 0;
};

struct PromptLogits {
  std::string prompt;
  std::vector<TokenId> prompt_tokens;
  int32_t n_vocab = 0;
  std::vector<PositionLogits> positions;  // one per prompt token
  std::vector<TokenId> greedy;            // n_greedy arg-max tokens after the prompt
  std::vector<float> greedy_margin;       // top-1 minus top-2 logit at each greedy step
};

// Summarizes one row of logits.
PositionLogits SummarizeLogits(const float* logits, int32_t n_vocab, int top_k);

// Runs `prompt_tokens` through sequence 0 of `ctx` (emptied first) with logits at every
// position, then n_greedy greedy steps. Errors: an empty prompt or one that (with the greedy
// steps) does not fit the context, and Decode errors.
Result<PromptLogits> ComputePromptLogits(Context& ctx, const std::string& prompt,
                                         const std::vector<TokenId>& prompt_tokens, int top_k,
                                         int n_greedy);

// {"model", "producer", "cases": [{"prompt", "n_vocab", "prompt_tokens", "positions":
// [{"top<k>": [[id, logit], ...], "mean", "rms"}], "greedy", "greedy_margin"}]}; the greedy
// keys only when greedy steps were run.
nlohmann::ordered_json PromptLogitsJson(const std::string& model_name, const std::string& producer,
                                        const std::vector<PromptLogits>& cases, int top_k);

}  // namespace mle::llm
