// Scalar conversions between float and the 16-bit float formats of GGUF tensors: IEEE half
// (F16) and bfloat16 (BF16). Both narrowing conversions round to nearest, ties to even, exactly
// as ggml's reference code does (ggml-impl.h), so rows converted here are bit-identical to
// llama.cpp's. Header-only: the kernels call these in their inner loops.
#pragma once

#include <bit>
#include <cstdint>

namespace mle::kernels {

// F16 -> float. Exact for every input (subnormals, infinities and NaN payloads included).
inline float Fp16ToFp32(uint16_t h) {
  const uint32_t sign = static_cast<uint32_t>(h & 0x8000u) << 16;
  const uint32_t exp = (h >> 10) & 0x1fu;
  uint32_t mant = h & 0x3ffu;
  uint32_t bits;
  if (exp == 0x1f) {
    bits = sign | 0x7f800000u | (mant << 13);  // inf / NaN keep their payload
  } else if (exp != 0) {
    bits = sign | ((exp + 112u) << 23) | (mant << 13);  // rebias 15 -> 127
  } else if (mant == 0) {
    bits = sign;  // signed zero
  } else {
    // Subnormal half: normalize the mantissa into a normal float.
    uint32_t e = 113;
    while ((mant & 0x400u) == 0) {
      mant <<= 1;
      --e;
    }
    bits = sign | (e << 23) | ((mant & 0x3ffu) << 13);
  }
  return std::bit_cast<float>(bits);
}

// float -> F16, round to nearest even. Overflow gives +-inf; every NaN becomes the quiet NaN
// 0x7e00 with the input's sign (what ggml_compute_fp32_to_fp16 produces).
inline uint16_t Fp32ToFp16(float f) {
  const uint32_t x = std::bit_cast<uint32_t>(f);
  const uint16_t sign = static_cast<uint16_t>((x >> 16) & 0x8000u);
  const uint32_t abs = x & 0x7fffffffu;
  if (abs > 0x7f800000u) return sign | 0x7e00u;
  if (abs >= 0x38800000u) {                // normal half range (>= 2^-14) or overflow
    const uint32_t r = abs - 0x38000000u;  // rebias 127 -> 15, mantissa still 23 bits
    const uint32_t h = (r + 0xfffu + ((r >> 13) & 1u)) >> 13;
    return sign | static_cast<uint16_t>(h >= 0x7c00u ? 0x7c00u : h);
  }
  const uint32_t e = abs >> 23;
  if (e < 102) return sign;  // below half of the smallest subnormal: rounds to zero
  // Subnormal half: value in units of 2^-24 is mant * 2^(e - 126).
  const uint32_t mant = (abs & 0x7fffffu) | 0x800000u;
  const uint32_t shift = 126 - e;  // 14..24
  const uint32_t q = mant >> shift;
  const uint32_t rem = mant & ((1u << shift) - 1u);
  const uint32_t half = 1u << (shift - 1);
  const uint32_t rounded = q + ((rem > half || (rem == half && (q & 1u))) ? 1u : 0u);
  return sign | static_cast<uint16_t>(rounded);  // 0x400 (smallest normal) is a valid carry
}

// BF16 -> float: the upper half of a float32.
inline float Bf16ToFp32(uint16_t b) {
  return std::bit_cast<float>(static_cast<uint32_t>(b) << 16);
}

// float -> BF16, round to nearest even. NaN stays NaN (sign and upper payload kept, forced
// quiet), as ggml_compute_fp32_to_bf16 does.
inline uint16_t Fp32ToBf16(float f) {
  const uint32_t x = std::bit_cast<uint32_t>(f);
  if ((x & 0x7fffffffu) > 0x7f800000u) return static_cast<uint16_t>((x >> 16) | 0x40u);
  return static_cast<uint16_t>((x + 0x7fffu + ((x >> 16) & 1u)) >> 16);
}

}  // namespace mle::kernels
