// ComputeLogprob: the log-softmax of the raw logits for the chosen token and the top
// alternatives (most likely first, ties by lower id), as the OpenAI routes report them.
#include <gtest/gtest.h>

#include <cmath>

#include "llm/generator.h"

namespace mle::llm {
namespace {

TEST(Logprob, LogSoftmaxOfTheChosenTokenAndTheTopAlternatives) {
  const float logits[5] = {1.0f, 3.0f, 2.0f, 3.0f, -50.0f};
  const double log_z =
      std::log(std::exp(1.0) + 2 * std::exp(3.0) + std::exp(2.0) + std::exp(-50.0));
  TokenLogprob lp = ComputeLogprob(logits, 5, /*token=*/2, /*n_top=*/3);
  EXPECT_EQ(lp.token, 2);
  EXPECT_NEAR(lp.logprob, 2.0 - log_z, 1e-6);
  ASSERT_EQ(lp.top.size(), 3u);
  EXPECT_EQ(lp.top[0].first, 1);  // a tie with id 3: the lower id first
  EXPECT_EQ(lp.top[1].first, 3);
  EXPECT_EQ(lp.top[2].first, 2);
  EXPECT_NEAR(lp.top[0].second, 3.0 - log_z, 1e-6);
  double total = 0;
  for (int i = 0; i < 5; ++i) total += std::exp(ComputeLogprob(logits, 5, i, 0).logprob);
  EXPECT_NEAR(total, 1.0, 1e-6);
}

TEST(Logprob, TopIsBoundedByTheVocabularyAndTheLimit) {
  const float logits[3] = {0.5f, 0.25f, 0.0f};
  EXPECT_EQ(ComputeLogprob(logits, 3, 0, 50).top.size(), 3u);
  EXPECT_TRUE(ComputeLogprob(logits, 3, 0, 0).top.empty());
  std::vector<float> big(100, 0.0f);
  EXPECT_EQ(ComputeLogprob(big.data(), 100, 7, 50).top.size(),
            static_cast<size_t>(kMaxTopLogprobs));
}

}  // namespace
}  // namespace mle::llm
