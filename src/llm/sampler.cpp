// Sampling stages and the Sampler chain (see sampler.h). The stage semantics follow
// llama.cpp's llama_sampler_* (penalties, top_k, top_p, min_p, temp, dist), including the
// keep-at-least-one rule; the random draw is our own (53 bits of a seeded mt19937_64), so a
// seed reproduces a run of this engine, not llama.cpp's exact token choices.
#include "llm/sampler.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>
#include <unordered_map>

namespace mle::llm {
namespace {

bool Greater(const TokenData& a, const TokenData& b) {
  return a.logit > b.logit || (a.logit == b.logit && a.id < b.id);
}

void SortDescending(Candidates& c) {
  if (c.sorted) return;
  std::sort(c.data.begin(), c.data.end(), Greater);
  c.sorted = true;
}

std::string Num(double v) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%g", v);
  return buf;
}

Status Bad(const char* field, const char* flag, double value, const char* allowed) {
  return InvalidArgument(std::string(field) + " (" + flag + ") must be " + allowed + ", got " +
                         Num(value));
}

}  // namespace

Status ValidateSamplingParams(const SamplingParams& p) {
  if (!std::isfinite(p.temperature) || p.temperature < 0 || p.temperature > 100) {
    return Bad("temperature", "--temp", p.temperature, "in [0, 100] (0 = greedy)");
  }
  if (p.top_k < 0) return Bad("top_k", "--top-k", p.top_k, ">= 0 (0 = off)");
  if (!std::isfinite(p.top_p) || p.top_p <= 0 || p.top_p > 1) {
    return Bad("top_p", "--top-p", p.top_p, "in (0, 1] (1 = off)");
  }
  if (!std::isfinite(p.min_p) || p.min_p < 0 || p.min_p > 1) {
    return Bad("min_p", "--min-p", p.min_p, "in [0, 1] (0 = off)");
  }
  if (!std::isfinite(p.repeat_penalty) || p.repeat_penalty <= 0 || p.repeat_penalty > 100) {
    return Bad("repeat_penalty", "--repeat-penalty", p.repeat_penalty, "in (0, 100] (1 = off)");
  }
  if (!std::isfinite(p.presence_penalty) || std::fabs(p.presence_penalty) > 100) {
    return Bad("presence_penalty", "--presence-penalty", p.presence_penalty,
               "in [-100, 100] (0 = off)");
  }
  if (!std::isfinite(p.frequency_penalty) || std::fabs(p.frequency_penalty) > 100) {
    return Bad("frequency_penalty", "--frequency-penalty", p.frequency_penalty,
               "in [-100, 100] (0 = off)");
  }
  if (p.repeat_last_n < -1) {
    return Bad("repeat_last_n", "--repeat-last-n", p.repeat_last_n,
               ">= -1 (0 = off, -1 = the context size)");
  }
  if (p.seed < -1) return Bad("seed", "--seed", static_cast<double>(p.seed), ">= -1 (-1 = random)");
  return Status::Ok();
}

Candidates Candidates::FromLogits(const float* logits, int32_t n_vocab) {
  Candidates c;
  c.data.resize(n_vocab);
  for (int32_t i = 0; i < n_vocab; ++i) c.data[i] = {i, logits[i], 0.0f};
  return c;
}

