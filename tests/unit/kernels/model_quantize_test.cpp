// Whole-model quantization against llama-quantize's own output (the shared llama files):
// identical headers and tensor types, block-level byte agreement, the F16 -> F16 identity, the
// metadata rules, thread-count independence, and atomic output on every kind of failure.
#include "kernels/model_quantize.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <limits>
#include <map>

#include "gguf/gguf_writer.h"
#include "kernels_test_util.h"

namespace mle::kernels {
namespace {

namespace fs = std::filesystem;
using gguf::TensorType;

std::string ReadBytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

// A fresh directory per test, removed afterwards.
class ModelQuantizeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ = fs::temp_directory_path() /
           ("mle-quantize-" + std::to_string(::getpid()) + "-" + info->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string Path(const std::string& name) const { return (dir_ / name).string(); }
  size_t FilesInDir() const {
    return static_cast<size_t>(std::distance(fs::directory_iterator(dir_), {}));
  }

  fs::path dir_;
};

Result<QuantizeSummary> Quantize(const std::string& in, const std::string& out, QuantPreset preset,
                                 int n_threads = 2) {
  QuantizeOptions options;
  options.preset = preset;
  options.n_threads = n_threads;
  return QuantizeModelFile(in, out, options);
}

// Quantizing F16 to F16 copies every tensor: the output is the input file, byte for byte
// (llama-quantize wrote that file, so this also pins the writer's layout and metadata order).
TEST_F(ModelQuantizeTest, F16ToF16ReproducesTheInputFile) {
  const std::string in = testing::ModelPath("tiny-llama-spm-F16.gguf");
  const auto summary = Quantize(in, Path("out.gguf"), QuantPreset::kF16);
  ASSERT_TRUE(summary.ok()) << summary.status().ToString();
  EXPECT_EQ(summary->n_converted, 0);
  EXPECT_TRUE(ReadBytes(Path("out.gguf")) == ReadBytes(in));
}

struct BlockStats {
  uint64_t blocks = 0, differing = 0;
};

// Quantizes the F16 file to `preset` and compares with llama-quantize's file of that preset:
// header bytes, tensor types and offsets identical; data compared block by block.
std::map<TensorType, BlockStats> CompareWithLlamaFile(const std::string& out, QuantPreset preset,
                                                      const char* ref_name) {
  const auto summary = Quantize(testing::ModelPath("tiny-llama-spm-F16.gguf"), out, preset);
  EXPECT_TRUE(summary.ok()) << summary.status().ToString();
  auto ours = testing::OpenOrDie(out);
  auto ref = testing::OpenOrDie(testing::ModelPath(ref_name));
  if (!ours || !ref) return {};
  EXPECT_EQ(ours->data_offset(), ref->data_offset()) << ref_name;
  EXPECT_EQ(ours->file_size(), ref->file_size()) << ref_name;
  EXPECT_EQ(std::memcmp(ours->data(), ref->data(), ref->data_offset()), 0)
      << ref_name << ": header (metadata and tensor infos) differs";
  std::map<TensorType, BlockStats> stats;
  for (size_t i = 0; i < ref->tensors().size(); ++i) {
    const gguf::TensorInfo& a = ours->tensors()[i];
    const gguf::TensorInfo& b = ref->tensors()[i];
    if (a.type != b.type || a.size_bytes != b.size_bytes) continue;  // header check failed
    const uint32_t block_bytes = gguf::GetTensorTypeInfo(a.type)->type_size;
    BlockStats& s = stats[a.type];
    for (uint64_t off = 0; off < a.size_bytes; off += block_bytes) {
      ++s.blocks;
      s.differing +=
          std::memcmp(ours->TensorData(a) + off, ref->TensorData(b) + off, block_bytes) != 0;
    }
    // Whatever differs is a rounding-level difference, far inside the format's error.
    const double err = testing::RelativeRmsError(testing::DequantizeTensor(*ref, b),
                                                 testing::DequantizeTensor(*ours, a));
    EXPECT_LE(err, 0.5 * testing::RelRmsBound(a.type)) << ref_name << " " << a.name;
  }
  for (const auto& [type, s] : stats) {
    std::printf("%s vs %s: %s blocks %llu, differing %llu (%.1f%%)\n", out.c_str(), ref_name,
                std::string(gguf::TensorTypeName(type)).c_str(),
                static_cast<unsigned long long>(s.blocks),
                static_cast<unsigned long long>(s.differing), 100.0 * s.differing / s.blocks);
  }
  return stats;
}

// The shared quantized files were made from the F32 original and ours from its F16 rounding,
// so codes near a rounding boundary may differ; from identical floats the bytes are identical
// (quant_golden_test). The floors below sit under the measured agreement.
TEST_F(ModelQuantizeTest, MatchesLlamaQuantizeFiles) {
  auto q8 = CompareWithLlamaFile(Path("q8.gguf"), QuantPreset::kQ8_0, "tiny-llama-spm-Q8_0.gguf");
  EXPECT_EQ(q8[TensorType::kF32].differing, 0u);
  EXPECT_GE(q8[TensorType::kQ8_0].blocks - q8[TensorType::kQ8_0].differing,
            0.5 * q8[TensorType::kQ8_0].blocks);
  auto q4 = CompareWithLlamaFile(Path("q4.gguf"), QuantPreset::kQ4_0, "tiny-llama-spm-Q4_0.gguf");
  EXPECT_LE(q4[TensorType::kQ4_0].differing, 0.05 * q4[TensorType::kQ4_0].blocks);
  auto km =
      CompareWithLlamaFile(Path("km.gguf"), QuantPreset::kQ4_K_M, "tiny-llama-spm-Q4_K_M.gguf");
  EXPECT_EQ(km.size(), 5u);  // F32, Q4_K, Q5_0, Q6_K, Q8_0
  EXPECT_LE(km[TensorType::kQ5_0].differing, 0.1 * km[TensorType::kQ5_0].blocks);
  EXPECT_LE(km[TensorType::kQ4_K].differing, 0.5 * km[TensorType::kQ4_K].blocks);
  EXPECT_LE(km[TensorType::kQ6_K].differing, 0.7 * km[TensorType::kQ6_K].blocks);
}

// Conversion output does not depend on how the rows are split over threads.
TEST(ConvertRowsTest, ThreadCountDoesNotChangeBytes) {
  const std::vector<float> x = [] {
    std::vector<float> v(37 * 512);
    for (size_t i = 0; i < v.size(); ++i) v[i] = std::sin(0.37f * i) * (1 + i % 7);
    return v;
  }();
  const auto* src = reinterpret_cast<const uint8_t*>(x.data());
  for (TensorType type : {TensorType::kQ4_K, TensorType::kQ8_0, TensorType::kBF16}) {
    const auto one = ConvertRows(TensorType::kF32, src, 512, 37, type, 1);
    const auto three = ConvertRows(TensorType::kF32, src, 512, 37, type, 3);
    ASSERT_TRUE(one.ok() && three.ok());
    EXPECT_TRUE(*one == *three) << gguf::TensorTypeName(type);
  }
  std::vector<float> bad = x;
  bad[20 * 512 + 3] = std::numeric_limits<float>::quiet_NaN();
  const auto r = ConvertRows(TensorType::kF32, reinterpret_cast<const uint8_t*>(bad.data()), 512,
                             37, TensorType::kQ8_0, 2);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("row 20"), std::string::npos) << r.status().message();
}

// Metadata: everything kept, the two quantization keys set (moved to the end, as llama.cpp's
// gguf_set_val does).
TEST_F(ModelQuantizeTest, KeepsMetadataAndSetsFileType) {
  const std::string in = testing::ModelPath("tiny-qwen2-bpe-Q8_0.gguf");
  QuantizeOptions options;
  options.preset = QuantPreset::kQ4_K_M;
  options.allow_requantize = true;
  ASSERT_TRUE(QuantizeModelFile(in, Path("out.gguf"), options).ok());
  auto src = testing::OpenOrDie(in);
  auto out = testing::OpenOrDie(Path("out.gguf"));
  ASSERT_TRUE(src && out);
  const auto& md = out->metadata();
  ASSERT_EQ(md.size(), src->metadata().size());
  EXPECT_EQ(md[md.size() - 2].key, "general.quantization_version");
  EXPECT_EQ(md.back().key, "general.file_type");
  EXPECT_EQ(out->GetUint("general.file_type").value(), 15u);
  EXPECT_EQ(out->GetUint("general.quantization_version").value(), 2u);
  for (const gguf::KeyValue& kv : src->metadata()) {
    if (kv.key == "general.file_type") continue;
    const gguf::Value* v = out->Find(kv.key);
    ASSERT_NE(v, nullptr) << kv.key;
    EXPECT_TRUE(*v == kv.value) << kv.key;
  }
}

// Writes a small F32 model whose second weight holds a NaN.
void WriteModelWithNaN(const std::string& path) {
  gguf::GgufWriter w;
  w.SetString("general.architecture", "llama");
  std::vector<float> good(64 * 4, 0.5f), bad(64 * 4, 0.25f);
  bad[130] = std::numeric_limits<float>::quiet_NaN();
  auto bytes = [](const std::vector<float>& v) {
    std::vector<uint8_t> b(v.size() * 4);
    std::memcpy(b.data(), v.data(), b.size());
    return b;
  };
  ASSERT_TRUE(w.AddTensorOwned("blk.0.attn_q.weight", {64, 4}, TensorType::kF32, bytes(good)).ok());
  ASSERT_TRUE(w.AddTensorOwned("blk.1.attn_q.weight", {64, 4}, TensorType::kF32, bytes(bad)).ok());
  ASSERT_TRUE(w.WriteFile(path).ok());
}

// Every failure leaves OUT as it was (here: a previous file) and no temp file behind.
TEST_F(ModelQuantizeTest, FailuresLeaveNoOutput) {
  const std::string out = Path("out.gguf");
  std::ofstream(out) << "previous";
  // Fails while writing: the second tensor cannot be quantized.
  WriteModelWithNaN(Path("nan.gguf"));
  auto r = Quantize(Path("nan.gguf"), out, QuantPreset::kQ8_0);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("blk.1.attn_q.weight"), std::string::npos)
      << r.status().message();
  // Fails before writing: input missing, input not GGUF, requantizing refused.
  r = Quantize(Path("missing.gguf"), out, QuantPreset::kQ8_0);
  EXPECT_EQ(r.status().code(), StatusCode::kNotFound) << r.status().ToString();
  std::ofstream(Path("text.gguf")) << "this is not a model file, just some text";
  r = Quantize(Path("text.gguf"), out, QuantPreset::kQ8_0);
  EXPECT_EQ(r.status().code(), StatusCode::kCorruption) << r.status().ToString();
  r = Quantize(testing::ModelPath("tiny-phi3-Q8_0.gguf"), out, QuantPreset::kQ4_0);
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(r.status().message().find("already Q8_0"), std::string::npos);
  EXPECT_EQ(ReadBytes(out), "previous");
  EXPECT_EQ(FilesInDir(), 3u);  // out.gguf, nan.gguf, text.gguf
  // A directory that does not exist.
  r = Quantize(testing::ModelPath("tiny-llama-spm-F16.gguf"), Path("no/such/dir/out.gguf"),
               QuantPreset::kQ8_0);
  EXPECT_FALSE(r.ok());
  EXPECT_FALSE(fs::exists(Path("no")));
}

}  // namespace
}  // namespace mle::kernels
