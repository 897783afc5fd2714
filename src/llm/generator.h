// Generator: the text-generation loop shared by `ml-engine generate` and the HTTP server.
// Prompt tokens are prefilled in chunks of n_batch (reusing whatever prefix of the prompt the
// sequence's KV cache already holds), then tokens are sampled one at a time and streamed as
// UTF-8-complete text pieces until an end-of-generation token, a stop string, the token limit,
// a full context or cancellation. A stop string is never emitted: text that could be the
// start of one is held back until it is known not to be.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "llm/model.h"
#include "llm/sampler.h"

namespace mle::llm {

enum class StopReason { kEog, kStopString, kMaxTokens, kContextFull, kCancelled };
// "eog", "stop_string", "max_tokens", "context_full", "cancelled".
const char* StopReasonName(StopReason r);

// One generated token's log-probability under the model (log-softmax of the raw logits,
// before any sampling transform) and the most likely tokens at that step.
struct TokenLogprob {
  TokenId token = 0;
  float logprob = 0;
  std::vector<std::pair<TokenId, float>> top;  // most likely first
};

// The log-probability of `token` and the `n_top` most likely tokens (ties by lower id).
TokenLogprob ComputeLogprob(const float* logits, int32_t n_vocab, TokenId token, int n_top);

inline constexpr int kMaxTopLogprobs = 20;

struct GenerateOptions {
  int32_t n_predict = 128;        // tokens to generate at most; -1 = until EOG / full context
  std::vector<std::string> stop;  // stop strings (empty strings are ignored)
  SamplingParams sampling;
  bool render_special = false;  // stream control tokens' text (EOG tokens are never shown)
  bool ignore_eos = false;      // keep generating past end-of-generation tokens (benchmarks)
  // >= 0: record each generated token's log-probability and this many top alternatives
  // (at most kMaxTopLogprobs) in GenerateStats::logprobs (the scheduler does).
  int32_t n_logprobs = -1;
  const std::atomic<bool>* cancel = nullptr;  // polled before each decode
};

struct GenerateStats {
  int32_t n_prompt_tokens = 0;  // the prompt's length
  int32_t n_prompt_reused = 0;  // of which were already in the KV cache
  double t_prompt_ms = 0;       // prefill of the n_prompt_tokens - n_prompt_reused others
  int32_t n_generated = 0;      // tokens sampled (the EOG token included)
  int32_t n_decoded = 0;        // single-token decode steps
  double t_gen_ms = 0;          // sampling and decoding after the prefill
  StopReason stop_reason = StopReason::kMaxTokens;
  std::vector<TokenId> tokens;         // the sampled tokens, in order
  std::string text;                    // everything streamed
  uint64_t seed = 0;                   // the sampler's seed
  std::vector<TokenLogprob> logprobs;  // per generated token (EOG excluded), when asked for
};

// Receives each newly completed piece of text; return false to stop (reason kCancelled).
using TextCallback = std::function<bool(std::string_view piece)>;

// Not thread-safe; one Generator per (Context, sequence). It tracks which tokens the
// sequence's cache holds, so a later prompt that extends an earlier conversation only
// prefills the new part.
class Generator {
 public:
  Generator(Context& ctx, int32_t seq = 0);

  // Errors: InvalidArgument for an empty prompt, a prompt longer than the context (message
  // names both lengths and the fix), bad sampling parameters; the Decode error otherwise.
  Result<GenerateStats> Generate(const std::vector<TokenId>& prompt, const GenerateOptions& options,
                                 const TextCallback& on_text);

  // Tokens the sequence's cache holds, in order.
  const std::vector<TokenId>& cached_tokens() const { return cached_; }
  // Forgets the cache (e.g. to start an unrelated conversation).
  void Reset();

 private:
  // Decodes prompt[from, end) in n_batch chunks; logits for the last token only.
  Status Prefill(const std::vector<TokenId>& prompt, size_t from);
  Status DecodeOne(TokenId token);

  Context& ctx_;
  int32_t seq_;
  std::vector<TokenId> cached_;
};

// Holds back streamed text that may be the start of a stop string (see Generator). Exposed for
// tests.
class StopStringFilter {
 public:
  explicit StopStringFilter(std::vector<std::string> stops);
  // Appends `text`; returns what can be emitted now. Sets *stopped when a stop string appeared
  // (the returned text then ends just before it, and later calls return "").
  std::string Push(std::string_view text, bool* stopped);
  // The held-back text, at the end of generation without a stop.
  std::string Flush();

 private:
  std::vector<std::string> stops_;
  std::string pending_;
  bool stopped_ = false;
};

}  // namespace mle::llm
