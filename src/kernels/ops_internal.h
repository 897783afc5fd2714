// The inner loops of ops.cpp that have an AVX2/FMA/F16C version (ops_avx2.cpp). ops.cpp picks
// one table at first use from mle::GetCpuInfo(); the scalar table is always available.
#pragma once

#include <cstdint>

namespace mle::kernels::internal {

// GELU, tanh form: 0.5 x (1 + tanh(kSqrt2OverPi (x + kGeluCoef x^3))).
inline constexpr float kSqrt2OverPi = 0.79788456080286535588f;
inline constexpr float kGeluCoef = 0.044715f;

struct OpsTable {
  float (*dot_f32)(const float* a, const float* b, int64_t n);
  float (*dot_f16)(const float* a, const uint16_t* b, int64_t n);
  void (*axpy_f32)(float a, const float* x, float* y, int64_t n);  // y += a x
  void (*axpy_f16)(float a, const uint16_t* x, float* y, int64_t n);
  float (*sum_sq)(const float* x, int64_t n);
  // Attention over n_rows rows of `dim` elements (row stride dim): out[j] = scale * q . k[j];
  // y = sum_j w[j] v[j] (y overwritten).
  void (*dots_f32)(const float* q, const float* k, int64_t n_rows, int64_t dim, float scale,
                   float* out);
  void (*dots_f16)(const float* q, const uint16_t* k, int64_t n_rows, int64_t dim, float scale,
                   float* out);
  void (*wsum_f32)(const float* w, const float* v, int64_t n_rows, int64_t dim, float* y);
  void (*wsum_f16)(const float* w, const uint16_t* v, int64_t n_rows, int64_t dim, float* y);
  // x[i] = exp(x[i] - shift) for all i; returns the sum (the softmax's inner loop).
  float (*exp_shift_sum)(float* x, int64_t n, float shift);
  void (*f32_to_f16)(const float* x, uint16_t* y, int64_t n);
  // out[i] = silu(gate[i]) * up[i], or gelu_tanh(gate[i]) * up[i]; out may be gate or up (the
  // FFN activation).
  void (*swiglu)(const float* gate, const float* up, float* out, int64_t n);
  void (*geglu)(const float* gate, const float* up, float* out, int64_t n);
};

const OpsTable& ScalarOps();
// nullptr when the CPU or the compiler lacks AVX2/FMA/F16C.
const OpsTable* Avx2Ops();

}  // namespace mle::kernels::internal
