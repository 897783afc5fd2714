// Per-tensor type choices of the quantization presets: against the shared files that
// llama-quantize wrote (same types, same tensor order), and against hand-derived cases of
// llama.cpp's rules (use_more_bits layers, tied output, fallbacks, the 70B attn_v bump).
#include "kernels/quant_policy.h"

#include <gtest/gtest.h>

#include <set>

#include "kernels/model_quantize.h"
#include "kernels_test_util.h"

namespace mle::kernels {
namespace {

using gguf::TensorType;

std::vector<TensorDesc> DescsOf(const gguf::GgufFile& file) {
  std::vector<TensorDesc> out;
  for (const gguf::TensorInfo& t : file.tensors()) out.push_back({t.name, t.dims, t.type});
  return out;
}

// A llama-style model with n_layer layers, F16 matrices, F32 norms.
std::vector<TensorDesc> LlamaDescs(int n_layer, uint64_t dim, uint64_t ffn, bool tied) {
  std::vector<TensorDesc> t = {{"token_embd.weight", {dim, 1000}, TensorType::kF16},
                               {"output_norm.weight", {dim}, TensorType::kF32}};
  if (!tied) t.push_back({"output.weight", {dim, 1000}, TensorType::kF16});
  for (int i = 0; i < n_layer; ++i) {
    const std::string p = "blk." + std::to_string(i) + ".";
    for (const char* m : {"attn_q", "attn_k", "attn_v", "attn_output"}) {
      t.push_back({p + m + ".weight", {dim, dim}, TensorType::kF16});
    }
    t.push_back({p + "ffn_gate.weight", {dim, ffn}, TensorType::kF16});
    t.push_back({p + "ffn_up.weight", {dim, ffn}, TensorType::kF16});
    t.push_back({p + "ffn_down.weight", {ffn, dim}, TensorType::kF16});
    t.push_back({p + "attn_norm.weight", {dim}, TensorType::kF32});
  }
  return t;
}

TensorType TypeOf(const std::vector<TensorPlan>& plans, const std::string& name) {
  for (const TensorPlan& p : plans) {
    if (p.name == name) return p.dst_type;
  }
  ADD_FAILURE() << "no plan for " << name;
  return TensorType::kF32;
}

TEST(QuantPresetTest, ParsesNamesAndFileTypes) {
  EXPECT_EQ(ParseQuantPreset("q4_k_m").value(), QuantPreset::kQ4_K_M);
  EXPECT_EQ(ParseQuantPreset("Q8_0").value(), QuantPreset::kQ8_0);
  EXPECT_EQ(ParseQuantPreset("bf16").value(), QuantPreset::kBF16);
  const auto bad = ParseQuantPreset("Q5_K_S");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(bad.status().message(),
            "unknown quantization type 'Q5_K_S' (allowed: Q8_0, Q4_0, Q4_K_M, Q6_K, F16, BF16)");
  // llama_ftype values as llama.h numbers them.
  EXPECT_EQ(LlamaFileType(QuantPreset::kF16), 1u);
  EXPECT_EQ(LlamaFileType(QuantPreset::kQ4_0), 2u);
  EXPECT_EQ(LlamaFileType(QuantPreset::kQ8_0), 7u);
  EXPECT_EQ(LlamaFileType(QuantPreset::kQ4_K_M), 15u);
  EXPECT_EQ(LlamaFileType(QuantPreset::kQ6_K), 18u);
  EXPECT_EQ(LlamaFileType(QuantPreset::kBF16), 32u);
}

TEST(QuantPolicyTest, LlamaTensorOrder) {
  EXPECT_TRUE(LlamaTensorOrderLess("token_embd.weight", "blk.0.attn_q.weight"));
  EXPECT_TRUE(LlamaTensorOrderLess("output.weight", "output_norm.weight"));
  EXPECT_TRUE(LlamaTensorOrderLess("blk.2.ffn_up.weight", "blk.10.attn_k.weight"));
  EXPECT_FALSE(LlamaTensorOrderLess("blk.1.attn_q.weight", "blk.1.attn_k.weight"));
}

// The shared quantized llama files were written by llama-quantize from the same model: the
// plan for the F16 file must name the same types, in the same tensor order.
TEST(QuantPolicyTest, MatchesLlamaQuantizeOnSharedModel) {
  auto f16 = testing::OpenOrDie(testing::ModelPath("tiny-llama-spm-F16.gguf"));
  ASSERT_NE(f16, nullptr);
  const struct {
    QuantPreset preset;
    const char* file;
  } kCases[] = {{QuantPreset::kQ8_0, "tiny-llama-spm-Q8_0.gguf"},
                {QuantPreset::kQ4_0, "tiny-llama-spm-Q4_0.gguf"},
                {QuantPreset::kQ4_K_M, "tiny-llama-spm-Q4_K_M.gguf"},
                {QuantPreset::kBF16, "tiny-llama-spm-BF16.gguf"},
                {QuantPreset::kF16, "tiny-llama-spm-F16.gguf"}};
  for (const auto& c : kCases) {
    auto ref = testing::OpenOrDie(testing::ModelPath(c.file));
    ASSERT_NE(ref, nullptr);
    const auto plans = PlanQuantization(ReadModelFacts(*f16), DescsOf(*f16), c.preset);
    ASSERT_TRUE(plans.ok()) << plans.status().ToString();
    ASSERT_EQ(plans->size(), ref->tensors().size()) << c.file;
    for (size_t i = 0; i < plans->size(); ++i) {
      const gguf::TensorInfo& want = ref->tensors()[i];
      EXPECT_EQ((*plans)[i].name, want.name) << c.file << " #" << i;
      EXPECT_EQ(gguf::TensorTypeName((*plans)[i].dst_type), gguf::TensorTypeName(want.type))
          << c.file << " " << want.name;
    }
  }
}

// Q4_K_M on 32 layers: attn_v and ffn_down get Q6_K in the first and last 4 layers and in
// every third layer from 6 to 27 (llama.cpp's use_more_bits); the rest Q4_K. Untied output
// gets Q6_K, the untied token_embd keeps the default.
TEST(QuantPolicyTest, Q4_K_MUsesMoreBitsOnHalfTheLayers) {
  ModelFacts facts{"llama", 32, 32, 8, 0};
  const auto plans =
      PlanQuantization(facts, LlamaDescs(32, 512, 1536, /*tied=*/false), QuantPreset::kQ4_K_M);
  ASSERT_TRUE(plans.ok()) << plans.status().ToString();
  const std::set<int> more = {0, 1, 2, 3, 6, 9, 12, 15, 18, 21, 24, 27, 28, 29, 30, 31};
  for (int i = 0; i < 32; ++i) {
    const std::string p = "blk." + std::to_string(i) + ".";
    const TensorType want = more.count(i) ? TensorType::kQ6_K : TensorType::kQ4_K;
    EXPECT_EQ(TypeOf(*plans, p + "attn_v.weight"), want) << i;
    EXPECT_EQ(TypeOf(*plans, p + "ffn_down.weight"), want) << i;
    EXPECT_EQ(TypeOf(*plans, p + "attn_q.weight"), TensorType::kQ4_K) << i;
    EXPECT_EQ(TypeOf(*plans, p + "attn_norm.weight"), TensorType::kF32) << i;
  }
  EXPECT_EQ(TypeOf(*plans, "output.weight"), TensorType::kQ6_K);
  EXPECT_EQ(TypeOf(*plans, "token_embd.weight"), TensorType::kQ4_K);
}

// A llama with 80 layers and grouped KV heads is llama.cpp's 70B: its Q4_K attn_v become Q5_K.
TEST(QuantPolicyTest, SeventyBGetsQ5_KAttnV) {
  ModelFacts facts{"llama", 80, 64, 8, 0};
  const auto plans = PlanQuantization(facts, LlamaDescs(80, 256, 512, true), QuantPreset::kQ4_K_M);
  ASSERT_TRUE(plans.ok());
  EXPECT_EQ(TypeOf(*plans, "blk.0.attn_v.weight"), TensorType::kQ6_K);   // more bits
  EXPECT_EQ(TypeOf(*plans, "blk.10.attn_v.weight"), TensorType::kQ5_K);  // bumped
  facts.n_head_kv = 64;                                                  // no GQA: a 65B, no bump
  const auto plans65 =
      PlanQuantization(facts, LlamaDescs(80, 256, 512, true), QuantPreset::kQ4_K_M);
  EXPECT_EQ(TypeOf(*plans65, "blk.10.attn_v.weight"), TensorType::kQ4_K);
}

// Rows that a 256-block does not divide fall back (Q4_K -> Q5_0, Q6_K -> Q8_0), rows that not
// even 32 divides to F16; Q8_0 has no fallback, which is an error naming the tensor.
TEST(QuantPolicyTest, FallbacksForOddRowLengths) {
  ModelFacts facts{"llama", 1, 4, 4, 0};
  std::vector<TensorDesc> descs = {{"token_embd.weight", {64, 100}, TensorType::kF16},
                                   {"blk.0.ffn_down.weight", {704, 64}, TensorType::kF16},
                                   {"blk.0.ffn_up.weight", {40, 64}, TensorType::kF16}};
  auto q6 = PlanQuantization(facts, descs, QuantPreset::kQ6_K);
  ASSERT_TRUE(q6.ok());
  EXPECT_EQ(TypeOf(*q6, "blk.0.ffn_down.weight"), TensorType::kQ8_0);
  EXPECT_EQ(TypeOf(*q6, "token_embd.weight"), TensorType::kQ8_0);  // tied output, 64 % 256
  EXPECT_EQ(TypeOf(*q6, "blk.0.ffn_up.weight"), TensorType::kF16);
  // Output order: token_embd, blk.0.ffn_down, blk.0.ffn_up.
  EXPECT_FALSE((*q6)[0].fallback);
  EXPECT_TRUE((*q6)[1].fallback);
  EXPECT_TRUE((*q6)[2].fallback);
  auto q4km = PlanQuantization(facts, descs, QuantPreset::kQ4_K_M);
  ASSERT_TRUE(q4km.ok());
  EXPECT_EQ(TypeOf(*q4km, "blk.0.ffn_down.weight"), TensorType::kQ8_0);  // Q6_K (last layer)
  descs[1].name = "blk.0.attn_q.weight";
  q4km = PlanQuantization(facts, descs, QuantPreset::kQ4_K_M);
  EXPECT_EQ(TypeOf(*q4km, "blk.0.attn_q.weight"), TensorType::kQ5_0);
  auto q8 = PlanQuantization(facts, descs, QuantPreset::kQ8_0);
  ASSERT_FALSE(q8.ok());
  EXPECT_NE(q8.status().message().find("blk.0.ffn_up.weight"), std::string::npos);
}

// Norms, biases and 1-D tensors keep their type under every preset, F16 and BF16 included;
// fused attn_qkv counts as attn_v (phi3).
TEST(QuantPolicyTest, KeepsNonWeightsAndTreatsQkvAsV) {
  ModelFacts facts{"phi3", 1, 4, 4, 0};
  std::vector<TensorDesc> descs = {{"blk.0.attn_qkv.weight", {256, 768}, TensorType::kF16},
                                   {"blk.0.attn_q.bias", {256, 1}, TensorType::kF32},
                                   {"blk.0.attn_norm.weight", {256}, TensorType::kF32},
                                   {"blk.0.ssm_conv1d.weight", {256, 4}, TensorType::kF32},
                                   {"rope_factors_long.weight", {48}, TensorType::kF32}};
  for (QuantPreset preset : {QuantPreset::kQ4_K_M, QuantPreset::kF16, QuantPreset::kBF16}) {
    auto plans = PlanQuantization(facts, descs, preset);
    ASSERT_TRUE(plans.ok());
    for (const TensorPlan& p : *plans) {
      if (p.name == "blk.0.attn_qkv.weight") continue;
      EXPECT_EQ(p.dst_type, TensorType::kF32) << p.name;
      EXPECT_FALSE(p.quantizable) << p.name;
    }
  }
  auto plans = PlanQuantization(facts, descs, QuantPreset::kQ4_K_M);
  EXPECT_EQ(TypeOf(*plans, "blk.0.attn_qkv.weight"), TensorType::kQ6_K);  // layer 0 of 1
  plans = PlanQuantization(facts, descs, QuantPreset::kBF16);
  EXPECT_EQ(TypeOf(*plans, "blk.0.attn_qkv.weight"), TensorType::kBF16);
}

}  // namespace
}  // namespace mle::kernels
