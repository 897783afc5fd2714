// FusedAdam against LibTorch's own Adam and AdamW: the same trajectory within float rounding,
// and results independent of the thread count.
#include "train/fused_adam.h"

#include <ATen/Parallel.h>
#include <gtest/gtest.h>

namespace mle::train {
namespace {

// Runs `steps` optimizer steps on a fixed quadratic-ish loss and returns the parameter.
template <typename Opt, typename... Args>
torch::Tensor RunSteps(int steps, Args&&... args) {
  torch::manual_seed(3);
  auto p = torch::randn({1000, 37}, torch::requires_grad());
  auto target = torch::randn({1000, 37});
  Opt opt({p}, std::forward<Args>(args)...);
  for (int i = 0; i < steps; ++i) {
    opt.zero_grad();
    auto loss = (p - target).pow(2).mul(torch::linspace(0.1, 3, 37)).sum();
    loss.backward();
    opt.step();
  }
  return p.detach().clone();
}

TEST(FusedAdamTest, MatchesTorchAdamWithL2) {
  auto opts = torch::optim::AdamOptions(1e-2).weight_decay(0.01);
  auto ref = RunSteps<torch::optim::Adam>(50, opts);
  auto ours = RunSteps<FusedAdam>(50, opts, false);
  EXPECT_TRUE(torch::allclose(ours, ref, 1e-4, 1e-5))
      << (ours - ref).abs().max().template item<float>();
}

TEST(FusedAdamTest, MatchesTorchAdamW) {
  auto ref = RunSteps<torch::optim::AdamW>(50, torch::optim::AdamWOptions(1e-2).weight_decay(0.1));
  auto ours = RunSteps<FusedAdam>(50, torch::optim::AdamOptions(1e-2).weight_decay(0.1), true);
  EXPECT_TRUE(torch::allclose(ours, ref, 1e-4, 1e-5))
      << (ours - ref).abs().max().template item<float>();
}

TEST(FusedAdamTest, IndependentOfThreadCount) {
  auto opts = torch::optim::AdamOptions(1e-2);
  at::set_num_threads(1);
  auto one = RunSteps<FusedAdam>(20, opts, false);
  at::set_num_threads(2);
  auto two = RunSteps<FusedAdam>(20, opts, false);
  EXPECT_TRUE(torch::equal(one, two));
}

TEST(FusedAdamTest, ClearGradientsDropsThem) {
  torch::nn::Linear lin(3, 2);
  lin->forward(torch::ones({1, 3})).sum().backward();
  ASSERT_TRUE(lin->weight.grad().defined());
  ClearGradients(*lin);
  EXPECT_FALSE(lin->weight.grad().defined());
}

}  // namespace
}  // namespace mle::train
