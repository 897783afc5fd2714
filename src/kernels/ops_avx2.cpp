// AVX2/FMA/F16C versions of the ops inner loops (dot products and axpy against F32 and F16
// rows, sum of squares, F32 -> F16). Compiled with function-level target attributes instead of
// per-file flags, so the rest of the build stays portable; used only when the CPU has them.
#include "kernels/ops_internal.h"

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>

#include "core/cpu_info.h"
#include "kernels/float_convert.h"

#define MLE_AVX2 __attribute__((target("avx2,fma,f16c")))

namespace mle::kernels::internal {
namespace {

MLE_AVX2 inline float Hsum(__m256 v) {
  __m128 lo = _mm256_castps256_ps128(v);
  __m128 hi = _mm256_extractf128_ps(v, 1);
  lo = _mm_add_ps(lo, hi);
  lo = _mm_add_ps(lo, _mm_movehl_ps(lo, lo));
  lo = _mm_add_ss(lo, _mm_movehdup_ps(lo));
  return _mm_cvtss_f32(lo);
}

MLE_AVX2 inline __m256 LoadF16(const uint16_t* p) {
  return _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
}

MLE_AVX2 float DotF32(const float* a, const float* b, int64_t n) {
  __m256 s0 = _mm256_setzero_ps(), s1 = _mm256_setzero_ps();
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) {
    s0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i), s0);
    s1 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + 8), _mm256_loadu_ps(b + i + 8), s1);
  }
  for (; i + 8 <= n; i += 8)
    s0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i), s0);
  float s = Hsum(_mm256_add_ps(s0, s1));
  for (; i < n; ++i) s += a[i] * b[i];
  return s;
}

MLE_AVX2 float DotF16(const float* a, const uint16_t* b, int64_t n) {
  __m256 s0 = _mm256_setzero_ps(), s1 = _mm256_setzero_ps();
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) {
    s0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), LoadF16(b + i), s0);
    s1 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + 8), LoadF16(b + i + 8), s1);
  }
  for (; i + 8 <= n; i += 8) s0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), LoadF16(b + i), s0);
  float s = Hsum(_mm256_add_ps(s0, s1));
  for (; i < n; ++i) s += a[i] * Fp16ToFp32(b[i]);
  return s;
}

MLE_AVX2 void AxpyF32(float a, const float* x, float* y, int64_t n) {
  const __m256 va = _mm256_set1_ps(a);
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    _mm256_storeu_ps(y + i, _mm256_fmadd_ps(va, _mm256_loadu_ps(x + i), _mm256_loadu_ps(y + i)));
  }
  for (; i < n; ++i) y[i] += a * x[i];
}

MLE_AVX2 void AxpyF16(float a, const uint16_t* x, float* y, int64_t n) {
  const __m256 va = _mm256_set1_ps(a);
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    _mm256_storeu_ps(y + i, _mm256_fmadd_ps(va, LoadF16(x + i), _mm256_loadu_ps(y + i)));
  }
  for (; i < n; ++i) y[i] += a * Fp16ToFp32(x[i]);
}

MLE_AVX2 float SumSq(const float* x, int64_t n) {
  __m256 s0 = _mm256_setzero_ps(), s1 = _mm256_setzero_ps();
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) {
    const __m256 a = _mm256_loadu_ps(x + i), b = _mm256_loadu_ps(x + i + 8);
    s0 = _mm256_fmadd_ps(a, a, s0);
    s1 = _mm256_fmadd_ps(b, b, s1);
  }
  for (; i + 8 <= n; i += 8) {
    const __m256 a = _mm256_loadu_ps(x + i);
    s0 = _mm256_fmadd_ps(a, a, s0);
  }
  float s = Hsum(_mm256_add_ps(s0, s1));
  for (; i < n; ++i) s += x[i] * x[i];
  return s;
}

MLE_AVX2 void F32ToF16(const float* x, uint16_t* y, int64_t n) {
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m128i h = _mm256_cvtps_ph(_mm256_loadu_ps(x + i), _MM_FROUND_TO_NEAREST_INT);
    _mm_storeu_si128(reinterpret_cast<__m128i*>(y + i), h);
  }
  for (; i < n; ++i) y[i] = Fp32ToFp16(x[i]);
}

MLE_AVX2 inline __m256 Load8(const float* p) {
  return _mm256_loadu_ps(p);
}
MLE_AVX2 inline __m256 Load8(const uint16_t* p) {
  return LoadF16(p);
}
MLE_AVX2 inline float Elem(const float* p) {
  return *p;
}
MLE_AVX2 inline float Elem(const uint16_t* p) {
  return Fp16ToFp32(*p);
}

