// Sampler tests: each stage's exact effect on small hand-made logits (llama.cpp's semantics),
// the chain's order, seed determinism, the drawn distribution against the softmax (a
// chi-square test that fails when the draw is biased), and the validation messages.
#include "llm/sampler.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <map>
#include <vector>

namespace mle::llm {
namespace {

using namespace sampling;

std::vector<TokenId> Ids(const Candidates& c) {
  std::vector<TokenId> ids;
  for (const TokenData& t : c.data) ids.push_back(t.id);
  return ids;
}

Candidates Make(const std::vector<float>& logits) {
  return Candidates::FromLogits(logits.data(), static_cast<int32_t>(logits.size()));
}

TEST(SamplerStages, SoftmaxSortsAndNormalizes) {
  Candidates c = Make({1.0f, 3.0f, 2.0f});
  Softmax(c);
  EXPECT_EQ(Ids(c), (std::vector<TokenId>{1, 2, 0}));
  const double z = std::exp(0.0) + std::exp(-1.0) + std::exp(-2.0);
  EXPECT_NEAR(c.data[0].p, 1.0 / z, 1e-6);
  EXPECT_NEAR(c.data[1].p, std::exp(-1.0) / z, 1e-6);
  EXPECT_NEAR(c.data[2].p, std::exp(-2.0) / z, 1e-6);
}

TEST(SamplerStages, NegativeInfinityLogitsGetZeroProbability) {
  const float ninf = -std::numeric_limits<float>::infinity();
  Candidates c = Make({ninf, 0.0f, ninf, 0.0f});
  Softmax(c);
  EXPECT_EQ(Ids(c), (std::vector<TokenId>{1, 3, 0, 2}));
  EXPECT_FLOAT_EQ(c.data[0].p, 0.5f);
  EXPECT_FLOAT_EQ(c.data[2].p, 0.0f);
  Candidates all = Make({ninf, ninf});
  EXPECT_EQ(Draw(all, 0.99), 0);  // degenerate input still yields a token
}

TEST(SamplerStages, TopKKeepsTheKLargest) {
  Candidates c = Make({0.5f, 2.0f, -1.0f, 3.0f, 1.0f});
  ApplyTopK(c, 2);
  EXPECT_EQ(Ids(c), (std::vector<TokenId>{3, 1}));
  Candidates off = Make({0.5f, 2.0f});
  ApplyTopK(off, 0);
  EXPECT_EQ(off.data.size(), 2u);
}

TEST(SamplerStages, TopPKeepsTheSmallestPrefixReachingP) {
  // Probabilities 0.5, 0.25, 0.125, 0.125 (logits are their logs).
  Candidates c = Make({std::log(0.125f), std::log(0.5f), std::log(0.25f), std::log(0.125f)});
  ApplyTopP(c, 0.7f);  // 0.5 < 0.7 <= 0.75
  EXPECT_EQ(Ids(c), (std::vector<TokenId>{1, 2}));
  Candidates exact = Make({std::log(0.125f), std::log(0.5f), std::log(0.25f), std::log(0.125f)});
  ApplyTopP(exact, 0.5f);  // reaching p exactly stops there
  EXPECT_EQ(Ids(exact), (std::vector<TokenId>{1}));
  Candidates one = Make({0.0f, 0.0f});
  ApplyTopP(one, 1.0f);
  EXPECT_EQ(one.data.size(), 2u);
}

TEST(SamplerStages, MinPDropsTokensBelowAFractionOfTheBest) {
  // p relative to the best: 1, 0.5, 0.2, 0.05.
  Candidates c = Make({0.0f, std::log(0.5f), std::log(0.2f), std::log(0.05f)});
  ApplyMinP(c, 0.1f);
  EXPECT_EQ(Ids(c), (std::vector<TokenId>{0, 1, 2}));
  ApplyMinP(c, 0.6f);
  EXPECT_EQ(Ids(c), (std::vector<TokenId>{0}));
}

TEST(SamplerStages, TemperatureDividesLogits) {
  Candidates c = Make({1.0f, -2.0f});
  ApplyTemperature(c, 0.5f);
  EXPECT_FLOAT_EQ(c.data[0].logit, 2.0f);
  EXPECT_FLOAT_EQ(c.data[1].logit, -4.0f);
}

TEST(SamplerStages, PenaltiesFollowLlamaCpp) {
  Candidates c = Make({2.0f, -2.0f, 1.0f, 4.0f});
  // Token 0 twice, token 1 once, token 3 absent.
  ApplyPenalties(c, {0, 1, 0}, 2.0f, 0.5f, 0.25f);
  EXPECT_FLOAT_EQ(c.data[0].logit, 2.0f / 2.0f - 2 * 0.5f - 0.25f);   // positive: divided
  EXPECT_FLOAT_EQ(c.data[1].logit, -2.0f * 2.0f - 1 * 0.5f - 0.25f);  // negative: multiplied
  EXPECT_FLOAT_EQ(c.data[2].logit, 1.0f);
  EXPECT_FLOAT_EQ(c.data[3].logit, 4.0f);
}

TEST(Sampler, GreedyIsArgMaxAfterPenalties) {
  SamplingParams p;
  p.temperature = 0.0f;
  Sampler s(p);
  std::vector<float> logits = {1.0f, 5.0f, 4.0f};
  EXPECT_EQ(s.Sample(logits.data(), 3), 1);
  p.repeat_penalty = 2.0f;
  Sampler penalized(p);
  penalized.Accept(1);
  EXPECT_EQ(penalized.Sample(logits.data(), 3), 2);  // 5 / 2 < 4
}

TEST(Sampler, PenaltyWindowForgetsOldTokens) {
  SamplingParams p;
  p.temperature = 0.0f;
  p.repeat_penalty = 10.0f;
  p.repeat_last_n = 2;
  Sampler s(p);
  std::vector<float> logits = {3.0f, 2.0f, 1.0f};
  s.Accept(0);
  EXPECT_EQ(s.Sample(logits.data(), 3), 1);
  s.Accept(2);
  s.Accept(2);  // token 0 left the window of 2
  EXPECT_EQ(s.Sample(logits.data(), 3), 0);
}

TEST(Sampler, TopKOneIsGreedyWhateverTheTemperature) {
  SamplingParams p;
  p.temperature = 5.0f;
  p.top_k = 1;
  p.seed = 7;
  Sampler s(p);
  std::vector<float> logits = {0.1f, 0.3f, 0.2f};
  for (int i = 0; i < 50; ++i) EXPECT_EQ(s.Sample(logits.data(), 3), 1);
}

TEST(Sampler, SameSeedSameTokensDifferentSeedDifferentTokens) {
  std::vector<float> logits(100);
  for (int i = 0; i < 100; ++i) logits[i] = std::sin(i * 0.7f);
  auto run = [&](int64_t seed) {
    SamplingParams p;
    p.temperature = 1.0f;
    p.top_k = 0;
    p.top_p = 1.0f;
    p.min_p = 0.0f;
    p.seed = seed;
    Sampler s(p);
    std::vector<TokenId> out;
    for (int i = 0; i < 64; ++i) out.push_back(s.Sample(logits.data(), 100));
    return out;
  };
  EXPECT_EQ(run(42), run(42));
  EXPECT_NE(run(42), run(43));
  SamplingParams random_seed;
  EXPECT_NE(Sampler(random_seed).seed(), 0xFFFFFFFFFFFFFFFFull);  // a seed was drawn
}

TEST(Sampler, DrawsFollowTheSoftmaxDistribution) {
  // Chi-square goodness of fit on 6 tokens after top-k 6 and temperature 0.7.
  std::vector<float> logits = {1.0f, 0.2f, -0.5f, 0.8f, 0.0f, -1.0f, -3.0f, -4.0f};
  SamplingParams p;
  p.temperature = 0.7f;
  p.top_k = 6;
  p.top_p = 1.0f;
  p.min_p = 0.0f;
  p.seed = 1234;
  Sampler s(p);
  const int n = 60000;
  std::map<TokenId, int> counts;
  for (int i = 0; i < n; ++i) ++counts[s.Sample(logits.data(), 8)];
  EXPECT_EQ(counts.count(6), 0u);  // outside the top 6
  EXPECT_EQ(counts.count(7), 0u);
  double z = 0;
  for (int i = 0; i < 6; ++i) z += std::exp(logits[i] / 0.7);
  double chi2 = 0;
  for (int i = 0; i < 6; ++i) {
    const double expected = n * std::exp(logits[i] / 0.7) / z;
    chi2 += (counts[i] - expected) * (counts[i] - expected) / expected;
  }
  EXPECT_LT(chi2, 20.5);  // 5 degrees of freedom: p = 0.001
}

TEST(Sampler, ValidationNamesTheFieldAndRange) {
  auto message = [](auto mutate) {
    SamplingParams p;
    mutate(p);
    Status s = ValidateSamplingParams(p);
    return s.ok() ? std::string("ok") : s.message();
  };
  EXPECT_EQ(message([](SamplingParams&) {}), "ok");
  EXPECT_EQ(message([](SamplingParams& p) { p.temperature = -1; }),
            "temperature (--temp) must be in [0, 100] (0 = greedy), got -1");
  EXPECT_NE(message([](SamplingParams& p) { p.temperature = NAN; }), "ok");
  EXPECT_EQ(message([](SamplingParams& p) { p.top_p = 0; }),
            "top_p (--top-p) must be in (0, 1] (1 = off), got 0");
  EXPECT_NE(message([](SamplingParams& p) { p.top_p = 1.5f; }), "ok");
  EXPECT_NE(message([](SamplingParams& p) { p.min_p = -0.1f; }), "ok");
  EXPECT_NE(message([](SamplingParams& p) { p.min_p = 2; }), "ok");
  EXPECT_NE(message([](SamplingParams& p) { p.top_k = -1; }), "ok");
  EXPECT_NE(message([](SamplingParams& p) { p.repeat_penalty = 0; }), "ok");
  EXPECT_NE(message([](SamplingParams& p) { p.repeat_penalty = INFINITY; }), "ok");
  EXPECT_NE(message([](SamplingParams& p) { p.presence_penalty = NAN; }), "ok");
  EXPECT_NE(message([](SamplingParams& p) { p.frequency_penalty = -INFINITY; }), "ok");
  EXPECT_EQ(message([](SamplingParams& p) { p.repeat_last_n = -2; }),
            "repeat_last_n (--repeat-last-n) must be >= -1 (0 = off, -1 = the context size), "
            "got -2");
  EXPECT_EQ(message([](SamplingParams& p) { p.repeat_last_n = -1; }), "ok");
  EXPECT_NE(message([](SamplingParams& p) { p.seed = -5; }), "ok");
}

}  // namespace
}  // namespace mle::llm