namespace sampling {

void Softmax(Candidates& c) {
  SortDescending(c);
  if (c.data.empty()) return;
  const float max_logit = c.data[0].logit;
  if (max_logit == -std::numeric_limits<float>::infinity()) {
    for (TokenData& t : c.data) t.p = 0.0f;
    c.data[0].p = 1.0f;
    return;
  }
  double sum = 0;
  for (TokenData& t : c.data) {
    t.p = std::exp(t.logit - max_logit);  // exp(-inf) = 0
    sum += t.p;
  }
  for (TokenData& t : c.data) t.p = static_cast<float>(t.p / sum);
}

void ApplyPenalties(Candidates& c, const std::vector<TokenId>& window, float repeat_penalty,
                    float frequency_penalty, float presence_penalty) {
  if (window.empty() ||
      (repeat_penalty == 1.0f && frequency_penalty == 0.0f && presence_penalty == 0.0f)) {
    return;
  }
  std::unordered_map<TokenId, int> counts;
  for (TokenId t : window) ++counts[t];
  for (TokenData& t : c.data) {
    auto it = counts.find(t.id);
    if (it == counts.end()) continue;
    // As llama.cpp: the repeat penalty always pushes the logit down, whatever its sign.
    if (t.logit <= 0) {
      t.logit *= repeat_penalty;
    } else {
      t.logit /= repeat_penalty;
    }
    t.logit -= static_cast<float>(it->second) * frequency_penalty + presence_penalty;
  }
  c.sorted = false;
}

void ApplyTopK(Candidates& c, int32_t k) {
  if (k <= 0 || static_cast<size_t>(k) >= c.data.size()) return;
  if (!c.sorted) {
    std::partial_sort(c.data.begin(), c.data.begin() + k, c.data.end(), Greater);
    c.sorted = true;
  }
  c.data.resize(k);
}

void ApplyTopP(Candidates& c, float p) {
  if (p >= 1.0f || c.data.size() <= 1) return;
  Softmax(c);
  double cum = 0;
  size_t keep = c.data.size();
  for (size_t i = 0; i < c.data.size(); ++i) {
    cum += c.data[i].p;
    if (cum >= p) {  // the smallest prefix reaching p, including the token that reaches it
      keep = i + 1;
      break;
    }
  }
  c.data.resize(keep);
}

void ApplyMinP(Candidates& c, float min_p) {
  if (min_p <= 0.0f || c.data.size() <= 1) return;
  float max_logit = -std::numeric_limits<float>::infinity();
  for (const TokenData& t : c.data) max_logit = std::max(max_logit, t.logit);
  // p_i >= min_p * p_max  <=>  logit_i >= max_logit + log(min_p)
  const float threshold = max_logit + std::log(min_p);
  std::vector<TokenData> kept;
  kept.reserve(c.data.size());
  for (const TokenData& t : c.data) {
    if (t.logit >= threshold) kept.push_back(t);
  }
  if (kept.empty()) return;  // only when every logit is -inf
  c.data = std::move(kept);  // relative order kept, so `sorted` stays as it was
}

void ApplyTemperature(Candidates& c, float t) {
  if (t <= 0.0f) return;
  for (TokenData& d : c.data) d.logit /= t;
}

TokenId ArgMax(const Candidates& c) {
  if (c.data.empty()) return 0;
  auto it = std::min_element(c.data.begin(), c.data.end(), Greater);
  return it->id;
}

TokenId Draw(Candidates& c, double u) {
  Softmax(c);
  double cum = 0;
  for (const TokenData& t : c.data) {
    cum += t.p;
    if (u < cum) return t.id;
  }
  // Rounding left cum just below 1: the last token of non-zero probability.
  for (auto it = c.data.rbegin(); it != c.data.rend(); ++it) {
    if (it->p > 0) return it->id;
  }
  return c.data.empty() ? 0 : c.data[0].id;
}

}  // namespace sampling

Sampler::Sampler(const SamplingParams& params, int32_t n_ctx) : params_(params) {
  window_size_ = params.repeat_last_n == -1 ? std::max(0, n_ctx) : params.repeat_last_n;
  seed_ = params.seed >= 0
              ? static_cast<uint64_t>(params.seed)
              : (static_cast<uint64_t>(std::random_device{}()) << 32) ^ std::random_device{}();
  rng_.seed(seed_);
}

void Sampler::Reset() {
  window_.clear();
  rng_.seed(seed_);
}

void Sampler::Accept(TokenId token) {
  if (window_size_ <= 0) return;
  window_.push_back(token);
  while (window_.size() > static_cast<size_t>(window_size_)) window_.pop_front();
}

TokenId Sampler::Sample(const float* logits, int32_t n_vocab) {
  using namespace sampling;
  Candidates c = Candidates::FromLogits(logits, n_vocab);
  window_scratch_.assign(window_.begin(), window_.end());
  ApplyPenalties(c, window_scratch_, params_.repeat_penalty, params_.frequency_penalty,
                 params_.presence_penalty);
  if (params_.temperature == 0.0f) return ArgMax(c);
  ApplyTopK(c, params_.top_k);
  ApplyTopP(c, params_.top_p);
  ApplyMinP(c, params_.min_p);
  ApplyTemperature(c, params_.temperature);
  const double u = static_cast<double>(rng_() >> 11) * 0x1.0p-53;  // uniform in [0, 1)
  return Draw(c, u);
}

}  // namespace mle::llm
