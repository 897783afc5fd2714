// Element-wise kernels and attention (see ops.h). The loops that dominate (dot products and
// axpy over KV rows, sums of squares) go through an OpsTable: AVX2 when the CPU has it, scalar
// otherwise. Transcendentals use the C library (expf, tanhf, sinf/cosf), except on AVX2 the exp
// of the softmax and of the gated activations (SwiGLU, GeGLU), a polynomial within 2 ulp of expf
// (ops_avx2.cpp).
#include "kernels/ops.h"

#include <algorithm>
#include <atomic>
#include <cmath>

#include "kernels/float_convert.h"
#include "kernels/ops_internal.h"

namespace mle::kernels {
namespace {

using internal::kGeluCoef;
using internal::kSqrt2OverPi;

inline float SiluOne(float x) {
  return x / (1.0f + std::exp(-x));
}
inline float GeluOne(float x) {
  return 0.5f * x * (1.0f + std::tanh(kSqrt2OverPi * x * (1.0f + kGeluCoef * x * x)));
}

}  // namespace

namespace internal {
namespace {

float DotF32(const float* a, const float* b, int64_t n) {
  float s = 0.0f;
  for (int64_t i = 0; i < n; ++i) s += a[i] * b[i];
  return s;
}
float DotF16(const float* a, const uint16_t* b, int64_t n) {
  float s = 0.0f;
  for (int64_t i = 0; i < n; ++i) s += a[i] * Fp16ToFp32(b[i]);
  return s;
}
void AxpyF32(float a, const float* x, float* y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) y[i] += a * x[i];
}
void AxpyF16(float a, const uint16_t* x, float* y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) y[i] += a * Fp16ToFp32(x[i]);
}
float SumSq(const float* x, int64_t n) {
  float s = 0.0f;
  for (int64_t i = 0; i < n; ++i) s += x[i] * x[i];
  return s;
}
void F32ToF16(const float* x, uint16_t* y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) y[i] = Fp32ToFp16(x[i]);
}
float ExpShiftSum(float* x, int64_t n, float shift) {
  float sum = 0.0f;
  for (int64_t i = 0; i < n; ++i) sum += (x[i] = std::exp(x[i] - shift));
  return sum;
}
void SwiGluRows(const float* gate, const float* up, float* out, int64_t n) {
  for (int64_t i = 0; i < n; ++i) out[i] = SiluOne(gate[i]) * up[i];
}
void GeGluRows(const float* gate, const float* up, float* out, int64_t n) {
  for (int64_t i = 0; i < n; ++i) out[i] = GeluOne(gate[i]) * up[i];
}
template <typename T, float (*kDot)(const float*, const T*, int64_t)>
void Dots(const float* q, const T* k, int64_t n_rows, int64_t dim, float scale, float* out) {
  for (int64_t j = 0; j < n_rows; ++j) out[j] = scale * kDot(q, k + j * dim, dim);
}
template <typename T, void (*kAxpy)(float, const T*, float*, int64_t)>
void WeightedSum(const float* w, const T* v, int64_t n_rows, int64_t dim, float* y) {
  std::fill(y, y + dim, 0.0f);
  for (int64_t j = 0; j < n_rows; ++j) kAxpy(w[j], v + j * dim, y, dim);
}

}  // namespace

const OpsTable& ScalarOps() {
  static const OpsTable table{DotF32,
                              DotF16,
                              AxpyF32,
                              AxpyF16,
                              SumSq,
                              Dots<float, DotF32>,
                              Dots<uint16_t, DotF16>,
                              WeightedSum<float, AxpyF32>,
                              WeightedSum<uint16_t, AxpyF16>,
                              ExpShiftSum,
                              F32ToF16,
                              SwiGluRows,
                              GeGluRows};
  return table;
}

}  // namespace internal

namespace {

const internal::OpsTable& Ops() {
  static const internal::OpsTable& table =
      internal::Avx2Ops() ? *internal::Avx2Ops() : internal::ScalarOps();
  return table;
}

}  // namespace

void RmsNorm(const float* x, const float* w, float* y, int64_t n, float eps) {
  const float mean = Ops().sum_sq(x, n) / static_cast<float>(n);
  const float s = 1.0f / std::sqrt(mean + eps);
  if (w) {
    for (int64_t i = 0; i < n; ++i) y[i] = x[i] * s * w[i];
  } else {
    for (int64_t i = 0; i < n; ++i) y[i] = x[i] * s;
  }
}

void AddInPlace(float* y, const float* x, int64_t n) {
  for (int64_t i = 0; i < n; ++i) y[i] += x[i];
}

void Scale(float* y, float s, int64_t n) {
  for (int64_t i = 0; i < n; ++i) y[i] *= s;
}

void Softmax(float* x, int64_t n) {
  float mx = x[0];
  for (int64_t i = 1; i < n; ++i) mx = std::max(mx, x[i]);
  const float inv = 1.0f / Ops().exp_shift_sum(x, n, mx);
  for (int64_t i = 0; i < n; ++i) x[i] *= inv;
}

