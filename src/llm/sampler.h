// Token sampling: turns one position's logits into the next token, with llama.cpp's samplers
// and their order: penalties -> top-k -> top-p -> min-p -> temperature -> seeded draw, or the
// arg-max (after penalties) when temperature is 0. The stages are also exposed one by one on a
// candidate list so each can be tested exactly. Not thread-safe: one Sampler per sequence.
#pragma once

#include <cstdint>
#include <deque>
#include <random>
#include <vector>

#include "core/status.h"

namespace mle::llm {

using TokenId = int32_t;

// Defaults are llama.cpp's (common_params_sampling).
struct SamplingParams {
  float temperature = 0.8f;        // 0 = greedy (arg-max); > 0 divides the logits
  int32_t top_k = 40;              // keep the k most likely; 0 = off
  float top_p = 0.95f;             // nucleus: smallest set with probability >= top_p; 1 = off
  float min_p = 0.05f;             // drop tokens below min_p * p(most likely); 0 = off
  float repeat_penalty = 1.0f;     // logit > 0: divided by it, else multiplied; 1 = off
  float presence_penalty = 0.0f;   // subtracted once from every token in the window
  float frequency_penalty = 0.0f;  // subtracted once per occurrence in the window
  int32_t repeat_last_n = 64;      // penalty window in tokens; 0 = off, -1 = the context size
  int64_t seed = -1;               // -1 = a random seed (see Sampler::seed())
};

// OK, or InvalidArgument naming the first bad field, its value and the allowed range.
Status ValidateSamplingParams(const SamplingParams& p);

struct TokenData {
  TokenId id;
  float logit;
  float p;  // probability, valid after Softmax
};

// The candidate list the stages work on. `sorted`: data is in descending logit order.
struct Candidates {
  std::vector<TokenData> data;
  bool sorted = false;

  // All n_vocab tokens with their logits, unsorted.
  static Candidates FromLogits(const float* logits, int32_t n_vocab);
};

// The stages, in llama.cpp's semantics. Each keeps at least one candidate.
namespace sampling {
// Sorts by logit (descending, ties by id), sets p to the softmax of the logits. -inf logits get
// p = 0; if every logit is -inf the first candidate gets p = 1.
void Softmax(Candidates& c);
// For each token with count n > 0 in the window: repeat penalty, then
// logit -= n * frequency + presence.
void ApplyPenalties(Candidates& c, const std::vector<TokenId>& window, float repeat_penalty,
                    float frequency_penalty, float presence_penalty);
void ApplyTopK(Candidates& c, int32_t k);       // k <= 0: no-op
void ApplyTopP(Candidates& c, float p);         // p >= 1: no-op
void ApplyMinP(Candidates& c, float min_p);     // min_p <= 0: no-op
void ApplyTemperature(Candidates& c, float t);  // t > 0: logits / t
// The candidate of highest logit (lowest id on ties).
TokenId ArgMax(const Candidates& c);
// Softmax, then the token whose cumulative probability first exceeds u in [0, 1).
TokenId Draw(Candidates& c, double u);
}  // namespace sampling

class Sampler {
 public:
  // REQUIRES: ValidateSamplingParams(params).ok(). `n_ctx` resolves repeat_last_n == -1.
  explicit Sampler(const SamplingParams& params, int32_t n_ctx = 4096);

  // The next token from one position's logits (n_vocab floats). Does not Accept it.
  TokenId Sample(const float* logits, int32_t n_vocab);
  // Records a token (prompt or generated) in the penalty window.
  void Accept(TokenId token);
  // Empties the penalty window and re-seeds the generator.
  void Reset();

  const SamplingParams& params() const { return params_; }
  uint64_t seed() const { return seed_; }  // the seed in use (drawn when params.seed == -1)

 private:
  SamplingParams params_;
  int32_t window_size_;
  uint64_t seed_;
  std::mt19937_64 rng_;
  std::deque<TokenId> window_;
  std::vector<TokenId> window_scratch_;
};

}  // namespace mle::llm
