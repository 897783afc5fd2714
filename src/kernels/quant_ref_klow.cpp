// Reference quantizers of the low-bit K-quants, Q2_K and Q3_K (llama.cpp's
// quantize_row_q2_K_ref / quantize_row_q3_K_ref, no importance matrix): 16 groups of 16 per
// super-block, a per-group scale search, 4- or 6-bit group scales against one F16 super-scale,
// then codes re-derived from the stored scales.
#include <algorithm>
#include <cmath>
#include <cstring>

#include "kernels/float_convert.h"
#include "kernels/quant_ref.h"
#include "kernels/quant_search.h"

namespace mle::kernels {
namespace {

using internal::NearestInt;

constexpr int kGroups16 = kQK_K / 16;

// 2-bit codes L (0..3) of 256 elements into 64 bytes: per 128 elements, element l, l+32, l+64,
// l+96 share byte l (bits 0-1, 2-3, 4-5, 6-7).
void Pack2Bit(const uint8_t* L, uint8_t* qs) {
  for (int j = 0; j < kQK_K; j += 128) {
    for (int l = 0; l < 32; ++l) {
      qs[j / 4 + l] = L[j + l] | (L[j + l + 32] << 2) | (L[j + l + 64] << 4) | (L[j + l + 96] << 6);
    }
  }
}

// Q2_K: group scales and mins as 4-bit multiples of d = max_scale/15 and dmin = max_min/15.
void StoreQ2_KScales(const float* scales, const float* mins, BlockQ2_K* y) {
  constexpr float kQ4Scale = 15.f;
  // Only positive maxima are used (ggml starts both at 0).
  const float max_scale = *std::max_element(scales, scales + kGroups16);
  const float max_min = *std::max_element(mins, mins + kGroups16);
  std::memset(y->scales, 0, sizeof(y->scales));
  y->d = Fp32ToFp16(0.f);
  y->dmin = Fp32ToFp16(0.f);
  if (max_scale > 0) {
    const float iscale = kQ4Scale / max_scale;
    for (int j = 0; j < kGroups16; ++j) {
      y->scales[j] = static_cast<uint8_t>(NearestInt(iscale * scales[j]));
    }
    y->d = Fp32ToFp16(max_scale / kQ4Scale);
  }
  if (max_min > 0) {
    const float iscale = kQ4Scale / max_min;
    for (int j = 0; j < kGroups16; ++j) {
      y->scales[j] |= static_cast<uint8_t>(NearestInt(iscale * mins[j]) << 4);
    }
    y->dmin = Fp32ToFp16(max_min / kQ4Scale);
  }
}

void QuantizeSuperBlockQ2_K(const float* x, BlockQ2_K* y) {
  uint8_t L[kQK_K], Laux[16];
  float weights[16], mins[kGroups16], scales[kGroups16];
  for (int j = 0; j < kGroups16; ++j) {
    for (int l = 0; l < 16; ++l) weights[l] = std::fabs(x[16 * j + l]);
    scales[j] = internal::MakeQkx2Quants(16, 3, x + 16 * j, weights, L + 16 * j, &mins[j], Laux,
                                         -0.5f, 0.1f, 15, true);
  }
  StoreQ2_KScales(scales, mins, y);
  for (int j = 0; j < kGroups16; ++j) {
    const float d = Fp16ToFp32(y->d) * (y->scales[j] & 0xF);
    if (!d) continue;
    const float dm = Fp16ToFp32(y->dmin) * (y->scales[j] >> 4);
    for (int ii = 0; ii < 16; ++ii) {
      const int l = NearestInt((x[16 * j + ii] + dm) / d);
      L[16 * j + ii] = static_cast<uint8_t>(std::max(0, std::min(3, l)));
    }
  }
  Pack2Bit(L, y->qs);
}

// Q3_K scales: 6-bit (scale + 32), low nibbles in bytes 0..7 (groups j and j+8 share a byte),
// the top two bits of group j at bits 2*(j/4) of byte 8 + j%4.
void PackQ3_KScales(const int* codes, uint8_t* packed) {
  std::memset(packed, 0, 12);
  for (int j = 0; j < kGroups16; ++j) {
    const int l = codes[j];
    if (j < 8) {
      packed[j] = l & 0xF;
    } else {
      packed[j - 8] |= (l & 0xF) << 4;
    }
    packed[j % 4 + 8] |= (l >> 4) << (2 * (j / 4));
  }
}

int UnpackQ3_KScale(const uint8_t* packed, int j) {
  const int low = j < 8 ? packed[j] & 0xF : packed[j - 8] >> 4;
  return (low | (((packed[8 + j % 4] >> (2 * (j / 4))) & 3) << 4)) - 32;
}

// Codes L (0..7, i.e. q + 4) into 2 low bits (Pack2Bit) and the high bit: element j sets bit
// j / 32 of hmask[j % 32].
void PackQ3_KCodes(uint8_t* L, BlockQ3_K* y) {
  std::memset(y->hmask, 0, sizeof(y->hmask));
  for (int j = 0; j < kQK_K; ++j) {
    if (L[j] > 3) {
      y->hmask[j % 32] |= static_cast<uint8_t>(1 << (j / 32));
      L[j] -= 4;
    }
  }
  Pack2Bit(L, y->qs);
}

void QuantizeSuperBlockQ3_K(const float* x, BlockQ3_K* y) {
  int8_t L[kQK_K];
  float scales[kGroups16], max_scale = 0, amax = 0;
  for (int j = 0; j < kGroups16; ++j) {
    scales[j] = internal::MakeQ3Quants(16, 4, x + 16 * j, L + 16 * j);
    if (std::fabs(scales[j]) > amax) {
      amax = std::fabs(scales[j]);
      max_scale = scales[j];
    }
  }
  int codes[kGroups16] = {};
  y->d = Fp32ToFp16(0.f);
  if (max_scale) {
    const float iscale = -32.f / max_scale;
    for (int j = 0; j < kGroups16; ++j) {
      const int8_t l = static_cast<int8_t>(NearestInt(iscale * scales[j]));
      codes[j] = std::max<int>(-32, std::min<int>(31, l)) + 32;
    }
    y->d = Fp32ToFp16(1 / iscale);
  }
  PackQ3_KScales(codes, y->scales);
  for (int j = 0; j < kGroups16; ++j) {
    const float d = Fp16ToFp32(y->d) * UnpackQ3_KScale(y->scales, j);
    if (!d) continue;
    for (int ii = 0; ii < 16; ++ii) {
      const int l = NearestInt(x[16 * j + ii] / d);
      L[16 * j + ii] = static_cast<int8_t>(std::max(-4, std::min(3, l)) + 4);
    }
  }
  PackQ3_KCodes(reinterpret_cast<uint8_t*>(L), y);
}

}  // namespace

void QuantizeRowQ2_K(const float* x, BlockQ2_K* y, int64_t n) {
  for (int64_t i = 0; i < n / kQK_K; ++i, x += kQK_K) QuantizeSuperBlockQ2_K(x, &y[i]);
}

void QuantizeRowQ3_K(const float* x, BlockQ3_K* y, int64_t n) {
  for (int64_t i = 0; i < n / kQK_K; ++i, x += kQK_K) QuantizeSuperBlockQ3_K(x, &y[i]);
}

}  // namespace mle::kernels
