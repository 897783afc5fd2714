// Reference rows of the 32-element block formats: Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, Q8_1.
// The quantizers follow ggml-quants.c's quantize_row_*_ref: note the two rounding rules there,
// (int8_t)(v + 8.5f) truncation for the 4/5-bit codes and roundf (ties away from zero) for Q8.
#include <algorithm>
#include <cfloat>
#include <cmath>
#include <cstring>

#include "kernels/float_convert.h"
#include "kernels/quant_ref.h"

namespace mle::kernels {
namespace {

// The element of largest magnitude, sign kept (the first one on ties).
float SignedAbsMax(const float* x, int n) {
  float amax = 0.0f;
  float max = 0.0f;
  for (int j = 0; j < n; ++j) {
    if (amax < std::fabs(x[j])) {
      amax = std::fabs(x[j]);
      max = x[j];
    }
  }
  return max;
}

void MinMax(const float* x, int n, float* min, float* max) {
  *min = FLT_MAX;
  *max = -FLT_MAX;
  for (int j = 0; j < n; ++j) {
    if (x[j] < *min) *min = x[j];
    if (x[j] > *max) *max = x[j];
  }
}

// 5-bit codes: low nibbles into qs (j and j+16 share a byte), bit 4 of code j into bit j of qh.
void Pack5Bit(const uint8_t* codes, uint8_t* qs, uint8_t* qh_bytes) {
  uint32_t qh = 0;
  for (int j = 0; j < 16; ++j) {
    qs[j] = (codes[j] & 0x0F) | ((codes[j + 16] & 0x0F) << 4);
    qh |= ((codes[j] & 0x10u) >> 4) << j;
    qh |= ((codes[j + 16] & 0x10u) >> 4) << (j + 16);
  }
  std::memcpy(qh_bytes, &qh, sizeof(qh));
}

// Inverse of Pack5Bit: codes 0..31.
void Unpack5Bit(const uint8_t* qs, const uint8_t* qh_bytes, int* codes) {
  uint32_t qh;
  std::memcpy(&qh, qh_bytes, sizeof(qh));
  for (int j = 0; j < 16; ++j) {
    codes[j] = (qs[j] & 0x0F) | (((qh >> j) << 4) & 0x10);
    codes[j + 16] = (qs[j] >> 4) | ((qh >> (j + 12)) & 0x10);
  }
}

}  // namespace

void DequantizeRowQ4_0(const BlockQ4_0* x, float* y, int64_t n) {
  for (int64_t i = 0; i < n / kQK4_0; ++i, y += kQK4_0) {
    const float d = Fp16ToFp32(x[i].d);
    for (int j = 0; j < kQK4_0 / 2; ++j) {
      y[j] = ((x[i].qs[j] & 0x0F) - 8) * d;
      y[j + kQK4_0 / 2] = ((x[i].qs[j] >> 4) - 8) * d;
    }
  }
}

void DequantizeRowQ4_1(const BlockQ4_1* x, float* y, int64_t n) {
  for (int64_t i = 0; i < n / kQK4_1; ++i, y += kQK4_1) {
    const float d = Fp16ToFp32(x[i].d);
    const float m = Fp16ToFp32(x[i].m);
    for (int j = 0; j < kQK4_1 / 2; ++j) {
      y[j] = (x[i].qs[j] & 0x0F) * d + m;
      y[j + kQK4_1 / 2] = (x[i].qs[j] >> 4) * d + m;
    }
  }
}

void DequantizeRowQ5_0(const BlockQ5_0* x, float* y, int64_t n) {
  int codes[kQK5_0];
  for (int64_t i = 0; i < n / kQK5_0; ++i, y += kQK5_0) {
    const float d = Fp16ToFp32(x[i].d);
    Unpack5Bit(x[i].qs, x[i].qh, codes);
    for (int j = 0; j < kQK5_0; ++j) y[j] = (codes[j] - 16) * d;
  }
}

void DequantizeRowQ5_1(const BlockQ5_1* x, float* y, int64_t n) {
  int codes[kQK5_1];
  for (int64_t i = 0; i < n / kQK5_1; ++i, y += kQK5_1) {
    const float d = Fp16ToFp32(x[i].d);
    const float m = Fp16ToFp32(x[i].m);
    Unpack5Bit(x[i].qs, x[i].qh, codes);
    for (int j = 0; j < kQK5_1; ++j) y[j] = codes[j] * d + m;
  }
}

void DequantizeRowQ8_0(const BlockQ8_0* x, float* y, int64_t n) {
  for (int64_t i = 0; i < n / kQK8_0; ++i, y += kQK8_0) {
    const float d = Fp16ToFp32(x[i].d);
    for (int j = 0; j < kQK8_0; ++j) y[j] = x[i].qs[j] * d;
  }
}

void DequantizeRowQ8_1(const BlockQ8_1* x, float* y, int64_t n) {
  for (int64_t i = 0; i < n / kQK8_1; ++i, y += kQK8_1) {
    const float d = Fp16ToFp32(x[i].d);
    for (int j = 0; j < kQK8_1; ++j) y[j] = x[i].qs[j] * d;
  }
}

void QuantizeRowQ4_0(const float* x, BlockQ4_0* y, int64_t n) {
  for (int64_t i = 0; i < n / kQK4_0; ++i, x += kQK4_0) {
    const float d = SignedAbsMax(x, kQK4_0) / -8;
    const float id = d ? 1.0f / d : 0.0f;
    y[i].d = Fp32ToFp16(d);
    for (int j = 0; j < kQK4_0 / 2; ++j) {
      // Truncation after +8.5 rounds half up; the extreme -8 side maps to 16 and is clamped.
      const uint8_t lo = std::min(15, static_cast<int>(static_cast<int8_t>(x[j] * id + 8.5f)));
      const uint8_t hi =
          std::min(15, static_cast<int>(static_cast<int8_t>(x[j + kQK4_0 / 2] * id + 8.5f)));
      y[i].qs[j] = lo | (hi << 4);
    }
  }
}

void QuantizeRowQ4_1(const float* x, BlockQ4_1* y, int64_t n) {
  for (int64_t i = 0; i < n / kQK4_1; ++i, x += kQK4_1) {
    float min, max;
    MinMax(x, kQK4_1, &min, &max);
    const float d = (max - min) / ((1 << 4) - 1);
    const float id = d ? 1.0f / d : 0.0f;
    y[i].d = Fp32ToFp16(d);
    y[i].m = Fp32ToFp16(min);
    for (int j = 0; j < kQK4_1 / 2; ++j) {
      const float v0 = (x[j] - min) * id;
      const float v1 = (x[j + kQK4_1 / 2] - min) * id;
      const uint8_t lo = std::min(15, static_cast<int>(static_cast<int8_t>(v0 + 0.5f)));
      const uint8_t hi = std::min(15, static_cast<int>(static_cast<int8_t>(v1 + 0.5f)));
      y[i].qs[j] = lo | (hi << 4);
    }
  }
}

void QuantizeRowQ5_0(const float* x, BlockQ5_0* y, int64_t n) {
  uint8_t codes[kQK5_0];
  for (int64_t i = 0; i < n / kQK5_0; ++i, x += kQK5_0) {
    const float d = SignedAbsMax(x, kQK5_0) / -16;
    const float id = d ? 1.0f / d : 0.0f;
    y[i].d = Fp32ToFp16(d);
    for (int j = 0; j < kQK5_0; ++j) {
      codes[j] = std::min(31, static_cast<int>(static_cast<int8_t>(x[j] * id + 16.5f)));
    }
    Pack5Bit(codes, y[i].qs, y[i].qh);
  }
}

void QuantizeRowQ5_1(const float* x, BlockQ5_1* y, int64_t n) {
  uint8_t codes[kQK5_1];
  for (int64_t i = 0; i < n / kQK5_1; ++i, x += kQK5_1) {
    float min, max;
    MinMax(x, kQK5_1, &min, &max);
    const float d = (max - min) / ((1 << 5) - 1);
    const float id = d ? 1.0f / d : 0.0f;
    y[i].d = Fp32ToFp16(d);
    y[i].m = Fp32ToFp16(min);
    // ggml does not clamp here: (max - min) * id rounds to at most 31.
    for (int j = 0; j < kQK5_1; ++j) codes[j] = static_cast<uint8_t>((x[j] - min) * id + 0.5f);
    Pack5Bit(codes, y[i].qs, y[i].qh);
  }
}

void QuantizeRowQ8_0(const float* x, BlockQ8_0* y, int64_t n) {
  for (int64_t i = 0; i < n / kQK8_0; ++i, x += kQK8_0) {
    float amax = 0.0f;
    for (int j = 0; j < kQK8_0; ++j) amax = std::max(amax, std::fabs(x[j]));
    const float d = amax / ((1 << 7) - 1);
    const float id = d ? 1.0f / d : 0.0f;
    y[i].d = Fp32ToFp16(d);
    for (int j = 0; j < kQK8_0; ++j) y[i].qs[j] = static_cast<int8_t>(std::round(x[j] * id));
  }
}

void QuantizeRowQ8_1(const float* x, BlockQ8_1* y, int64_t n) {
  for (int64_t i = 0; i < n / kQK8_1; ++i, x += kQK8_1) {
    float amax = 0.0f;
    for (int j = 0; j < kQK8_1; ++j) amax = std::max(amax, std::fabs(x[j]));
    const float d = amax / ((1 << 7) - 1);
    const float id = d ? 1.0f / d : 0.0f;
    y[i].d = Fp32ToFp16(d);
    int sum = 0;
    for (int j = 0; j < kQK8_1; ++j) {
      y[i].qs[j] = static_cast<int8_t>(std::round(x[j] * id));
      sum += y[i].qs[j];
    }
    y[i].s = Fp32ToFp16(sum * d);
  }
}

}  // namespace mle::kernels
