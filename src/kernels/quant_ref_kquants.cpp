// Reference quantizers of the K-quant formats: Q4_K, Q5_K, Q6_K (llama.cpp's
// quantize_row_*_ref, without an importance matrix) and the Q8_K activation format. Each
// super-block of 256 runs a scale search per group, quantizes the group scales to 6 or 8 bits
// against one F16 super-scale, then re-derives every code from the scales actually stored.
#include <algorithm>
#include <cmath>
#include <cstring>

#include "kernels/float_convert.h"
#include "kernels/quant_ref.h"
#include "kernels/quant_search.h"

namespace mle::kernels {
namespace {

using internal::NearestInt;

constexpr int kGroups32 = kQK_K / 32;  // groups per super-block in Q4_K / Q5_K
constexpr int kGroups16 = kQK_K / 16;  // groups per super-block in Q6_K
constexpr float kGroupMaxEps = 1e-15f;

// Q4_K / Q5_K step 1: per group of 32, the (scale, min) search of make_qkx2_quants with
// weights rms(group) + |x|. Returns the largest scale and min in *max_scale / *max_min.
// The group's codes go to L (kept where a stored scale ends up 0).
void SearchGroupScales(const float* x, int nmax, float rmin, float rdelta, int nstep, uint8_t* L,
                       float* scales, float* mins, float* max_scale, float* max_min) {
  uint8_t Laux[32];
  float weights[32];
  *max_scale = 0;
  *max_min = 0;
  for (int j = 0; j < kGroups32; ++j) {
    const float* xg = x + 32 * j;
    float sum_x2 = 0;
    for (int l = 0; l < 32; ++l) sum_x2 += xg[l] * xg[l];
    const float av_x = std::sqrt(sum_x2 / 32);
    for (int l = 0; l < 32; ++l) weights[l] = av_x + std::fabs(xg[l]);
    scales[j] = internal::MakeQkx2Quants(32, nmax, xg, weights, L + 32 * j, &mins[j], Laux, rmin,
                                         rdelta, nstep, false);
    *max_scale = std::max(*max_scale, scales[j]);
    *max_min = std::max(*max_min, mins[j]);
  }
}

// Q4_K / Q5_K step 2: 6-bit scales and mins against d = max_scale/63, dmin = max_min/63.
void StoreSuperScales(const float* scales, const float* mins, float max_scale, float max_min,
                      uint16_t* d, uint16_t* dmin, uint8_t* packed) {
  const float inv_scale = max_scale > 0 ? 63.f / max_scale : 0.f;
  const float inv_min = max_min > 0 ? 63.f / max_min : 0.f;
  uint8_t ls[kGroups32], lm[kGroups32];
  for (int j = 0; j < kGroups32; ++j) {
    ls[j] = std::min<uint8_t>(63, static_cast<uint8_t>(NearestInt(inv_scale * scales[j])));
    lm[j] = std::min<uint8_t>(63, static_cast<uint8_t>(NearestInt(inv_min * mins[j])));
  }
  internal::PackScaleMinK4(ls, lm, packed);
  *d = Fp32ToFp16(max_scale / 63.f);
  *dmin = Fp32ToFp16(max_min / 63.f);
}

// Q4_K / Q5_K step 3: codes 0..nmax from the stored (F16 and 6-bit) scales and mins.
void RequantizeGroups(const float* x, int nmax, uint16_t d16, uint16_t dmin16,
                      const uint8_t* packed, uint8_t* L) {
  for (int j = 0; j < kGroups32; ++j) {
    uint8_t sc, m;
    internal::GetScaleMinK4(j, packed, &sc, &m);
    const float d = Fp16ToFp32(d16) * sc;
    if (!d) continue;  // keeps the codes of the search, as ggml does
    const float dm = Fp16ToFp32(dmin16) * m;
    for (int ii = 0; ii < 32; ++ii) {
      const int l = NearestInt((x[32 * j + ii] + dm) / d);
      L[32 * j + ii] = static_cast<uint8_t>(std::max(0, std::min(nmax, l)));
    }
  }
}

// Runs the three steps for one super-block of Q4_K (nmax 15) or Q5_K (nmax 31).
void QuantizeSuperBlockK(const float* x, int nmax, float rmin, float rdelta, int nstep, uint16_t* d,
                         uint16_t* dmin, uint8_t* packed, uint8_t* L) {
  float scales[kGroups32], mins[kGroups32], max_scale, max_min;
  SearchGroupScales(x, nmax, rmin, rdelta, nstep, L, scales, mins, &max_scale, &max_min);
  StoreSuperScales(scales, mins, max_scale, max_min, d, dmin, packed);
  RequantizeGroups(x, nmax, *d, *dmin, packed, L);
}

// Per 128 elements: the low nibbles of elements l, l+64 share ql[l], those of l+32, l+96
// share ql[l+32]; the four 2-bit high parts of l, l+32, l+64, l+96 share qh[l].
void PackQ6_K(const int8_t* L, BlockQ6_K* y) {
  uint8_t* ql = y->ql;
  uint8_t* qh = y->qh;
  for (int j = 0; j < kQK_K; j += 128, ql += 64, qh += 32) {
    for (int l = 0; l < 32; ++l) {
      const uint8_t q1 = L[j + l], q2 = L[j + l + 32], q3 = L[j + l + 64], q4 = L[j + l + 96];
      ql[l] = (q1 & 0xF) | ((q3 & 0xF) << 4);
      ql[l + 32] = (q2 & 0xF) | ((q4 & 0xF) << 4);
      qh[l] = (q1 >> 4) | ((q2 >> 4) << 2) | ((q3 >> 4) << 4) | ((q4 >> 4) << 6);
    }
  }
}

// Q6_K: 8-bit group scales against d = max_scale / -128: the scale of largest magnitude maps
// to -128, one of the opposite sign may reach +128 and is clamped to 127.
void QuantizeSuperBlockQ6_K(const float* x, BlockQ6_K* y) {
  int8_t L[kQK_K];
  float scales[kGroups16];
  float max_scale = 0, max_abs_scale = 0;
  for (int ib = 0; ib < kGroups16; ++ib) {
    scales[ib] = internal::MakeQxQuants(16, 32, x + 16 * ib, L + 16 * ib, nullptr);
    if (std::fabs(scales[ib]) > max_abs_scale) {
      max_abs_scale = std::fabs(scales[ib]);
      max_scale = scales[ib];
    }
  }
  if (max_abs_scale < kGroupMaxEps) {
    std::memset(y, 0, sizeof(*y));
    return;
  }
  const float iscale = -128.f / max_scale;
  y->d = Fp32ToFp16(1 / iscale);
  for (int ib = 0; ib < kGroups16; ++ib) {
    y->scales[ib] = static_cast<int8_t>(std::min(127, NearestInt(iscale * scales[ib])));
  }
  for (int j = 0; j < kGroups16; ++j) {
    const float d = Fp16ToFp32(y->d) * y->scales[j];
    if (!d) continue;
    for (int ii = 0; ii < 16; ++ii) {
      const int l = NearestInt(x[16 * j + ii] / d);
      L[16 * j + ii] = static_cast<int8_t>(std::max(-32, std::min(31, l)) + 32);
    }
  }
  PackQ6_K(L, y);
}

}  // namespace

void QuantizeRowQ4_K(const float* x, BlockQ4_K* y, int64_t n) {
  uint8_t L[kQK_K];
  for (int64_t i = 0; i < n / kQK_K; ++i, x += kQK_K) {
    QuantizeSuperBlockK(x, 15, -1.f, 0.1f, 20, &y[i].d, &y[i].dmin, y[i].scales, L);
    // Elements l and l+32 of each 64 share a byte (low / high nibble).
    uint8_t* q = y[i].qs;
    for (int j = 0; j < kQK_K; j += 64, q += 32) {
      for (int l = 0; l < 32; ++l) q[l] = L[j + l] | (L[j + l + 32] << 4);
    }
  }
}

void QuantizeRowQ5_K(const float* x, BlockQ5_K* y, int64_t n) {
  uint8_t L[kQK_K];
  for (int64_t i = 0; i < n / kQK_K; ++i, x += kQK_K) {
    QuantizeSuperBlockK(x, 31, -0.5f, 0.1f, 15, &y[i].d, &y[i].dmin, y[i].scales, L);
    // As Q4_K for the low nibbles; the fifth bits of the 64-element chunk c go to bits 2c
    // (element l) and 2c+1 (element l+32) of qh[l].
    std::memset(y[i].qh, 0, sizeof(y[i].qh));
    uint8_t* ql = y[i].qs;
    uint8_t m1 = 1, m2 = 2;
    for (int j = 0; j < kQK_K; j += 64, ql += 32, m1 <<= 2, m2 <<= 2) {
      for (int l = 0; l < 32; ++l) {
        const uint8_t l1 = L[j + l], l2 = L[j + l + 32];
        if (l1 > 15) y[i].qh[l] |= m1;
        if (l2 > 15) y[i].qh[l] |= m2;
        ql[l] = (l1 & 0xF) | ((l2 & 0xF) << 4);
      }
    }
  }
}

void QuantizeRowQ6_K(const float* x, BlockQ6_K* y, int64_t n) {
  for (int64_t i = 0; i < n / kQK_K; ++i, x += kQK_K) QuantizeSuperBlockQ6_K(x, &y[i]);
}

void QuantizeRowQ8_K(const float* x, BlockQ8_K* y, int64_t n) {
  for (int64_t i = 0; i < n / kQK_K; ++i, x += kQK_K) {
    float max = 0, amax = 0;
    for (int j = 0; j < kQK_K; ++j) {
      if (std::fabs(x[j]) > amax) {
        amax = std::fabs(x[j]);
        max = x[j];
      }
    }
    if (!amax) {
      std::memset(&y[i], 0, sizeof(y[i]));
      continue;
    }
    const float iscale = -127.f / max;
    for (int j = 0; j < kQK_K; ++j) {
      y[i].qs[j] = static_cast<int8_t>(std::min(127, NearestInt(iscale * x[j])));
    }
    for (int j = 0; j < kQK_K / 16; ++j) {
      int sum = 0;
      for (int ii = 0; ii < 16; ++ii) sum += y[i].qs[j * 16 + ii];
      y[i].bsums[j] = static_cast<int16_t>(sum);
    }
    y[i].d = 1 / iscale;
  }
}

}  // namespace mle::kernels
