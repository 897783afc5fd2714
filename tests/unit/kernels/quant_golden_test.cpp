// Golden test against ggml itself: SHA-256 digests of the rows that ggml's reference code
// (ggml-quants.c quantize_row_*_ref / ggml_quantize_chunk without imatrix, dequantize_row_*,
// ggml_fp32_to_fp16_row, ggml_fp32_to_bf16_row_ref) produced for the deterministic inputs
// below. Equal digests mean bit-identical bytes. To regenerate: build ggml-base from the ggml
// vendored in the ggml-python 0.0.45 sdist, run those functions on GoldenInput() and
// GoldenBlocks() as written here, and hash the outputs.
#include <gtest/gtest.h>

#include <cmath>
#include <cstddef>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "core/sha256.h"
#include "kernels/quant_ref.h"

namespace mle::kernels {
namespace {

using gguf::TensorType;

constexpr int64_t kN = 16 * kQK_K;

// Exactly representable values (24-bit integers times powers of two), so every platform
// builds the same floats: per group of 32 a random power-of-two scale (2^-16 .. 2^7) and one
// of four shapes (plain, with 16x outliers, all positive, one third zeros).
std::vector<float> GoldenInput() {
  std::mt19937 rng(20261123);
  std::vector<float> x(kN);
  for (size_t g = 0; g < x.size(); g += 32) {
    const float scale = std::ldexp(1.0f, static_cast<int>(rng() % 24) - 16);
    const uint32_t kind = rng() % 4;
    for (size_t i = g; i < g + 32; ++i) {
      const int32_t r = static_cast<int32_t>(rng()) >> 8;
      float v = std::ldexp(static_cast<float>(r), -23) * scale;
      if (kind == 1 && rng() % 8 == 0) v *= 16;
      if (kind == 2) v = std::fabs(v);
      if (kind == 3 && rng() % 3 == 0) v = 0;
      x[i] = v;
    }
  }
  return x;
}

// Random block bytes whose n_scales F16 scales at d_offset are finite (0.125 .. 0.25).
std::vector<uint8_t> GoldenBlocks(size_t n_bytes, size_t block_bytes, size_t d_offset,
                                  int n_scales) {
  std::mt19937 rng(77);
  std::vector<uint8_t> b(n_bytes);
  for (uint8_t& v : b) v = static_cast<uint8_t>(rng());
  for (size_t off = 0; off + block_bytes <= n_bytes; off += block_bytes) {
    for (int k = 0; k < n_scales; ++k) {
      const uint16_t h = static_cast<uint16_t>(0x3000 | (rng() & 0x3FF));
      std::memcpy(&b[off + d_offset + 2 * k], &h, 2);
    }
  }
  return b;
}

std::string Digest(const void* p, size_t n) {
  return ToHex(Sha256(std::string_view(static_cast<const char*>(p), n)));
}

struct QuantGolden {
  TensorType type;
  const char* quantized_sha;    // of QuantizeRow's bytes
  const char* dequantized_sha;  // of DequantizeRow's floats on those bytes ("" to skip)
};

const QuantGolden kQuantGoldens[] = {
    {TensorType::kF16, "a47813ae1ebc2f0a00f6e6727b51b70d9c92b9321750a4f7cacf9b3b49131a67",
     "bc9b6f3dc65b4549fb0d6bd943bc494beef6630d219d6b074bcb8f328be0c046"},
    {TensorType::kBF16, "6d4f732b949b23752a770cc2251221aa67369bb47bf2ca7a10ef21fcd0a53f9f",
     "7607730bdc60ff5ea8ea5c5314f90039c9ecaba5746249a1440d3302d6709d4a"},
    {TensorType::kQ4_0, "1a13aba03aa71cf8a075a9d2ea5fad3252d0b56b96a28d51666a796a725db8ed",
     "829f5b88959aad35dac55f4824e24fa06ca47f7a4b488ab0119d87ce9107e9f4"},
    {TensorType::kQ4_1, "e268e5f0fce8440b812067c8d3eb8726eca3808aff7fdf726e332b4a35b1b2bc",
     "b98b629018d5b22dd6259e2527669270c8978c6316c6c7c010f74017943cd8bf"},
    {TensorType::kQ5_0, "15dae2d79d7e53ee8efb79085d7e387d41fc627352da487a6d5721268871b053",
     "21398b3cd57d690a200dbee221af79b2be1284a55b48fabf5a35f630f8487dd5"},
    {TensorType::kQ5_1, "9ca92ee82a871206792815b90fe928d220de2542ca1d8c0859579c520bd31f51",
     "cf38b4109cdd1c0abcce2f5772eb931e920dbe089ee5201222ce774e1c8be4ba"},
    {TensorType::kQ8_0, "e22dfb5ceb582d95932792eab8d2b0e2c74375064bbca3b339850a87bc4c0b67",
     "6a0c15c5692355b81759fc77ae3ad3873063ce0bff20305bff2bb6158ec2d91c"},
    {TensorType::kQ8_1, "1b0e2a5cb823fcf8acc2fcb66948d5f6671402ebd07623350dbd667a1f4e7153", ""},
    {TensorType::kQ2_K, "5281f4b05f3330cb44a93c56ef5f4c43498621cf5562b3eea565b43fe98f8354",
     "24d315a714710774272cab56a06541477ce33e65c3c8b17d86d4b746d072ecc5"},
    {TensorType::kQ3_K, "e071609526732cc9e805a0bf3dd8a4206877069cb443d18adee05ce0ce91fdaf",
     "b322e3100a7a8c6cf8ba7c1ee78c3f9764bf8ba7e506a442b7821a7ae857d546"},
    {TensorType::kQ4_K, "737ca330d05a3a71507efae1140c2e7b68fd2be109e84c2aeb927e08aa8a3aeb",
     "3f1eaf71e358023eb222873f9d77de957dc42f79deb831d714cf818fa8aab422"},
    {TensorType::kQ5_K, "195cc01befc8bab68bb7f702535be81ef1e7b3b67c6aaedcf1ae52147bdf432b",
     "ad249c7dc5d27f010416f02f3c23b11f2b7e8d4c69312ea9c33ed646e0143f31"},
    {TensorType::kQ6_K, "7d63acbba0ccf6f018802bc76e24d68a50726e6fda687ba2a3655c92c32bfe85",
     "8699ab0f20b038679380f6b8286d112b707c45ad110387954b04d7df7f6d471a"},
    {TensorType::kQ8_K, "2c8cccf2f0aa8f8bfea53667f2aa1605273aaeb0725d737ada42c114033fd9cc",
     "05279d13bd483b3e50d13fea297face6b70b0793756830032664dab303e90ea5"},
};

TEST(QuantGoldenTest, QuantizeAndDequantizeMatchGgml) {
  const std::vector<float> x = GoldenInput();
  for (const QuantGolden& g : kQuantGoldens) {
    const std::string name(gguf::TensorTypeName(g.type));
    std::vector<uint8_t> q(gguf::RowSizeBytes(g.type, kN).value());
    ASSERT_TRUE(QuantizeRow(g.type, x.data(), q.data(), kN).ok()) << name;
    EXPECT_EQ(Digest(q.data(), q.size()), g.quantized_sha) << name;
    if (g.dequantized_sha[0] == '\0') continue;
    std::vector<float> y(kN);
    ASSERT_TRUE(DequantizeRow(g.type, q.data(), y.data(), kN).ok()) << name;
    EXPECT_EQ(Digest(y.data(), y.size() * sizeof(float)), g.dequantized_sha) << name;
  }
}

// Dequantization of arbitrary codes and scales, not only of what the quantizers emit.
TEST(QuantGoldenTest, DequantizeRandomBlocksMatchesGgml) {
  const struct {
    TensorType type;
    size_t d_offset;
    int n_scales;
    const char* sha;
  } kCases[] = {
      {TensorType::kQ2_K, offsetof(BlockQ2_K, d), 2,
       "e93048f801623e04aee97c237e14e59dfbc950009a4f420867cd1532dcddb994"},
      {TensorType::kQ3_K, offsetof(BlockQ3_K, d), 1,
       "48384138f2738be3140ef0a85038b3481c733e8a36cc17be26875ad84a3abd73"},
      {TensorType::kQ4_K, offsetof(BlockQ4_K, d), 2,
       "b195f78a0c31accd40cf1ca9a694ee566666fe6732f28e5273024cf578c56d47"},
      {TensorType::kQ5_K, offsetof(BlockQ5_K, d), 2,
       "13deba1babb355d82207d313cbb8993e8e6fd7808c19d346ce775d97c7a26893"},
      {TensorType::kQ6_K, offsetof(BlockQ6_K, d), 1,
       "4c0ea1c559176ba5fe9120fe0a04065bc68567c9b3c2e49fc40fb59018e92a04"},
  };
  for (const auto& c : kCases) {
    const auto info = gguf::GetTensorTypeInfo(c.type).value();
    const std::vector<uint8_t> b = GoldenBlocks(gguf::RowSizeBytes(c.type, kN).value(),
                                                info.type_size, c.d_offset, c.n_scales);
    std::vector<float> y(kN);
    ASSERT_TRUE(DequantizeRow(c.type, b.data(), y.data(), kN).ok()) << info.name;
    EXPECT_EQ(Digest(y.data(), y.size() * sizeof(float)), c.sha) << info.name;
  }
}

}  // namespace
}  // namespace mle::kernels
