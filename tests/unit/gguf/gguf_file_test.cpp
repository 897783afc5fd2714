// GgufFile on the shared reference files: every model and vocab parses, and the header facts
// match what testdata/README.md says (architecture, shapes, tensor types, vocab sizes).
// Also the typed getters and their error messages.
#include "gguf/gguf_file.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <set>

#include "gguf_test_util.h"

namespace mle::gguf {
namespace {

using testing::ModelPath;
using testing::RawGguf;
using testing::SharedGgufFiles;
using testing::VocabPath;

std::unique_ptr<GgufFile> OpenOrDie(const std::string& path) {
  auto r = GgufFile::Open(path);
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return r.ok() ? std::move(r).value() : nullptr;
}

std::set<std::string> TypeNames(const GgufFile& f) {
  std::set<std::string> out;
  for (const TensorInfo& t : f.tensors()) out.insert(std::string(TensorTypeName(t.type)));
  return out;
}

TEST(GgufFileTest, EverySharedFileParses) {
  auto files = SharedGgufFiles("models");
  auto vocab = SharedGgufFiles("vocab");
  files.insert(files.end(), vocab.begin(), vocab.end());
  ASSERT_EQ(files.size(), 14u);
  for (const std::string& path : files) {
    auto f = OpenOrDie(path);
    ASSERT_NE(f, nullptr) << path;
    EXPECT_EQ(f->version(), 3u) << path;
    EXPECT_EQ(f->alignment(), 32u) << path;
    EXPECT_GT(f->metadata().size(), 10u) << path;
    EXPECT_EQ(f->data_offset() % 32, 0u) << path;
    EXPECT_TRUE(f->GetString("general.architecture").ok()) << path;
    for (const TensorInfo& t : f->tensors()) {
      EXPECT_EQ(f->FindTensor(t.name), &t);
      EXPECT_LE(f->data_offset() + t.offset + t.size_bytes, f->file_size()) << t.name;
    }
  }
}

struct ModelFacts {
  std::string file, arch, tokenizer;
  size_t n_tensors;
  int64_t n_embd, n_layer, n_head, n_head_kv, n_ff, n_vocab;
  double rope_base;
  std::set<std::string> types;
};

const ModelFacts kModels[] = {
    {"tiny-llama-spm-F16.gguf",
     "llama",
     "llama",
     38,
     256,
     4,
     8,
     4,
     704,
     32000,
     1e4,
     {"F16", "F32"}},
    {"tiny-llama-spm-BF16.gguf",
     "llama",
     "llama",
     38,
     256,
     4,
     8,
     4,
     704,
     32000,
     1e4,
     {"BF16", "F32"}},
    {"tiny-llama-spm-Q8_0.gguf",
     "llama",
     "llama",
     38,
     256,
     4,
     8,
     4,
     704,
     32000,
     1e4,
     {"Q8_0", "F32"}},
    {"tiny-llama-spm-Q4_0.gguf",
     "llama",
     "llama",
     38,
     256,
     4,
     8,
     4,
     704,
     32000,
     1e4,
     {"Q4_0", "Q6_K", "F32"}},
    {"tiny-llama-spm-Q4_K_M.gguf",
     "llama",
     "llama",
     38,
     256,
     4,
     8,
     4,
     704,
     32000,
     1e4,
     {"Q4_K", "Q6_K", "Q5_0", "Q8_0", "F32"}},
    {"tiny-qwen2-bpe-Q8_0.gguf",
     "qwen2",
     "gpt2",
     26,
     64,
     2,
     4,
     2,
     192,
     151936,
     1e6,
     {"Q8_0", "F32"}},
    {"tiny-phi3-Q8_0.gguf", "phi3", "llama", 15, 128, 2, 4, 4, 256, 32064, 0, {"Q8_0", "F32"}},
    {"tiny-gemma3-Q8_0.gguf",
     "gemma3",
     "gemma4",
     80,
     64,
     6,
     2,
     1,
     192,
     262144,
     1e6,
     {"Q8_0", "F32"}},
};

TEST(GgufFileTest, ModelsMatchTheReadme) {
  for (const ModelFacts& m : kModels) {
    SCOPED_TRACE(m.file);
    auto f = OpenOrDie(ModelPath(m.file));
    ASSERT_NE(f, nullptr);
    const std::string& a = m.arch;
    EXPECT_EQ(f->GetString("general.architecture").value(), a);
    EXPECT_EQ(f->GetString("tokenizer.ggml.model").value(), m.tokenizer);
    EXPECT_EQ(f->tensors().size(), m.n_tensors);
    EXPECT_EQ(f->GetInt(a + ".embedding_length").value(), m.n_embd);
    EXPECT_EQ(f->GetInt(a + ".block_count").value(), m.n_layer);
    EXPECT_EQ(f->GetInt(a + ".attention.head_count").value(), m.n_head);
    EXPECT_EQ(f->GetInt(a + ".attention.head_count_kv").value(), m.n_head_kv);
    EXPECT_EQ(f->GetInt(a + ".feed_forward_length").value(), m.n_ff);
    if (m.rope_base > 0) {
      EXPECT_EQ(f->GetFloat(a + ".rope.freq_base").value(), m.rope_base);
    }
    EXPECT_EQ(f->GetStringArray("tokenizer.ggml.tokens").value().size(), size_t(m.n_vocab));
    EXPECT_EQ(TypeNames(*f), m.types);
    const TensorInfo* emb = f->FindTensor("token_embd.weight");
    ASSERT_NE(emb, nullptr);
    EXPECT_EQ(emb->dims, (std::vector<uint64_t>{uint64_t(m.n_embd), uint64_t(m.n_vocab)}));
    EXPECT_EQ(emb->n_elements, uint64_t(m.n_embd * m.n_vocab));
  }
}

TEST(GgufFileTest, LlamaDetails) {
  auto f = OpenOrDie(ModelPath("tiny-llama-spm-F16.gguf"));
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(f->GetInt("llama.context_length").value(), 512);
  // Tied embeddings: no output.weight.
  EXPECT_EQ(f->FindTensor("output.weight"), nullptr);
  const TensorInfo* up = f->FindTensor("blk.3.ffn_up.weight");
  ASSERT_NE(up, nullptr);
  EXPECT_EQ(up->dims, (std::vector<uint64_t>{256, 704}));
  EXPECT_EQ(up->type, TensorType::kF16);
  EXPECT_EQ(up->size_bytes, 256u * 704u * 2u);
  const TensorInfo* norm = f->FindTensor("output_norm.weight");
  ASSERT_NE(norm, nullptr);
  EXPECT_EQ(norm->type, TensorType::kF32);
  EXPECT_EQ(norm->dims, std::vector<uint64_t>{256});
  // F32 data is readable through TensorData and finite.
  float first = 0;
  std::memcpy(&first, f->TensorData(*norm), sizeof(first));
  EXPECT_TRUE(std::isfinite(first));
  // Untied phi3 has an output matrix.
  auto phi = OpenOrDie(ModelPath("tiny-phi3-Q8_0.gguf"));
  ASSERT_NE(phi, nullptr);
  EXPECT_NE(phi->FindTensor("output.weight"), nullptr);
  auto gemma = OpenOrDie(ModelPath("tiny-gemma3-Q8_0.gguf"));
  ASSERT_NE(gemma, nullptr);
  EXPECT_EQ(gemma->GetInt("gemma3.attention.sliding_window").value(), 8);
}

TEST(GgufFileTest, VocabFilesHaveTokenizerAndNoTensors) {
  const std::pair<const char*, const char*> kVocabs[] = {
      {"ggml-vocab-gpt-2.gguf", "gpt2"},      {"ggml-vocab-llama-bpe.gguf", "gpt2"},
      {"ggml-vocab-llama-spm.gguf", "llama"}, {"ggml-vocab-phi-3.gguf", "llama"},
      {"ggml-vocab-qwen2.gguf", "gpt2"},      {"ggml-vocab-starcoder.gguf", "gpt2"},
  };
  for (const auto& [file, model] : kVocabs) {
    SCOPED_TRACE(file);
    auto f = OpenOrDie(VocabPath(file));
    ASSERT_NE(f, nullptr);
    EXPECT_TRUE(f->tensors().empty());
    EXPECT_EQ(f->GetString("tokenizer.ggml.model").value(), model);
    auto tokens = f->GetStringArray("tokenizer.ggml.tokens");
    ASSERT_TRUE(tokens.ok());
    EXPECT_GT(tokens->size(), 1000u);
    auto types = f->GetIntArray("tokenizer.ggml.token_type");
    ASSERT_TRUE(types.ok()) << types.status().ToString();
    EXPECT_EQ(types->size(), tokens->size());
    if (std::string(model) == "gpt2") {
      EXPECT_GT(f->GetStringArray("tokenizer.ggml.merges")->size(), 1000u);
    } else {
      EXPECT_EQ(f->GetFloatArray("tokenizer.ggml.scores")->size(), tokens->size());
    }
  }
  auto spm = OpenOrDie(VocabPath("ggml-vocab-llama-spm.gguf"));
  ASSERT_NE(spm, nullptr);
  EXPECT_EQ(spm->GetStringArray("tokenizer.ggml.tokens")->at(1), "<s>");
  EXPECT_EQ(spm->GetInt("tokenizer.ggml.bos_token_id").value(), 1);
}

// A small file with one key of every type, built byte by byte.
std::string AllTypesFile() {
  RawGguf g;
  g.Header(0, 14);
  g.Str("u8").U32(0).Put<uint8_t>(200);
  g.Str("i8").U32(1).Put<int8_t>(-5);
  g.Str("u16").U32(2).Put<uint16_t>(60000);
  g.Str("i16").U32(3).Put<int16_t>(-300);
  g.Str("u32").U32(4).U32(4000000000u);
  g.Str("i32").U32(5).Put<int32_t>(-7);
  g.Str("f32").U32(6).Put<float>(0.5f);
  g.Str("bool").U32(7).Put<uint8_t>(1);
  g.Str("str").U32(8).Str("hello");
  g.Str("u64").U32(10).U64(~0ull);
  g.Str("i64").U32(11).Put<int64_t>(-1);
  g.Str("f64").U32(12).Put<double>(1e-6);
  g.Str("arr_i32").U32(9).U32(5).U64(3).Put<int32_t>(1).Put<int32_t>(-2).Put<int32_t>(3);
  g.Str("arr_arr").U32(9).U32(9).U64(1).U32(8).U64(2).Str("a").Str("b");
  return g.bytes();
}

TEST(GgufFileTest, ValuesOfEveryType) {
  std::string bytes = AllTypesFile();
  auto r = GgufFile::FromBuffer(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size());
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  const GgufFile& f = **r;
  EXPECT_EQ(f.metadata().size(), 14u);
  EXPECT_EQ(f.GetInt("u8").value(), 200);
  EXPECT_EQ(f.GetInt("i8").value(), -5);
  EXPECT_EQ(f.GetInt("u16").value(), 60000);
  EXPECT_EQ(f.GetInt("i16").value(), -300);
  EXPECT_EQ(f.GetUint("u32").value(), 4000000000u);
  EXPECT_EQ(f.GetInt("i32").value(), -7);
  EXPECT_EQ(f.GetFloat("f32").value(), 0.5);
  EXPECT_TRUE(f.GetBool("bool").value());
  EXPECT_EQ(f.GetString("str").value(), "hello");
  EXPECT_EQ(f.GetUint("u64").value(), ~0ull);
  EXPECT_EQ(f.GetInt("i64").value(), -1);
  EXPECT_DOUBLE_EQ(f.GetFloat("f64").value(), 1e-6);
  EXPECT_EQ(f.GetIntArray("arr_i32").value(), (std::vector<int32_t>{1, -2, 3}));
  const Value* nested = f.Find("arr_arr");
  ASSERT_NE(nested, nullptr);
  EXPECT_EQ(nested->array().elem_type, ValueType::kArray);
  EXPECT_EQ(nested->array().items[0].array().items[1].str(), "b");
  EXPECT_EQ(nested->ToString(), "[[\"a\", \"b\"]]");
  EXPECT_EQ(f.Find("i8")->type(), ValueType::kInt8);
  EXPECT_EQ(f.data_offset(), 0u + (bytes.size() + 31) / 32 * 32);
}

TEST(GgufFileTest, TypedGetterErrorsNameKeyAndTypes) {
  std::string bytes = AllTypesFile();
  auto f =
      std::move(GgufFile::FromBuffer(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()))
          .value();
  auto s = f->GetString("u32");
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(s.status().message(), "metadata key 'u32' has type uint32, expected string");
  EXPECT_EQ(f->GetInt("str").status().message(),
            "metadata key 'str' has type string, expected an integer");
  EXPECT_EQ(f->GetFloat("u32").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(f->GetBool("u8").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(f->GetStringArray("arr_i32").status().message(),
            "metadata key 'arr_i32' has type array of int32, expected array of string");
  EXPECT_EQ(f->GetFloatArray("arr_i32").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(f->GetIntArray("str").status().code(), StatusCode::kInvalidArgument);
  // Range checks.
  EXPECT_EQ(f->GetInt("u64").status().code(), StatusCode::kOutOfRange);
  EXPECT_EQ(f->GetUint("i8").status().code(), StatusCode::kOutOfRange);
  // Missing keys.
  auto missing = f->GetString("general.nope");
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
  EXPECT_NE(missing.status().message().find("general.nope"), std::string::npos);
  EXPECT_EQ(f->Find("general.nope"), nullptr);
  EXPECT_EQ(f->FindTensor("nope"), nullptr);
  // *Or: default only when absent; a wrong type is still an error.
  EXPECT_EQ(f->GetStringOr("nope", "dflt").value(), "dflt");
  EXPECT_EQ(f->GetIntOr("nope", 42).value(), 42);
  EXPECT_EQ(f->GetFloatOr("nope", 2.5).value(), 2.5);
  EXPECT_FALSE(f->GetBoolOr("nope", false).value());
  EXPECT_EQ(f->GetIntOr("i16", 1).value(), -300);
  EXPECT_FALSE(f->GetIntOr("str", 1).ok());
  EXPECT_FALSE(f->GetBoolOr("str", true).ok());
}

TEST(GgufFileTest, OpenErrors) {
  auto missing = GgufFile::Open("/nonexistent/dir/model.gguf");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
  EXPECT_NE(missing.status().message().find("/nonexistent/dir/model.gguf"), std::string::npos);
  auto dir = GgufFile::Open(testing::SharedDir());
  EXPECT_FALSE(dir.ok());
  auto text = GgufFile::Open(VocabPath("seedtext.inp"));
  ASSERT_FALSE(text.ok());
  EXPECT_EQ(text.status().code(), StatusCode::kCorruption);
  EXPECT_NE(text.status().message().find("not a GGUF file"), std::string::npos);
  EXPECT_NE(text.status().message().find("seedtext.inp"), std::string::npos);
}

TEST(GgufFileTest, ValueToStringShortensLongArrays) {
  std::vector<Value> items;
  for (int32_t i = 0; i < 20; ++i) items.emplace_back(i);
  Value v = Value::MakeArray(ValueType::kInt32, items);
  EXPECT_EQ(v.ToString(3), "[0, 1, 2, ... (20 items)]");
  EXPECT_EQ(Value(std::string("a\"b\n")).ToString(), "\"a\\\"b\\n\"");
  EXPECT_EQ(Value(std::string("abcdef")).ToString(8, 3), "\"abc\"... (6 bytes)");
  EXPECT_EQ(Value(1e-5f).ToString(), "1e-05");
  EXPECT_EQ(Value(true).ToString(), "true");
  EXPECT_EQ(Value(uint64_t{7}).type(), ValueType::kUint64);
  EXPECT_TRUE(Value(std::numeric_limits<float>::quiet_NaN()) ==
              Value(std::numeric_limits<float>::quiet_NaN()));
  EXPECT_FALSE(Value(int32_t{1}) == Value(uint32_t{1}));
}

}  // namespace
}  // namespace mle::gguf
