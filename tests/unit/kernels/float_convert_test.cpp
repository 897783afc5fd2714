// Exact F16 / BF16 conversion tests: known encodings (zeros, subnormals, the largest finite
// values, infinities, NaN), ties-to-even rounding at normal and subnormal boundaries, and an
// exhaustive check that every half survives a round trip through float.
#include "kernels/float_convert.h"

#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>
#include <random>

namespace mle::kernels {
namespace {

float FromBits(uint32_t bits) {
  return std::bit_cast<float>(bits);
}

TEST(Fp16Test, EncodesKnownValues) {
  EXPECT_EQ(Fp32ToFp16(0.0f), 0x0000);
  EXPECT_EQ(Fp32ToFp16(-0.0f), 0x8000);
  EXPECT_EQ(Fp32ToFp16(1.0f), 0x3C00);
  EXPECT_EQ(Fp32ToFp16(-2.0f), 0xC000);
  EXPECT_EQ(Fp32ToFp16(0.5f), 0x3800);
  EXPECT_EQ(Fp32ToFp16(65504.0f), 0x7BFF);                  // largest finite half
  EXPECT_EQ(Fp32ToFp16(std::ldexp(1.0f, -14)), 0x0400);     // smallest normal
  EXPECT_EQ(Fp32ToFp16(std::ldexp(1.0f, -24)), 0x0001);     // smallest subnormal
  EXPECT_EQ(Fp32ToFp16(std::ldexp(1023.0f, -24)), 0x03FF);  // largest subnormal
  EXPECT_EQ(Fp32ToFp16(-std::ldexp(5.0f, -24)), 0x8005);
}

TEST(Fp16Test, OverflowAndSpecials) {
  const float inf = std::numeric_limits<float>::infinity();
  EXPECT_EQ(Fp32ToFp16(inf), 0x7C00);
  EXPECT_EQ(Fp32ToFp16(-inf), 0xFC00);
  EXPECT_EQ(Fp32ToFp16(1e6f), 0x7C00);
  EXPECT_EQ(Fp32ToFp16(-1e30f), 0xFC00);
  EXPECT_EQ(Fp32ToFp16(65519.0f), 0x7BFF);  // below the midpoint to 2^16
  EXPECT_EQ(Fp32ToFp16(65520.0f), 0x7C00);  // the midpoint: ties to even (inf)
  // Every NaN becomes ggml's quiet NaN with its sign.
  EXPECT_EQ(Fp32ToFp16(std::numeric_limits<float>::quiet_NaN()), 0x7E00);
  EXPECT_EQ(Fp32ToFp16(FromBits(0x7F800001u)), 0x7E00);  // signaling NaN
  EXPECT_EQ(Fp32ToFp16(FromBits(0xFFC00000u)), 0xFE00);
}

TEST(Fp16Test, RoundsTiesToEven) {
  // Normal range: 1 + 2^-11 lies halfway between 1 and 1 + 2^-10.
  EXPECT_EQ(Fp32ToFp16(1.0f + std::ldexp(1.0f, -11)), 0x3C00);
  EXPECT_EQ(Fp32ToFp16(1.0f + std::ldexp(3.0f, -11)), 0x3C02);
  EXPECT_EQ(Fp32ToFp16(1.0f + std::ldexp(1.0f, -11) + std::ldexp(1.0f, -20)), 0x3C01);
  EXPECT_EQ(Fp32ToFp16(-(1.0f + std::ldexp(3.0f, -11))), 0xBC02);
  // Subnormal range: units of 2^-24.
  EXPECT_EQ(Fp32ToFp16(std::ldexp(1.0f, -25)), 0x0000);  // 0.5 ulp: to even 0
  EXPECT_EQ(Fp32ToFp16(std::nextafter(std::ldexp(1.0f, -25), 1.0f)), 0x0001);
  EXPECT_EQ(Fp32ToFp16(std::ldexp(3.0f, -25)), 0x0002);     // 1.5 ulp: to even 2
  EXPECT_EQ(Fp32ToFp16(std::ldexp(5.0f, -25)), 0x0002);     // 2.5 ulp: to even 2
  EXPECT_EQ(Fp32ToFp16(std::ldexp(2047.0f, -25)), 0x0400);  // 1023.5 ulp: carries to normal
  EXPECT_EQ(Fp32ToFp16(std::ldexp(1.0f, -30)), 0x0000);
  EXPECT_EQ(Fp32ToFp16(-std::ldexp(1.0f, -30)), 0x8000);
  EXPECT_EQ(Fp32ToFp16(std::numeric_limits<float>::denorm_min()), 0x0000);
}

TEST(Fp16Test, DecodesKnownValues) {
  EXPECT_EQ(Fp16ToFp32(0x3C00), 1.0f);
  EXPECT_EQ(Fp16ToFp32(0xC000), -2.0f);
  EXPECT_EQ(Fp16ToFp32(0x7BFF), 65504.0f);
  EXPECT_EQ(Fp16ToFp32(0x0001), std::ldexp(1.0f, -24));
  EXPECT_EQ(Fp16ToFp32(0x03FF), std::ldexp(1023.0f, -24));
  EXPECT_EQ(Fp16ToFp32(0x0400), std::ldexp(1.0f, -14));
  EXPECT_TRUE(std::signbit(Fp16ToFp32(0x8000)));
  EXPECT_EQ(Fp16ToFp32(0x8000), 0.0f);
  EXPECT_EQ(Fp16ToFp32(0x7C00), std::numeric_limits<float>::infinity());
  EXPECT_EQ(Fp16ToFp32(0xFC00), -std::numeric_limits<float>::infinity());
  EXPECT_TRUE(std::isnan(Fp16ToFp32(0x7E00)));
  EXPECT_TRUE(std::isnan(Fp16ToFp32(0x7C01)));
}

TEST(Fp16Test, EveryHalfRoundTrips) {
  for (uint32_t h = 0; h < 0x10000; ++h) {
    const float f = Fp16ToFp32(static_cast<uint16_t>(h));
    if (std::isnan(f)) {
      EXPECT_TRUE(std::isnan(Fp16ToFp32(Fp32ToFp16(f)))) << std::hex << h;
    } else {
      ASSERT_EQ(Fp32ToFp16(f), h) << std::hex << h;
    }
  }
}

// Random floats: the encoding is the nearest half (checked against both neighbours in double
// arithmetic), and on an exact tie the even one.
TEST(Fp16Test, RandomFloatsRoundToNearest) {
  std::mt19937 rng(7);
  std::uniform_int_distribution<int> exp_dist(-28, 15);
  std::uniform_real_distribution<float> mant_dist(1.0f, 2.0f);
  for (int i = 0; i < 200000; ++i) {
    const float f = std::ldexp(mant_dist(rng), exp_dist(rng)) * (i % 2 ? -1.0f : 1.0f);
    const uint16_t h = Fp32ToFp16(f);
    if ((h & 0x7FFF) >= 0x7C00) {
      ASSERT_GE(std::fabs(f), 65520.0f) << f;
      continue;
    }
    const double err = std::fabs(static_cast<double>(Fp16ToFp32(h)) - f);
    for (int step : {-1, 1}) {
      const uint16_t nb = static_cast<uint16_t>(h + step);
      if ((nb & 0x7FFF) >= 0x7C00 || ((h & 0x7FFF) == 0 && step < 0)) continue;
      const double err_nb = std::fabs(static_cast<double>(Fp16ToFp32(nb)) - f);
      ASSERT_LE(err, err_nb) << f;
      if (err == err_nb) {
        ASSERT_EQ(h & 1, 0) << f;
      }
    }
  }
}

TEST(Bf16Test, EncodesAndRounds) {
  EXPECT_EQ(Fp32ToBf16(1.0f), 0x3F80);
  EXPECT_EQ(Fp32ToBf16(-2.0f), 0xC000);
  EXPECT_EQ(Fp32ToBf16(0.0f), 0x0000);
  EXPECT_EQ(Fp32ToBf16(-0.0f), 0x8000);
  EXPECT_EQ(Fp32ToBf16(FromBits(0x3F808000u)), 0x3F80);  // tie, even stays
  EXPECT_EQ(Fp32ToBf16(FromBits(0x3F818000u)), 0x3F82);  // tie, odd rounds up
  EXPECT_EQ(Fp32ToBf16(FromBits(0x3F808001u)), 0x3F81);  // above the tie
  EXPECT_EQ(Fp32ToBf16(FromBits(0x3F807FFFu)), 0x3F80);  // below the tie
  EXPECT_EQ(Fp32ToBf16(FromBits(0x00018000u)), 0x0002);  // subnormal tie to even
  EXPECT_EQ(Fp32ToBf16(FromBits(0x00008000u)), 0x0000);
  EXPECT_EQ(Fp32ToBf16(FromBits(0x7F7FFFFFu)), 0x7F80);  // FLT_MAX rounds to inf
}

TEST(Bf16Test, SpecialsAndNaN) {
  const float inf = std::numeric_limits<float>::infinity();
  EXPECT_EQ(Fp32ToBf16(inf), 0x7F80);
  EXPECT_EQ(Fp32ToBf16(-inf), 0xFF80);
  EXPECT_EQ(Fp32ToBf16(std::numeric_limits<float>::quiet_NaN()), 0x7FC0);
  // A NaN whose payload lives in the low half must not round into infinity.
  EXPECT_EQ(Fp32ToBf16(FromBits(0x7F800001u)), 0x7FC0);
  EXPECT_EQ(Fp32ToBf16(FromBits(0xFF800001u)), 0xFFC0);
  EXPECT_EQ(Fp32ToBf16(FromBits(0x7FA50000u)), 0x7FE5);  // upper payload kept, made quiet
  EXPECT_TRUE(std::isnan(Bf16ToFp32(0x7FC0)));
  EXPECT_EQ(Bf16ToFp32(0x3F80), 1.0f);
  EXPECT_EQ(Bf16ToFp32(0xFF80), -inf);
  EXPECT_EQ(Bf16ToFp32(0x0001), FromBits(0x00010000u));
}

TEST(Bf16Test, EveryBf16RoundTrips) {
  for (uint32_t b = 0; b < 0x10000; ++b) {
    const float f = Bf16ToFp32(static_cast<uint16_t>(b));
    if (std::isnan(f)) continue;
    ASSERT_EQ(Fp32ToBf16(f), b) << std::hex << b;
  }
}

}  // namespace
}  // namespace mle::kernels