// Four rows at a time: four accumulators, then one transposing reduction for all four sums.
template <typename T>
MLE_AVX2 void Dots(const float* q, const T* k, int64_t n_rows, int64_t dim, float scale,
                   float* out) {
  const int64_t d8 = dim & ~int64_t{7};
  int64_t j = 0;
  for (; j + 4 <= n_rows; j += 4) {
    const T* r = k + j * dim;
    __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
    for (int64_t i = 0; i < d8; i += 8) {
      const __m256 x = _mm256_loadu_ps(q + i);
      a0 = _mm256_fmadd_ps(x, Load8(r + i), a0);
      a1 = _mm256_fmadd_ps(x, Load8(r + dim + i), a1);
      a2 = _mm256_fmadd_ps(x, Load8(r + 2 * dim + i), a2);
      a3 = _mm256_fmadd_ps(x, Load8(r + 3 * dim + i), a3);
    }
    const __m256 h = _mm256_hadd_ps(_mm256_hadd_ps(a0, a1), _mm256_hadd_ps(a2, a3));
    __m128 s4 = _mm_add_ps(_mm256_castps256_ps128(h), _mm256_extractf128_ps(h, 1));
    alignas(16) float s[4];
    _mm_store_ps(s, s4);
    for (int u = 0; u < 4; ++u) {
      for (int64_t i = d8; i < dim; ++i) s[u] += q[i] * Elem(r + u * dim + i);
      out[j + u] = scale * s[u];
    }
  }
  for (; j < n_rows; ++j) {
    const T* r = k + j * dim;
    __m256 a = _mm256_setzero_ps();
    for (int64_t i = 0; i < d8; i += 8)
      a = _mm256_fmadd_ps(_mm256_loadu_ps(q + i), Load8(r + i), a);
    float s = Hsum(a);
    for (int64_t i = d8; i < dim; ++i) s += q[i] * Elem(r + i);
    out[j] = scale * s;
  }
}

// y = sum_j w[j] v[j], 64 columns at a time held in registers across all rows (no round trip
// of y through memory per row).
template <typename T>
MLE_AVX2 void WeightedSum(const float* w, const T* v, int64_t n_rows, int64_t dim, float* y) {
  constexpr int kCols = 64;
  int64_t c = 0;
  for (; c + kCols <= dim; c += kCols) {
    __m256 acc[kCols / 8];
    for (auto& a : acc) a = _mm256_setzero_ps();
    for (int64_t j = 0; j < n_rows; ++j) {
      const __m256 wj = _mm256_set1_ps(w[j]);
      const T* r = v + j * dim + c;
      for (int u = 0; u < kCols / 8; ++u) acc[u] = _mm256_fmadd_ps(wj, Load8(r + 8 * u), acc[u]);
    }
    for (int u = 0; u < kCols / 8; ++u) _mm256_storeu_ps(y + c + 8 * u, acc[u]);
  }
  for (; c + 8 <= dim; c += 8) {
    __m256 acc = _mm256_setzero_ps();
    for (int64_t j = 0; j < n_rows; ++j) {
      acc = _mm256_fmadd_ps(_mm256_set1_ps(w[j]), Load8(v + j * dim + c), acc);
    }
    _mm256_storeu_ps(y + c, acc);
  }
  for (; c < dim; ++c) {
    float s = 0.0f;
    for (int64_t j = 0; j < n_rows; ++j) s += w[j] * Elem(v + j * dim + c);
    y[c] = s;
  }
}

// exp(x) for 8 floats: x = n ln2 + r with |r| <= ln2 / 2 (ln2 split in two parts so that r is
// exact), e^r by its degree-7 Taylor polynomial (error < 2^-24 on that range), times 2^n built
// in the exponent bits. Below ln(FLT_MIN) the result is 0 (as expf's is, up to denormals).
MLE_AVX2 inline __m256 Exp8(__m256 x) {
  const __m256 lo = _mm256_set1_ps(-87.33654f);
  const __m256 under = _mm256_cmp_ps(x, lo, _CMP_LT_OQ);
  x = _mm256_min_ps(_mm256_max_ps(x, lo), _mm256_set1_ps(88.72283f));
  const __m256 n = _mm256_round_ps(_mm256_mul_ps(x, _mm256_set1_ps(1.44269504088896341f)),
                                   _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m256 r = _mm256_fnmadd_ps(n, _mm256_set1_ps(0.693359375f), x);
  r = _mm256_fnmadd_ps(n, _mm256_set1_ps(-2.12194440e-4f), r);
  __m256 p = _mm256_set1_ps(1.0f / 5040);
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f / 720));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f / 120));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f / 24));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f / 6));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(0.5f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f));
  // 2^n as n + 127 in the exponent; n = 128 (x near the top) is split as 2 * 2^127.
  const __m256i ni = _mm256_cvtps_epi32(n);
  const __m256i big = _mm256_cmpgt_epi32(ni, _mm256_set1_epi32(127));
  const __m256i e = _mm256_slli_epi32(
      _mm256_add_epi32(_mm256_sub_epi32(ni, _mm256_and_si256(big, _mm256_set1_epi32(1))),
                       _mm256_set1_epi32(127)),
      23);
  p = _mm256_mul_ps(p, _mm256_castsi256_ps(e));
  p = _mm256_blendv_ps(p, _mm256_add_ps(p, p), _mm256_castsi256_ps(big));
  return _mm256_andnot_ps(under, p);
}

