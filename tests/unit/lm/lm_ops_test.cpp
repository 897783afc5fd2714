// The fused decoder kernels against the LibTorch op chains they replace: same values and the
// same gradients (through autograd) for every input, in fp32 and from bf16 inputs; and the
// model's shapes, parameter count and export names.
#include <gtest/gtest.h>

#include "lm/lm_model.h"
#include "lm/lm_ops.h"

namespace mle::lm {
namespace {

void ExpectClose(const torch::Tensor& a, const torch::Tensor& b, double tol, const char* what) {
  ASSERT_EQ(a.sizes(), b.sizes()) << what;
  const double diff = (a.to(torch::kFloat64) - b.to(torch::kFloat64)).abs().max().item<double>();
  EXPECT_LT(diff, tol) << what;
}

TEST(LmOps, RmsNormMatchesReferenceWithGradients) {
  torch::manual_seed(1);
  for (int64_t d : {8, 37, 256}) {
    torch::Tensor x = torch::randn({3, 5, d}, torch::requires_grad());
    torch::Tensor w = (torch::rand({d}) + 0.5).requires_grad_();
    torch::Tensor g = torch::randn({3, 5, d});
    torch::Tensor y1 = FusedRmsNorm(x, w, 1e-5);
    auto d1 = torch::autograd::grad({y1}, {x, w}, {g});
    torch::Tensor y2 = ReferenceRmsNorm(x, w, 1e-5);
    auto d2 = torch::autograd::grad({y2}, {x, w}, {g});
    ExpectClose(y1, y2, 1e-5, "forward");
    ExpectClose(d1[0], d2[0], 1e-4, "dx");
    ExpectClose(d1[1], d2[1], 1e-3, "dw");
  }
}

TEST(LmOps, RopeMatchesReferenceWithGradientsFromStridedInput) {
  torch::manual_seed(2);
  const int64_t b = 2, t = 7, h = 3, hd = 8;
  torch::Tensor cos = torch::rand({16, hd / 2}), sin = torch::rand({16, hd / 2});
  // A strided view, as the q part of the fused QKV projection is.
  torch::Tensor qkv = torch::randn({b, t, h * hd + 5}, torch::requires_grad());
  torch::Tensor x = qkv.narrow(-1, 0, h * hd).view({b, t, h, hd});
  torch::Tensor g = torch::randn({b, h, t, hd});
  torch::Tensor y1 = FusedRopeToHeads(x, cos, sin);
  auto d1 = torch::autograd::grad({y1}, {qkv}, {g});
  torch::Tensor y2 = ReferenceRopeToHeads(x, cos, sin);
  auto d2 = torch::autograd::grad({y2}, {qkv}, {g});
  EXPECT_TRUE(y1.is_contiguous());
  ExpectClose(y1, y2, 1e-6, "forward");
  ExpectClose(d1[0], d2[0], 1e-6, "dx");
}

TEST(LmOps, Bf16InputsAreComputedInFloat) {
  torch::manual_seed(3);
  torch::Tensor x = torch::randn({4, 64}).to(torch::kBFloat16).requires_grad_();
  torch::Tensor w = torch::ones({64}, torch::requires_grad());
  torch::Tensor y = FusedRmsNorm(x, w, 1e-5);
  EXPECT_EQ(y.scalar_type(), torch::kFloat32);
  ExpectClose(y, ReferenceRmsNorm(x.to(torch::kFloat32), w, 1e-5), 1e-5, "bf16 forward");
  y.sum().backward();
  EXPECT_EQ(x.grad().scalar_type(), torch::kBFloat16);
}

TEST(LmModel, ShapesParametersAndExportNames) {
  for (bool tied : {true, false}) {
    LmConfig c;
    c.tied_embeddings = tied;
    c.vocab_size = 100;
    c.dim = 32;
    c.n_layers = 2;
    c.n_heads = 4;
    c.n_kv_heads = 2;
    c.context = 16;
    torch::manual_seed(4);
    GptModel m(c);
    int64_t n = 0;
    for (const auto& p : m->parameters()) n += p.numel();
    EXPECT_EQ(n, ParameterCount(c));
    torch::Tensor logits = m->forward(torch::randint(0, 100, {2, 9}));
    EXPECT_EQ(logits.sizes(), (std::vector<int64_t>{2, 9, 100}));
    std::vector<std::string> names;
    for (const NamedTensor& t : m->ExportTensors()) names.push_back(t.name);
    std::vector<std::string> want = LlamaTensorNames(c);
    std::sort(names.begin(), names.end());
    std::sort(want.begin(), want.end());
    EXPECT_EQ(names, want);
    // Causality: the logits of a prefix do not depend on what follows it.
    torch::NoGradGuard ng;
    torch::Tensor ids = torch::randint(0, 100, {1, 10});
    torch::Tensor full = m->forward(ids), prefix = m->forward(ids.narrow(1, 0, 6));
    ExpectClose(full.narrow(1, 0, 6), prefix, 1e-5, "causal");
    EXPECT_EQ(std::count(names.begin(), names.end(), "output.weight"), tied ? 0 : 1);
  }
}

TEST(LmConfig, SizesAndErrors) {
  auto tiny = LmConfigFromSize("tiny", 4096);
  ASSERT_TRUE(tiny.ok());
  EXPECT_EQ(tiny->dim, 128);
  auto small = LmConfigFromSize("small", 4096);
  ASSERT_TRUE(small.ok());
  EXPECT_NEAR(ParameterCount(*small) / 1e6, 4.26, 0.02);  // the benchmark's 4.2M shape
  auto j = LmConfigFromSize(R"({"dim":48,"n_heads":6,"n_kv_heads":2,"context":32})", 300);
  ASSERT_TRUE(j.ok());
  EXPECT_EQ(j->hidden(), 128);
  for (const char* bad : {R"({"dim":30,"n_heads":4})", R"({"n_kv_heads":3})", R"({"dims":4})",
                          R"({"dim":"x"})", "huge", "{not json"}) {
    auto r = LmConfigFromSize(bad, 300);
    EXPECT_FALSE(r.ok()) << bad;
  }
  EXPECT_GT(EstimateTrainingBytes(*small, 16), uint64_t{16} * ParameterCount(*small));
}

}  // namespace
}  // namespace mle::lm
