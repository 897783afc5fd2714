// kernels/ops against straightforward double-precision references: RMSNorm, RoPE (both styles,
// frequency scale and factors), softmax, SiLU, GELU (tanh) and the gated forms, and attention
// over an F16 / F32 cache with grouped-query heads, causal limits and a sliding window.
#include <gtest/gtest.h>

#include <cfloat>
#include <cmath>
#include <random>
#include <vector>

#include "kernels/float_convert.h"
#include "kernels/ops.h"
#include "kernels/ops_internal.h"

namespace mle::kernels {
namespace {

std::vector<float> Random(size_t n, uint32_t seed, float scale = 1.0f) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> d(0.0f, scale);
  std::vector<float> v(n);
  for (float& x : v) x = d(rng);
  return v;
}

void ExpectClose(const std::vector<double>& ref, const float* got, double tol) {
  for (size_t i = 0; i < ref.size(); ++i) {
    ASSERT_NEAR(got[i], ref[i], tol * (1.0 + std::fabs(ref[i]))) << "index " << i;
  }
}

TEST(OpsTest, RmsNorm) {
  for (int n : {1, 7, 64, 257}) {
    const auto x = Random(n, n), w = Random(n, n + 1);
    double ss = 0;
    for (float v : x) ss += double(v) * v;
    const double s = 1.0 / std::sqrt(ss / n + 1e-5);
    std::vector<double> ref(n);
    for (int i = 0; i < n; ++i) ref[i] = x[i] * s * w[i];
    std::vector<float> y(n);
    RmsNorm(x.data(), w.data(), y.data(), n, 1e-5f);
    ExpectClose(ref, y.data(), 1e-5);
    y = x;
    RmsNorm(y.data(), nullptr, y.data(), n, 1e-5f);  // in place, no weight
    for (int i = 0; i < n; ++i) ref[i] = x[i] * s;
    ExpectClose(ref, y.data(), 1e-5);
  }
}

TEST(OpsTest, RopeBothStylesWithScaleAndFactors) {
  const int hs = 64, n_rot = 48;  // the last 16 dimensions pass through
  const auto x = Random(hs, 3);
  const auto ff = [] {
    std::vector<float> f(24);
    for (int i = 0; i < 24; ++i) f[i] = 1.0f + 0.25f * i;
    return f;
  }();
  for (bool neox : {false, true}) {
    for (const float* factors : {static_cast<const float*>(nullptr), ff.data()}) {
      const int pos = 37;
      const double base = 10000.0, scale = 0.5, mscale = 1.1;
      std::vector<float> cs(n_rot);
      RopeAngles(pos, n_rot, float(base), float(scale), factors, float(mscale), cs.data());
      std::vector<float> y = x;
      RopeApply(y.data(), n_rot, cs.data(), neox);
      std::vector<double> ref(x.begin(), x.end());
      for (int i = 0; i < n_rot / 2; ++i) {
        const double theta =
            pos * scale * std::pow(base, -2.0 * i / n_rot) / (factors ? factors[i] : 1.0);
        const int a = neox ? i : 2 * i, b = neox ? i + n_rot / 2 : 2 * i + 1;
        ref[a] = mscale * (x[a] * std::cos(theta) - x[b] * std::sin(theta));
        ref[b] = mscale * (x[a] * std::sin(theta) + x[b] * std::cos(theta));
      }
      ExpectClose(ref, y.data(), 2e-5);
    }
  }
}

TEST(OpsTest, SoftmaxExpMatchesExpfOverItsRange) {
  // Every table's exp: within 2 ulp of the double-precision exp where the result is a normal
  // float, 0 below ln(FLT_MIN) and for -inf, finite up to ln(FLT_MAX). Odd lengths: tails.
  std::vector<const internal::OpsTable*> tables = {&internal::ScalarOps()};
  if (internal::Avx2Ops()) tables.push_back(internal::Avx2Ops());
  std::vector<float> x;
  for (float v = -100.0f; v < 88.7f; v += 0.0137f) x.push_back(v);
  x.push_back(-INFINITY);
  x.push_back(88.72f);
  for (const internal::OpsTable* t : tables) {
    std::vector<float> y = x;
    t->exp_shift_sum(y.data(), static_cast<int64_t>(y.size()), 0.0f);
    for (size_t i = 0; i < x.size(); ++i) {
      const double ref = std::exp(double(x[i]));
      if (ref < FLT_MIN) {
        EXPECT_LE(y[i], FLT_MIN) << x[i];
      } else {
        ASSERT_NEAR(y[i], ref, 2.5e-7 * ref) << "x=" << x[i];
      }
    }
    std::vector<float> neg(x.begin(), x.begin() + 7001);  // -100..-4: the softmax's range
    double ref_sum = 0;
    for (float v : neg) ref_sum += std::exp(double(v) - 1.0);
    const float sum = t->exp_shift_sum(neg.data(), static_cast<int64_t>(neg.size()), 1.0f);
    EXPECT_NEAR(sum, ref_sum, 1e-5 * ref_sum);
    std::vector<float> shifted = {1.0f, 2.0f, 3.0f};  // n < 8: only the tail path
    EXPECT_NEAR(t->exp_shift_sum(shifted.data(), 3, 3.0f), 1 + std::exp(-1.0) + std::exp(-2.0),
                1e-6);
  }
}

TEST(OpsTest, GatedActivationsOfEveryTableMatchTheReference) {
  // SwiGLU and GeGLU (tanh GELU) against double precision across the whole float range of gates
  // (the exp saturates far out on both sides), odd lengths for the tails, and in place.
  // SiLU: within 4e-7 relative. GELU: the scalar form 0.5 x (1 + tanh y) cancels where
  // tanh y is near -1, so it is held to 1e-6 relative plus 1e-7 of |x u|.
  std::vector<const internal::OpsTable*> tables = {&internal::ScalarOps()};
  if (internal::Avx2Ops()) tables.push_back(internal::Avx2Ops());
  std::vector<float> gate;
  for (float v = -120.0f; v < 120.0f; v += 0.0173f) gate.push_back(v);
  gate.push_back(1e30f);
  gate.push_back(-1e30f);
  const auto up = Random(gate.size(), 9, 2.0f);
  const double k = std::sqrt(2.0 / M_PI);
  for (const internal::OpsTable* t : tables) {
    for (bool gelu : {false, true}) {
      const auto fn = gelu ? t->geglu : t->swiglu;
      for (int64_t n : {int64_t(gate.size()), int64_t(5), int64_t(13)}) {
        std::vector<float> out(n);
        fn(gate.data(), up.data(), out.data(), n);
        std::vector<float> inplace(gate.begin(), gate.begin() + n);
        fn(inplace.data(), up.data(), inplace.data(), n);
        for (int64_t i = 0; i < n; ++i) {
          const double g = gate[i];
          const double ref =
              gelu ? 0.5 * g * (1.0 + std::tanh(k * (g + 0.044715 * g * g * g))) * up[i]
                   : g / (1.0 + std::exp(-g)) * up[i];
          const double tol = gelu ? 1e-6 * std::fabs(ref) + 1e-7 * std::fabs(g * up[i])
                                  : 4e-7 * std::fabs(ref) + 1e-30;
          ASSERT_NEAR(out[i], ref, tol) << (gelu ? "gelu" : "silu") << " gate " << g;
          ASSERT_EQ(out[i], inplace[i]) << "gate " << g;
        }
      }
    }
  }
}

TEST(OpsTest, SoftmaxAndActivations) {
  const int n = 300;
  const auto x = Random(n, 5, 4.0f);
  std::vector<float> y = x;
  Softmax(y.data(), n);
  double mx = -1e30, sum = 0;
  for (float v : x) mx = std::max(mx, double(v));
  for (float v : x) sum += std::exp(v - mx);
  std::vector<double> ref(n);
  for (int i = 0; i < n; ++i) ref[i] = std::exp(x[i] - mx) / sum;
  ExpectClose(ref, y.data(), 1e-5);

  const auto up = Random(n, 6);
  std::vector<double> silu(n), gelu(n), swiglu(n), geglu(n);
  for (int i = 0; i < n; ++i) {
    const double v = x[i];
    silu[i] = v / (1.0 + std::exp(-v));
    gelu[i] = 0.5 * v * (1.0 + std::tanh(std::sqrt(2.0 / M_PI) * (v + 0.044715 * v * v * v)));
    swiglu[i] = silu[i] * up[i];
    geglu[i] = gelu[i] * up[i];
  }
  Silu(x.data(), y.data(), n);
  ExpectClose(silu, y.data(), 1e-5);
  GeluTanh(x.data(), y.data(), n);
  ExpectClose(gelu, y.data(), 1e-5);
  SwiGlu(x.data(), up.data(), y.data(), n);
  ExpectClose(swiglu, y.data(), 1e-5);
  GeGluTanh(x.data(), up.data(), y.data(), n);
  ExpectClose(geglu, y.data(), 1e-5);
}

TEST(OpsTest, F16RowConversionRoundsToNearestEven) {
  const auto x = Random(37, 8, 100.0f);
  std::vector<uint16_t> h(x.size());
  F32ToF16Row(x.data(), h.data(), static_cast<int64_t>(x.size()));
  for (size_t i = 0; i < x.size(); ++i) EXPECT_EQ(h[i], Fp32ToFp16(x[i])) << i;
}

// Attention of T tokens (positions pos0..pos0+T-1 of one sequence) with GQA, against doubles.
// HS 40: 8-column steps only; 64 and 100: the 64-column register blocks, 8-column steps and
// a scalar tail. Rows of keys go four at a time, then one by one (31..35 keys seen).
void CheckAttention(bool f16, int32_t window, int n_threads, int HS = 40) {
  const int NH = 6, NKV = 2, n_ctx = 50, T = 5, pos0 = 30;
  const float scale = 0.3f;
  const auto q = Random(T * NH * HS, 11);
  auto kf = Random(NKV * n_ctx * HS, 12), vf = Random(NKV * n_ctx * HS, 13);
  std::vector<uint16_t> kh(kf.size()), vh(vf.size());
  for (size_t i = 0; i < kf.size(); ++i) {
    kh[i] = Fp32ToFp16(kf[i]);
    vh[i] = Fp32ToFp16(vf[i]);
    if (f16) kf[i] = Fp16ToFp32(kh[i]), vf[i] = Fp16ToFp32(vh[i]);  // reference sees the rounding
  }
  std::vector<int32_t> pos(T);
  std::vector<const void*> kb(T, f16 ? static_cast<const void*>(kh.data()) : kf.data());
  std::vector<const void*> vb(T, f16 ? static_cast<const void*>(vh.data()) : vf.data());
  for (int t = 0; t < T; ++t) pos[t] = pos0 + t;
  std::vector<float> out(T * NH * HS), scratch(n_threads * n_ctx);
  AttentionArgs a;
  a.q = q.data();
  a.q_stride = NH * HS;
  a.out = out.data();
  a.out_stride = NH * HS;
  a.n_tokens = T;
  a.n_head = NH;
  a.n_head_kv = NKV;
  a.head_dim = HS;
  a.scale = scale;
  a.window = window;
  a.pos = pos.data();
  a.k_base = kb.data();
  a.v_base = vb.data();
  a.kv_head_stride = int64_t(n_ctx) * HS;
  a.kv_f16 = f16;
  ThreadPool pool(n_threads);
  Attention(pool, a, scratch.data(), n_ctx);
  for (int t = 0; t < T; ++t) {
    for (int h = 0; h < NH; ++h) {
      const int kvh = h / (NH / NKV);
      const int j0 = window > 0 ? std::max(0, pos[t] - window + 1) : 0;
      std::vector<double> s;
      double mx = -1e300;
      for (int j = j0; j <= pos[t]; ++j) {
        double d = 0;
        for (int i = 0; i < HS; ++i)
          d += double(q[(t * NH + h) * HS + i]) * kf[(kvh * n_ctx + j) * HS + i];
        s.push_back(d * scale);
        mx = std::max(mx, s.back());
      }
      double sum = 0;
      for (double& v : s) sum += (v = std::exp(v - mx));
      std::vector<double> ref(HS, 0.0);
      for (int j = j0; j <= pos[t]; ++j) {
        for (int i = 0; i < HS; ++i) ref[i] += s[j - j0] / sum * vf[(kvh * n_ctx + j) * HS + i];
      }
      ExpectClose(ref, out.data() + (t * NH + h) * HS, 1e-4);
    }
  }
}

TEST(OpsTest, AttentionF16CacheGqaCausal) {
  CheckAttention(true, 0, 2);
}
TEST(OpsTest, AttentionF32CacheOneThread) {
  CheckAttention(false, 0, 1);
}
TEST(OpsTest, AttentionSlidingWindow) {
  CheckAttention(true, 8, 3);
}
TEST(OpsTest, AttentionHeadSizes) {
  for (int hs : {64, 100, 128}) {
    SCOPED_TRACE(hs);
    CheckAttention(true, 0, 2, hs);
    CheckAttention(false, 0, 2, hs);
  }
}

}  // namespace
}  // namespace mle::kernels
