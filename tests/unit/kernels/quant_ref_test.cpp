// Reference row formats: block sizes against the type table, round-trip error bounds on random
// data, stability of re-quantizing a dequantized row, hand-computed encodings that pin the
// rounding rules, and the errors of the generic entry points.
#include "kernels/quant_ref.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>
#include <vector>

#include "kernels/float_convert.h"
#include "kernels_test_util.h"

namespace mle::kernels {
namespace {

using gguf::TensorType;

std::vector<float> RandomNormal(int64_t n, uint32_t seed, float std = 1.0f) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> dist(0.0f, std);
  std::vector<float> v(n);
  for (float& x : v) x = dist(rng);
  return v;
}

std::vector<uint8_t> Quantize(TensorType type, const std::vector<float>& x) {
  std::vector<uint8_t> q(gguf::RowSizeBytes(type, x.size()).value());
  const Status s = QuantizeRow(type, x.data(), q.data(), static_cast<int64_t>(x.size()));
  EXPECT_TRUE(s.ok()) << s.ToString();
  return q;
}

std::vector<float> Dequantize(TensorType type, const std::vector<uint8_t>& q, int64_t n) {
  std::vector<float> y(n);
  const Status s = DequantizeRow(type, q.data(), y.data(), n);
  EXPECT_TRUE(s.ok()) << s.ToString();
  return y;
}

TEST(QuantBlocksTest, SizesMatchTypeTable) {
  const struct {
    TensorType type;
    size_t size;
    int block;
  } kCases[] = {
      {TensorType::kQ4_0, sizeof(BlockQ4_0), kQK4_0},
      {TensorType::kQ4_1, sizeof(BlockQ4_1), kQK4_1},
      {TensorType::kQ5_0, sizeof(BlockQ5_0), kQK5_0},
      {TensorType::kQ5_1, sizeof(BlockQ5_1), kQK5_1},
      {TensorType::kQ8_0, sizeof(BlockQ8_0), kQK8_0},
      {TensorType::kQ8_1, sizeof(BlockQ8_1), kQK8_1},
      {TensorType::kQ2_K, sizeof(BlockQ2_K), kQK_K},
      {TensorType::kQ3_K, sizeof(BlockQ3_K), kQK_K},
      {TensorType::kQ4_K, sizeof(BlockQ4_K), kQK_K},
      {TensorType::kQ5_K, sizeof(BlockQ5_K), kQK_K},
      {TensorType::kQ6_K, sizeof(BlockQ6_K), kQK_K},
      {TensorType::kQ8_K, sizeof(BlockQ8_K), kQK_K},
  };
  for (const auto& c : kCases) {
    const auto info = gguf::GetTensorTypeInfo(c.type);
    ASSERT_TRUE(info.has_value());
    EXPECT_EQ(info->type_size, c.size) << info->name;
    EXPECT_EQ(info->block_size, static_cast<uint32_t>(c.block)) << info->name;
  }
}

// Round trip of 16 super-blocks of N(0, 1) data, within each format's bound (RelRmsBound:
// ~10% above what llama.cpp's reference algorithms reach on such data; Gaussian blocks have
// no outliers to waste codes on).
TEST(QuantRoundTripTest, ErrorWithinTypeBounds) {
  const std::vector<float> x = RandomNormal(16 * kQK_K, 42);
  for (TensorType type :
       {TensorType::kF32, TensorType::kF16, TensorType::kBF16, TensorType::kQ8_0, TensorType::kQ8_1,
        TensorType::kQ8_K, TensorType::kQ6_K, TensorType::kQ5_0, TensorType::kQ5_1,
        TensorType::kQ5_K, TensorType::kQ4_0, TensorType::kQ4_1, TensorType::kQ4_K,
        TensorType::kQ3_K, TensorType::kQ2_K}) {
    const auto y = Dequantize(type, Quantize(type, x), x.size());
    const double err = testing::RelativeRmsError(x, y);
    EXPECT_LE(err, testing::RelRmsBound(type)) << gguf::TensorTypeName(type);
  }
}

// The K-quant scale searches must beat the plain min/max formats of the same bit width, and
// more bits must give less error.
TEST(QuantRoundTripTest, SearchesBeatPlainFormats) {
  const std::vector<float> x = RandomNormal(16 * kQK_K, 43);
  auto err = [&x](TensorType type) {
    return testing::RelativeRmsError(x, Dequantize(type, Quantize(type, x), x.size()));
  };
  EXPECT_LT(err(TensorType::kQ4_K), err(TensorType::kQ4_1));
  EXPECT_LT(err(TensorType::kQ4_1), err(TensorType::kQ4_0));
  EXPECT_LT(err(TensorType::kQ5_K), err(TensorType::kQ5_1));
  EXPECT_LT(err(TensorType::kQ6_K), err(TensorType::kQ5_K));
  EXPECT_LT(err(TensorType::kQ8_0), err(TensorType::kQ6_K));
  EXPECT_LT(err(TensorType::kQ4_K), err(TensorType::kQ3_K));
  EXPECT_LT(err(TensorType::kQ3_K), err(TensorType::kQ2_K));
}

// Element-wise bounds of the float formats: half an ulp of the target precision.
TEST(QuantRoundTripTest, FloatFormatsWithinHalfUlp) {
  const std::vector<float> x = RandomNormal(4096, 3, 10.0f);
  const auto f16 = Dequantize(TensorType::kF16, Quantize(TensorType::kF16, x), x.size());
  const auto bf16 = Dequantize(TensorType::kBF16, Quantize(TensorType::kBF16, x), x.size());
  for (size_t i = 0; i < x.size(); ++i) {
    if (std::fabs(x[i]) < 1e-4f) continue;  // F16 subnormals have absolute, not relative, steps
    EXPECT_LE(std::fabs(f16[i] - x[i]), std::ldexp(std::fabs(x[i]), -11)) << x[i];
    EXPECT_LE(std::fabs(bf16[i] - x[i]), std::ldexp(std::fabs(x[i]), -8)) << x[i];
  }
}

// Quantizing a dequantized row gives back the same bytes for the symmetric legacy formats:
// their scale comes from the largest element, which dequantizes to an exact multiple of d.
TEST(QuantRoundTripTest, RequantizingIsStable) {
  const std::vector<float> x = RandomNormal(64 * kQK8_0, 11, 0.1f);
  for (TensorType type : {TensorType::kQ8_0, TensorType::kQ4_0, TensorType::kQ5_0, TensorType::kF16,
                          TensorType::kBF16}) {
    const auto q1 = Quantize(type, x);
    const auto q2 = Quantize(type, Dequantize(type, q1, x.size()));
    EXPECT_EQ(q1, q2) << gguf::TensorTypeName(type);
  }
}

TEST(QuantRoundTripTest, ZeroRowsStayZero) {
  const std::vector<float> zeros(2 * kQK_K, 0.0f);
  for (TensorType type :
       {TensorType::kQ4_0, TensorType::kQ4_1, TensorType::kQ5_0, TensorType::kQ5_1,
        TensorType::kQ8_0, TensorType::kQ8_1, TensorType::kQ2_K, TensorType::kQ3_K,
        TensorType::kQ4_K, TensorType::kQ5_K, TensorType::kQ6_K, TensorType::kQ8_K}) {
    const auto y = Dequantize(type, Quantize(type, zeros), zeros.size());
    for (float v : y) ASSERT_EQ(v, 0.0f) << gguf::TensorTypeName(type);
  }
}

// Q8_0: d = amax/127 and roundf, whose ties go away from zero.
TEST(QuantKnownValuesTest, Q8_0RoundsTiesAwayFromZero) {
  std::vector<float> x(kQK8_0, 0.0f);
  x[0] = 127.0f;  // d = 1 exactly
  x[1] = 2.5f;
  x[2] = -2.5f;
  x[3] = 0.5f;
  x[4] = -126.6f;
  BlockQ8_0 b;
  QuantizeRowQ8_0(x.data(), &b, kQK8_0);
  EXPECT_EQ(b.d, 0x3C00);
  EXPECT_EQ(b.qs[0], 127);
  EXPECT_EQ(b.qs[1], 3);
  EXPECT_EQ(b.qs[2], -3);
  EXPECT_EQ(b.qs[3], 1);
  EXPECT_EQ(b.qs[4], -127);
  EXPECT_EQ(b.qs[5], 0);
}

// Q4_0: d = max/-8 with max the signed element of largest magnitude, codes (int)(x/d + 8.5)
// clamped to 15: halves round up, and the far side of the range saturates.
TEST(QuantKnownValuesTest, Q4_0CodesAndClamp) {
  std::vector<float> x(kQK4_0, 0.0f);
  x[0] = -8.0f;  // max: d = 1, code 0
  x[1] = 7.5f;   // 16 -> clamped to 15
  x[2] = 0.5f;   // 9.0 -> 9
  x[3] = -0.5f;  // 8.0 -> 8
  x[4] = 2.49f;  // 10.99 -> 10
  x[16] = 3.0f;  // element 16 goes to the high nibble of byte 0
  BlockQ4_0 b;
  QuantizeRowQ4_0(x.data(), &b, kQK4_0);
  EXPECT_EQ(b.d, 0x3C00);
  EXPECT_EQ(b.qs[0], 0 | (11 << 4));
  EXPECT_EQ(b.qs[1], 15 | (8 << 4));
  EXPECT_EQ(b.qs[2], 9 | (8 << 4));
  EXPECT_EQ(b.qs[3], 8 | (8 << 4));
  EXPECT_EQ(b.qs[4], 10 | (8 << 4));
  float y[kQK4_0];
  DequantizeRowQ4_0(&b, y, kQK4_0);
  EXPECT_EQ(y[0], -8.0f);
  EXPECT_EQ(y[1], 7.0f);
  EXPECT_EQ(y[16], 3.0f);
}

// Q5_0: the fifth bit of element j is bit j of qh (little-endian).
TEST(QuantKnownValuesTest, Q5_0HighBits) {
  BlockQ5_0 b{};
  b.d = Fp32ToFp16(0.5f);
  b.qs[3] = 0x0F | (0x01 << 4);  // element 3 low nibble 15, element 19 low nibble 1
  const uint32_t qh = (1u << 3) | (1u << 19);
  std::memcpy(b.qh, &qh, 4);
  float y[kQK5_0];
  DequantizeRowQ5_0(&b, y, kQK5_0);
  EXPECT_EQ(y[3], 0.5f * (31 - 16));
  EXPECT_EQ(y[19], 0.5f * (17 - 16));
  EXPECT_EQ(y[0], 0.5f * -16);
}

// Q4_K: hand-packed 6-bit scales and mins, including a group (5) whose top bits live in the
// spare bits of bytes 1 and 5.
TEST(QuantKnownValuesTest, Q4_KDequantizesHandPackedBlock) {
  BlockQ4_K b{};
  b.d = Fp32ToFp16(1.0f);
  b.dmin = Fp32ToFp16(0.5f);
  b.scales[0] = 3;  // group 0: scale 3, min 2
  b.scales[4] = 2;
  b.scales[9] = (37 & 0xF) | ((50 & 0xF) << 4);  // group 5: scale 37, min 50
  b.scales[1] |= (37 >> 4) << 6;
  b.scales[5] |= (50 >> 4) << 6;
  b.qs[7] = 0x09;   // element 7: group 0, q 9
  b.qs[67] = 0xA0;  // element 163: high nibble of byte 64+3 -> group 5, q 10
  float y[kQK_K];
  DequantizeRowQ4_K(&b, y, kQK_K);
  EXPECT_EQ(y[7], 3.0f * 9 - 0.5f * 2);
  EXPECT_EQ(y[0], -0.5f * 2);
  EXPECT_EQ(y[163], 37.0f * 10 - 0.5f * 50);
  EXPECT_EQ(y[131], 0.0f);  // group 4: scale 0, min 0
}

// Q6_K: 4 low bits in ql, 2 high bits in qh, signed per-16 scales.
TEST(QuantKnownValuesTest, Q6_KDequantizesHandPackedBlock) {
  BlockQ6_K b{};
  b.d = Fp32ToFp16(0.25f);
  b.scales[0] = -3;
  b.scales[4] = 7;
  b.scales[11] = 2;
  b.ql[0] = 5;             // element 0 low bits
  b.qh[0] = 2;             // element 0 high bits -> q = 37
  b.ql[1] = 0xF0;          // element 65 low bits (high nibble of ql[1])
  b.qh[1] = 3 << 4;        // element 65 high bits -> q = 63
  b.ql[64 + 49] = 0x01;    // element 177 = 128 + 32 + 17: ql[64 + 17 + 32] low nibble
  b.qh[32 + 17] = 1 << 2;  // its high bits -> q = 17
  float y[kQK_K];
  DequantizeRowQ6_K(&b, y, kQK_K);
  EXPECT_EQ(y[0], 0.25f * -3 * (37 - 32));
  EXPECT_EQ(y[65], 0.25f * 7 * (63 - 32));
  EXPECT_EQ(y[177], 0.25f * 2 * (17 - 32));
}

// Q8_K keeps a float scale and the sums of each group of 16 codes; Q8_1 keeps s = d * sum.
TEST(QuantKnownValuesTest, Q8_KAndQ8_1Sums) {
  const std::vector<float> x = RandomNormal(kQK_K, 5);
  BlockQ8_K k;
  QuantizeRowQ8_K(x.data(), &k, kQK_K);
  for (int g = 0; g < kQK_K / 16; ++g) {
    int sum = 0;
    for (int i = 0; i < 16; ++i) sum += k.qs[16 * g + i];
    EXPECT_EQ(k.bsums[g], sum);
  }
  BlockQ8_1 b;
  QuantizeRowQ8_1(x.data(), &b, kQK8_1);
  int sum = 0;
  for (int i = 0; i < kQK8_1; ++i) sum += b.qs[i];
  // s is rounded from the float d (before d itself is rounded to F16).
  EXPECT_NEAR(Fp16ToFp32(b.s), sum * Fp16ToFp32(b.d), 2e-3 * std::fabs(sum * Fp16ToFp32(b.d)));
}

TEST(QuantEntryTest, RejectsBadArguments) {
  std::vector<float> x(64, 1.0f);
  std::vector<uint8_t> buf(1024);
  Status s = QuantizeRow(TensorType::kQ8_0, x.data(), buf.data(), 48);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("multiple of its block size 32"), std::string::npos) << s.message();
  s = DequantizeRow(TensorType::kQ4_K, buf.data(), x.data(), 64);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  s = DequantizeRow(TensorType::kIQ2_XXS, buf.data(), x.data(), 256);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("IQ2_XXS"), std::string::npos) << s.message();
  s = QuantizeRow(TensorType::kIQ4_NL, x.data(), buf.data(), 32);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("IQ4_NL"), std::string::npos) << s.message();
  s = DequantizeRow(TensorType::kF16, buf.data() + 1, x.data(), 4);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  s = DequantizeRow(TensorType::kQ8_0, buf.data(), x.data(), -32);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(DequantizeRow(TensorType::kQ8_0, buf.data(), x.data(), 0).ok());
  EXPECT_TRUE(CanDequantize(TensorType::kQ3_K));
  EXPECT_TRUE(CanQuantize(TensorType::kQ3_K));
  EXPECT_FALSE(CanQuantize(TensorType::kIQ2_XXS));
  EXPECT_FALSE(CanDequantize(TensorType::kTQ1_0));
}

}  // namespace
}  // namespace mle::kernels