MLE_AVX2 float ExpShiftSum(float* x, int64_t n, float shift) {
  const __m256 s = _mm256_set1_ps(shift);
  __m256 acc = _mm256_setzero_ps();
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m256 e = Exp8(_mm256_sub_ps(_mm256_loadu_ps(x + i), s));
    _mm256_storeu_ps(x + i, e);
    acc = _mm256_add_ps(acc, e);
  }
  float sum = Hsum(acc);
  if (i < n) {  // the tail through the same polynomial, so every element rounds alike
    alignas(32) float t[8] = {};
    for (int64_t k = i; k < n; ++k) t[k - i] = x[k] - shift;
    _mm256_store_ps(t, Exp8(_mm256_load_ps(t)));
    for (int64_t k = i; k < n; ++k) sum += (x[k] = t[k - i]);
  }
  return sum;
}

// x / (1 + e^-z) * u, with e^-z from Exp8: 0 for z > 87.3; where e^-z overflows (z < -88.72)
// the quotient is 0, as expf's infinity makes it. SiLU: z = x. GELU (tanh form):
// 0.5 x (1 + tanh y) = x / (1 + e^-2y), y = sqrt(2/pi) (x + 0.044715 x^3), without tanh's
// cancellation near -1.
MLE_AVX2 inline __m256 Gated8(__m256 x, __m256 z, __m256 u) {
  const __m256 e = Exp8(_mm256_sub_ps(_mm256_setzero_ps(), z));
  const __m256 s = _mm256_div_ps(x, _mm256_add_ps(_mm256_set1_ps(1.0f), e));
  const __m256 over = _mm256_cmp_ps(z, _mm256_set1_ps(-88.72283f), _CMP_LT_OQ);
  return _mm256_mul_ps(_mm256_andnot_ps(over, s), u);
}

struct SiluZ {
  MLE_AVX2 static __m256 Z(__m256 x) { return x; }
};
struct GeluZ {
  MLE_AVX2 static __m256 Z(__m256 x) {
    const __m256 x3 = _mm256_mul_ps(_mm256_mul_ps(x, x), x);
    const __m256 y = _mm256_fmadd_ps(_mm256_set1_ps(kGeluCoef), x3, x);
    return _mm256_mul_ps(_mm256_set1_ps(2.0f * kSqrt2OverPi), y);
  }
};

template <typename Act>
MLE_AVX2 void GatedRows(const float* gate, const float* up, float* out, int64_t n) {
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m256 g = _mm256_loadu_ps(gate + i);
    _mm256_storeu_ps(out + i, Gated8(g, Act::Z(g), _mm256_loadu_ps(up + i)));
  }
  if (i < n) {  // the tail through the same code, so every element rounds alike
    alignas(32) float g[8] = {}, u[8] = {};
    for (int64_t k = i; k < n; ++k) g[k - i] = gate[k], u[k - i] = up[k];
    const __m256 gv = _mm256_load_ps(g);
    _mm256_store_ps(g, Gated8(gv, Act::Z(gv), _mm256_load_ps(u)));
    for (int64_t k = i; k < n; ++k) out[k] = g[k - i];
  }
}

}  // namespace

const OpsTable* Avx2Ops() {
  static const OpsTable table{DotF32,
                              DotF16,
                              AxpyF32,
                              AxpyF16,
                              SumSq,
                              Dots<float>,
                              Dots<uint16_t>,
                              WeightedSum<float>,
                              WeightedSum<uint16_t>,
                              ExpShiftSum,
                              F32ToF16,
                              GatedRows<SiluZ>,
                              GatedRows<GeluZ>};
  const CpuInfo& cpu = GetCpuInfo();
  return cpu.avx2 && cpu.fma && cpu.f16c ? &table : nullptr;
}

}  // namespace mle::kernels::internal

#else

namespace mle::kernels::internal {
const OpsTable* Avx2Ops() {
  return nullptr;
}
}  // namespace mle::kernels::internal

#endif
