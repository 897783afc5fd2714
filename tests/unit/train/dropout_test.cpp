// train::Dropout: the keep rate and scale of torch::dropout, masks fixed by the seed and by the
// default generator's saved state, independent of the thread count, and gradients through the
// mask.
#include "train/dropout.h"

#include <ATen/CPUGeneratorImpl.h>
#include <ATen/Parallel.h>
#include <gtest/gtest.h>

namespace mle::train {
namespace {

TEST(DropoutTest, KeepsOneMinusPScaledAndZeroesTheRest) {
  torch::manual_seed(1);
  for (double p : {0.1, 0.25, 0.5, 0.9}) {
    auto x = torch::ones({1000, 1001});  // odd element count: the last word's second half
    auto y = Dropout(x, p, true);
    const double scale = 1.0 / (1.0 - p);
    auto kept = y.ne(0);
    // Every element is 0 or exactly the scale.
    EXPECT_TRUE(torch::equal(y, kept.to(torch::kFloat32) * static_cast<float>(scale))) << p;
    const double rate = kept.to(torch::kFloat64).mean().item<double>();
    // 1M Bernoulli draws: the standard error is below 0.0005.
    EXPECT_NEAR(rate, 1.0 - p, 0.003) << p;
    // The expectation is preserved, as with torch::dropout.
    EXPECT_NEAR(y.to(torch::kFloat64).mean().item<double>(), 1.0, 0.02) << p;
  }
}

TEST(DropoutTest, IdentityInEvaluationAndAtZero) {
  auto x = torch::randn({7, 9});
  EXPECT_TRUE(torch::equal(Dropout(x, 0.5, false), x));
  EXPECT_TRUE(torch::equal(Dropout(x, 0.0, true), x));
}

TEST(DropoutTest, RejectsProbabilitiesOutsideZeroToOne) {
  auto x = torch::ones({4});
  EXPECT_THROW(Dropout(x, 1.0, true), c10::Error);
  EXPECT_THROW(Dropout(x, -0.1, true), c10::Error);
}

TEST(DropoutTest, SeedAndGeneratorStateFixTheMask) {
  auto x = torch::ones({64, 300});
  torch::manual_seed(42);
  auto a = Dropout(x, 0.5, true);
  auto b = Dropout(x, 0.5, true);
  EXPECT_FALSE(torch::equal(a, b));  // each call draws a new mask
  torch::manual_seed(42);
  EXPECT_TRUE(torch::equal(Dropout(x, 0.5, true), a));
  // A checkpoint restores the generator's state; the masks after it repeat.
  auto gen = at::detail::getDefaultCPUGenerator();
  auto state = gen.get_state();
  auto c = Dropout(x, 0.5, true);
  gen.set_state(state);
  EXPECT_TRUE(torch::equal(Dropout(x, 0.5, true), c));
}

TEST(DropoutTest, IndependentOfThreadCount) {
  auto x = torch::ones({256, 1000});
  const int before = at::get_num_threads();
  at::set_num_threads(1);
  torch::manual_seed(7);
  auto one = Dropout(x, 0.3, true);
  at::set_num_threads(2);
  torch::manual_seed(7);
  auto two = Dropout(x, 0.3, true);
  at::set_num_threads(before);
  EXPECT_TRUE(torch::equal(one, two));
}

TEST(DropoutTest, GradientFlowsThroughTheMask) {
  torch::manual_seed(3);
  auto x = torch::randn({32, 50}, torch::requires_grad());
  auto y = Dropout(x, 0.25, true);
  y.sum().backward();
  // d(sum)/dx is the mask itself: the scale where kept, 0 where dropped.
  auto expected = y.detach().ne(0).to(torch::kFloat32) / 0.75f;
  EXPECT_TRUE(torch::allclose(x.grad(), expected));
}

TEST(DropoutTest, OtherTypesUseTorchDropout) {
  auto x = torch::ones({100, 100}, torch::kFloat64);
  auto y = Dropout(x, 0.5, true);
  EXPECT_EQ(y.scalar_type(), torch::kFloat64);
  EXPECT_TRUE(torch::equal(y.ne(0), y.eq(2.0)));
}

}  // namespace
}  // namespace mle::train