void Silu(const float* x, float* y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) y[i] = SiluOne(x[i]);
}

void GeluTanh(const float* x, float* y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) y[i] = GeluOne(x[i]);
}

void SwiGlu(const float* gate, const float* up, float* out, int64_t n) {
  Ops().swiglu(gate, up, out, n);
}

void GeGluTanh(const float* gate, const float* up, float* out, int64_t n) {
  Ops().geglu(gate, up, out, n);
}

// theta advances by a float multiply per pair, the way ggml's rope_ext computes it, so the
// angles match llama.cpp's to the last bit of the powf.
void RopeAngles(int32_t pos, int n_rot, float freq_base, float freq_scale,
                const float* freq_factors, float mscale, float* cos_sin) {
  const float theta_scale = std::pow(freq_base, -2.0f / static_cast<float>(n_rot));
  float theta = static_cast<float>(pos);
  for (int i = 0; i < n_rot / 2; ++i) {
    const float ff = freq_factors ? freq_factors[i] : 1.0f;
    const float t = freq_scale * (theta / ff);
    cos_sin[2 * i] = std::cos(t) * mscale;
    cos_sin[2 * i + 1] = std::sin(t) * mscale;
    theta *= theta_scale;
  }
}

void RopeApply(float* x, int n_rot, const float* cos_sin, bool neox) {
  const int half = n_rot / 2;
  for (int i = 0; i < half; ++i) {
    const float c = cos_sin[2 * i], s = cos_sin[2 * i + 1];
    float* a = neox ? x + i : x + 2 * i;
    float* b = neox ? x + i + half : x + 2 * i + 1;
    const float x0 = *a, x1 = *b;
    *a = x0 * c - x1 * s;
    *b = x0 * s + x1 * c;
  }
}

void F32ToF16Row(const float* x, uint16_t* y, int64_t n) {
  Ops().f32_to_f16(x, y, n);
}

void AttendHead(const float* q, const void* k, const void* v, bool kv_f16, int64_t j0, int64_t j1,
                int head_dim, float scale, float* scores, float* out) {
  const auto& ops = Ops();
  const int64_t n = j1 - j0;
  if (kv_f16) {
    ops.dots_f16(q, static_cast<const uint16_t*>(k) + j0 * head_dim, n, head_dim, scale, scores);
  } else {
    ops.dots_f32(q, static_cast<const float*>(k) + j0 * head_dim, n, head_dim, scale, scores);
  }
  Softmax(scores, n);
  if (kv_f16) {
    ops.wsum_f16(scores, static_cast<const uint16_t*>(v) + j0 * head_dim, n, head_dim, out);
  } else {
    ops.wsum_f32(scores, static_cast<const float*>(v) + j0 * head_dim, n, head_dim, out);
  }
}

// Work items are (token, query head) pairs handed out by an atomic counter: with causal masks
// the cost of an item grows with its position, so a static split would leave threads idle.
void Attention(ThreadPool& pool, const AttentionArgs& a, float* scratch,
               int64_t scratch_per_thread) {
  const int64_t n_items = a.n_tokens * a.n_head;
  const int group = a.n_head / a.n_head_kv;
  const size_t elem = a.kv_f16 ? sizeof(uint16_t) : sizeof(float);
  std::atomic<int64_t> next{0};
  auto work = [&](int ith, int /*nth*/) {
    float* scores = scratch + ith * scratch_per_thread;
    for (;;) {
      const int64_t item = next.fetch_add(1, std::memory_order_relaxed);
      if (item >= n_items) break;
      const int64_t t = item / a.n_head;
      const int h = static_cast<int>(item % a.n_head);
      const int kvh = h / group;
      const int32_t p = a.pos[t];
      const int64_t j0 = a.window > 0 ? std::max<int64_t>(0, p - a.window + 1) : 0;
      const auto* k = static_cast<const uint8_t*>(a.k_base[t]) + kvh * a.kv_head_stride * elem;
      const auto* v = static_cast<const uint8_t*>(a.v_base[t]) + kvh * a.kv_head_stride * elem;
      AttendHead(a.q + t * a.q_stride + h * a.head_dim, k, v, a.kv_f16, j0, p + 1, a.head_dim,
                 a.scale, scores, a.out + t * a.out_stride + h * a.head_dim);
    }
  };
  // Small jobs (one token over a short context) cost less than waking the pool.
  int64_t n_keys = 0;
  for (int64_t t = 0; t < a.n_tokens && n_keys < (1 << 20); ++t) n_keys += a.pos[t] + 1;
  if (n_items == 1 || pool.size() == 1 || n_keys * a.n_head * a.head_dim < (1 << 15)) {
    work(0, 1);
  } else {
    pool.Run([&work](int ith, int nth) { work(ith, nth); });  // fits std::function's buffer
  }
}

}  // namespace mle::kernels
