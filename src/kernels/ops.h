// Element-wise kernels and attention for the LLM forward pass: RMSNorm, RoPE (adjacent-pair and
// NeoX), softmax, SiLU / GELU (tanh) and their gated forms, and causal attention of query
// heads over a KV cache (grouped-query heads, optional sliding window). Each has a scalar path
// and, where it pays, an AVX2/FMA/F16C path chosen once at run time from mle::GetCpuInfo().
// All functions are thread-safe; Attention() spreads its work over a ThreadPool.
#pragma once

#include <cstdint>

#include "core/thread_pool.h"

namespace mle::kernels {

// y[i] = x[i] / sqrt(mean(x^2) + eps) * (w ? w[i] : 1). x and y may alias.
void RmsNorm(const float* x, const float* w, float* y, int64_t n, float eps);

// y[i] += x[i].
void AddInPlace(float* y, const float* x, int64_t n);
// y[i] += b[i] (bias; same as AddInPlace, named for the call site).
inline void AddBias(float* y, const float* b, int64_t n) {
  AddInPlace(y, b, n);
}
// y[i] *= s.
void Scale(float* y, float s, int64_t n);

// In-place softmax over n values (max-subtracted, exact expf). REQUIRES n >= 1.
void Softmax(float* x, int64_t n);

// y = x * sigmoid(x).
void Silu(const float* x, float* y, int64_t n);
// y = 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))).
void GeluTanh(const float* x, float* y, int64_t n);
// Gated feed-forward activations: out[i] = act(gate[i]) * up[i]. out may alias gate.
void SwiGlu(const float* gate, const float* up, float* out, int64_t n);
void GeGluTanh(const float* gate, const float* up, float* out, int64_t n);

// RoPE angles for one position: cos_sin[2i] = cos(theta_i) * mscale, cos_sin[2i+1] =
// sin(theta_i) * mscale for i < n_rot / 2, where theta_i = pos * freq_scale *
// freq_base^(-2i / n_rot) / freq_factors[i] (freq_factors may be null: all 1), as ggml's
// rope_ext computes it without YaRN extrapolation. REQUIRES n_rot even.
void RopeAngles(int32_t pos, int n_rot, float freq_base, float freq_scale,
                const float* freq_factors, float mscale, float* cos_sin);
// Rotates the first n_rot values of one head vector x in place by the angles of RopeAngles.
// neox = false: pairs (x[2i], x[2i+1]) (llama); true: pairs (x[i], x[i + n_rot/2]) (NeoX).
void RopeApply(float* x, int n_rot, const float* cos_sin, bool neox);

// Converts n floats to F16 / from F16 (round to nearest even).
void F32ToF16Row(const float* x, uint16_t* y, int64_t n);

// Attention of a batch of query tokens over a KV cache.
//   q:   [T, NH, HS] floats (row stride q_stride), out: [T, NH, HS] (row stride out_stride).
//   Token t sees keys j in [max(0, pos[t] - window + 1), pos[t]] (window 0: [0, pos[t]]) of
//   its sequence, whose cache for this layer is k_base[t] / v_base[t]: [NKV][n_ctx][HS] of
//   F16 (kv_f16) or F32, kv_head_stride elements between heads. Query head h reads KV head
//   h / (NH / NKV). Scores are scaled by `scale` before the softmax.
struct AttentionArgs {
  const float* q = nullptr;
  int64_t q_stride = 0;
  float* out = nullptr;
  int64_t out_stride = 0;
  int64_t n_tokens = 0;
  int n_head = 0;
  int n_head_kv = 0;
  int head_dim = 0;
  float scale = 1.0f;
  int32_t window = 0;
  const int32_t* pos = nullptr;
  const void* const* k_base = nullptr;
  const void* const* v_base = nullptr;
  int64_t kv_head_stride = 0;
  bool kv_f16 = true;
};
// `scratch` holds pool.size() * scratch_per_thread floats; scratch_per_thread >= the largest
// number of keys one token sees (n_ctx is always enough).
void Attention(ThreadPool& pool, const AttentionArgs& a, float* scratch,
               int64_t scratch_per_thread);

// One query head (HS floats) over keys/values [j0, j1) of one KV head: out = softmax(scale *
// q.K^T) V. `scores` holds j1 - j0 floats. The building block of Attention; exposed for tests.
void AttendHead(const float* q, const void* k, const void* v, bool kv_f16, int64_t j0, int64_t j1,
                int head_dim, float scale, float* scores, float* out);

}  // namespace mle::kernels
