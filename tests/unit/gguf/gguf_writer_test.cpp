// GgufWriter: every shared model and vocab file read and written back is byte-identical (and
// re-reads to the same metadata, tensor infos and tensor bytes); the encoding matches a
// hand-built file; alignment, streaming, validation and atomic replacement behave as stated.
#include "gguf/gguf_writer.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>

#include "gguf_test_util.h"

namespace mle::gguf {
namespace {

using testing::RawGguf;
using testing::ReadBytes;
using testing::SharedGgufFiles;

class GgufWriterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ =
        std::filesystem::temp_directory_path() / ("gguf_writer_test." + std::to_string(::getpid()));
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string Path(const std::string& name) const { return (dir_ / name).string(); }
  std::vector<std::string> DirEntries() const {
    std::vector<std::string> out;
    for (const auto& e : std::filesystem::directory_iterator(dir_)) {
      out.push_back(e.path().filename().string());
    }
    return out;
  }

  std::filesystem::path dir_;
};

std::unique_ptr<GgufFile> Reparse(const std::string& bytes) {
  auto r = GgufFile::FromBuffer(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size());
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return r.ok() ? std::move(r).value() : nullptr;
}

void ExpectSameContent(const GgufFile& a, const GgufFile& b) {
  ASSERT_EQ(a.metadata().size(), b.metadata().size());
  for (size_t i = 0; i < a.metadata().size(); ++i) {
    EXPECT_EQ(a.metadata()[i].key, b.metadata()[i].key);
    EXPECT_TRUE(a.metadata()[i].value == b.metadata()[i].value) << a.metadata()[i].key;
  }
  ASSERT_EQ(a.tensors().size(), b.tensors().size());
  for (size_t i = 0; i < a.tensors().size(); ++i) {
    const TensorInfo& x = a.tensors()[i];
    const TensorInfo& y = b.tensors()[i];
    EXPECT_EQ(x.name, y.name);
    EXPECT_EQ(x.dims, y.dims);
    EXPECT_EQ(x.type, y.type);
    EXPECT_EQ(x.offset, y.offset);
    ASSERT_EQ(x.size_bytes, y.size_bytes);
    EXPECT_EQ(std::memcmp(a.TensorData(x), b.TensorData(y), x.size_bytes), 0) << x.name;
  }
}

TEST_F(GgufWriterTest, SharedFilesRoundTripByteIdentical) {
  auto files = SharedGgufFiles("models");
  auto vocab = SharedGgufFiles("vocab");
  files.insert(files.end(), vocab.begin(), vocab.end());
  ASSERT_EQ(files.size(), 14u);
  for (const std::string& path : files) {
    SCOPED_TRACE(path);
    auto src = GgufFile::Open(path);
    ASSERT_TRUE(src.ok()) << src.status().ToString();
    std::string out = Path("copy.gguf");
    ASSERT_TRUE(GgufWriter::FromFile(**src).WriteFile(out).ok());
    auto copy = GgufFile::Open(out);
    ASSERT_TRUE(copy.ok()) << copy.status().ToString();
    ExpectSameContent(**src, **copy);
    ASSERT_EQ((*copy)->file_size(), (*src)->file_size());
    EXPECT_EQ(std::memcmp((*copy)->data(), (*src)->data(), (*src)->file_size()), 0);
  }
  EXPECT_EQ(DirEntries(), std::vector<std::string>{"copy.gguf"});  // no temp files left
}

TEST_F(GgufWriterTest, EncodingMatchesTheSpec) {
  GgufWriter w;
  w.SetString("general.architecture", "llama");
  w.SetUint32("n", 7);
  w.SetInt32Array("ids", {1, -1});
  std::vector<uint8_t> data(8, 0xab);
  ASSERT_TRUE(w.AddTensorOwned("w", {2}, TensorType::kF32, data).ok());
  RawGguf expected;
  expected.Header(1, 3).KvStr("general.architecture", "llama").KvU32("n", 7);
  expected.Str("ids").U32(9).U32(5).U64(2).Put<int32_t>(1).Put<int32_t>(-1);
  expected.Tensor("w", {2}, 0, 0).Pad().Bytes(std::string(8, '\xab')).Pad();
  auto bytes = w.WriteToString();
  ASSERT_TRUE(bytes.ok()) << bytes.status().ToString();
  EXPECT_EQ(*bytes, expected.bytes());
}

TEST_F(GgufWriterTest, EveryValueTypeRoundTrips) {
  GgufWriter w;
  w.Set("u8", Value(uint8_t{250}));
  w.Set("i8", Value(int8_t{-128}));
  w.Set("u16", Value(uint16_t{65535}));
  w.Set("i16", Value(int16_t{-32768}));
  w.SetUint32("u32", 4294967295u);
  w.SetInt32("i32", -2147483647 - 1);
  w.SetFloat32("f32", -0.0f);
  w.SetBool("b", false);
  w.SetString("s", std::string("with\0nul", 8));
  w.SetUint64("u64", ~0ull);
  w.SetInt64("i64", -(1ll << 62));
  w.SetFloat64("f64", 3.141592653589793);
  w.SetStringArray("sa", {"a", "", "\xc3\xa9"});
  w.SetFloat32Array("fa", {1.5f, -2.0f});
  w.SetArray("empty", ValueType::kUint64, {});
  w.SetArray("nested", ValueType::kArray,
             {Value::MakeArray(ValueType::kBool, {Value(true)}),
              Value::MakeArray(ValueType::kString, {Value("x")})});
  auto bytes = w.WriteToString();
  ASSERT_TRUE(bytes.ok()) << bytes.status().ToString();
  auto f = Reparse(*bytes);
  ASSERT_NE(f, nullptr);
  ASSERT_EQ(f->metadata().size(), w.metadata().size());
  for (size_t i = 0; i < w.metadata().size(); ++i) {
    EXPECT_EQ(f->metadata()[i].key, w.metadata()[i].key);
    EXPECT_TRUE(f->metadata()[i].value == w.metadata()[i].value) << w.metadata()[i].key;
  }
  EXPECT_EQ(f->GetString("s").value().size(), 8u);
  EXPECT_EQ(f->Find("empty")->array().elem_type, ValueType::kUint64);
  EXPECT_TRUE(f->tensors().empty());
}

TEST_F(GgufWriterTest, SetReplacesInPlaceAndRemove) {
  GgufWriter w;
  w.SetUint32("a", 1);
  w.SetUint32("b", 2);
  w.SetString("a", "now a string");
  ASSERT_EQ(w.metadata().size(), 2u);
  EXPECT_EQ(w.metadata()[0].key, "a");
  EXPECT_EQ(w.metadata()[0].value.str(), "now a string");
  EXPECT_TRUE(w.Remove("a"));
  EXPECT_FALSE(w.Remove("a"));
  EXPECT_EQ(w.Find("a"), nullptr);
  ASSERT_NE(w.Find("b"), nullptr);
}

TEST_F(GgufWriterTest, HonoursGeneralAlignment) {
  GgufWriter w;
  w.SetUint32("general.alignment", 64);
  std::vector<uint8_t> a(12), b(34);
  for (size_t i = 0; i < a.size(); ++i) a[i] = static_cast<uint8_t>(i);
  for (size_t i = 0; i < b.size(); ++i) b[i] = static_cast<uint8_t>(100 + i);
  ASSERT_TRUE(w.AddTensor("a", {3}, TensorType::kF32, a.data(), a.size()).ok());
  ASSERT_TRUE(w.AddTensor("b", {32}, TensorType::kQ8_0, b.data(), b.size()).ok());
  ASSERT_TRUE(w.AddTensorOwned("empty", {0}, TensorType::kF32, {}).ok());
  auto bytes = w.WriteToString();
  ASSERT_TRUE(bytes.ok()) << bytes.status().ToString();
  EXPECT_EQ(bytes->size() % 64, 0u);
  auto f = Reparse(*bytes);
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(f->alignment(), 64u);
  EXPECT_EQ(f->data_offset() % 64, 0u);
  EXPECT_EQ(f->FindTensor("a")->offset, 0u);
  EXPECT_EQ(f->FindTensor("b")->offset, 64u);
  EXPECT_EQ(f->FindTensor("empty")->offset, 128u);
  EXPECT_EQ(std::memcmp(f->TensorData(*f->FindTensor("b")), b.data(), b.size()), 0);
  EXPECT_EQ(w.TensorInfos()[1].offset, 64u);
}

TEST_F(GgufWriterTest, RejectsBadInput) {
  GgufWriter w;
  std::vector<uint8_t> four(4);
  EXPECT_TRUE(w.AddTensor("t", {1}, TensorType::kF32, four.data(), 4).ok());
  EXPECT_NE(w.AddTensor("t", {1}, TensorType::kF32, four.data(), 4).message().find("duplicate"),
            std::string::npos);
  EXPECT_FALSE(w.AddTensor("", {1}, TensorType::kF32, four.data(), 4).ok());
  EXPECT_FALSE(w.AddTensor("5d", {1, 1, 1, 1, 1}, TensorType::kF32, four.data(), 4).ok());
  EXPECT_NE(w.AddTensor("q", {33}, TensorType::kQ8_0, four.data(), 4).message().find("block"),
            std::string::npos);
  EXPECT_NE(w.AddTensor("size", {2}, TensorType::kF32, four.data(), 4).message().find("need 8"),
            std::string::npos);
  EXPECT_FALSE(w.AddTensorStreamed("p", {1}, TensorType::kF32, nullptr).ok());

  GgufWriter bad_align;
  bad_align.SetUint32("general.alignment", 24);
  EXPECT_EQ(bad_align.WriteToString().status().code(), StatusCode::kInvalidArgument);
  bad_align.SetFloat32("general.alignment", 32);
  EXPECT_FALSE(bad_align.WriteToString().ok());

  GgufWriter bad_array;
  bad_array.SetArray("mixed", ValueType::kInt32, {Value(int32_t{1}), Value("two")});
  auto r = bad_array.WriteToString();
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("'mixed'"), std::string::npos);
}

TEST_F(GgufWriterTest, StreamsTensorsInChunks) {
  GgufWriter w;
  const uint64_t n = 3 << 20;  // 3 Mi floats: larger than the writer's buffer
  ASSERT_TRUE(w.AddTensorStreamed("big", {n}, TensorType::kF32, [n](TensorSink& sink) {
                 std::vector<float> chunk(4096);
                 for (uint64_t done = 0; done < n; done += chunk.size()) {
                   for (size_t i = 0; i < chunk.size(); ++i) chunk[i] = float(done + i);
                   MLE_RETURN_IF_ERROR(sink.Write(reinterpret_cast<const uint8_t*>(chunk.data()),
                                                  chunk.size() * sizeof(float)));
                 }
                 return Status::Ok();
               }).ok());
  std::string out = Path("big.gguf");
  ASSERT_TRUE(w.WriteFile(out).ok());
  auto f = GgufFile::Open(out);
  ASSERT_TRUE(f.ok()) << f.status().ToString();
  const TensorInfo* t = (*f)->FindTensor("big");
  ASSERT_NE(t, nullptr);
  ASSERT_EQ(t->size_bytes, n * 4);
  float last = 0;
  std::memcpy(&last, (*f)->TensorData(*t) + (n - 1) * 4, 4);
  EXPECT_EQ(last, float(n - 1));
}

TEST_F(GgufWriterTest, FailedWriteLeavesTargetUntouched) {
  std::string out = Path("model.gguf");
  GgufWriter good;
  good.SetString("general.architecture", "llama");
  ASSERT_TRUE(good.WriteFile(out).ok());
  std::string before = ReadBytes(out);

  GgufWriter short_producer;
  ASSERT_TRUE(short_producer
                  .AddTensorStreamed("t", {8}, TensorType::kF32,
                                     [](TensorSink& sink) {
                                       uint8_t b[16] = {};
                                       return sink.Write(b, sizeof(b));  // 16 of 32 bytes
                                     })
                  .ok());
  Status s = short_producer.WriteFile(out);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("producer wrote 16 of its 32 bytes"), std::string::npos);

  GgufWriter failing;
  ASSERT_TRUE(failing
                  .AddTensorStreamed("t", {8}, TensorType::kF32,
                                     [](TensorSink&) { return IoError("disk on fire"); })
                  .ok());
  EXPECT_EQ(failing.WriteFile(out).message(), "disk on fire");
  EXPECT_EQ(ReadBytes(out), before);
  EXPECT_EQ(DirEntries(), std::vector<std::string>{"model.gguf"});
  EXPECT_FALSE(good.WriteFile(Path("no/such/dir/x.gguf")).ok());
}

}  // namespace
}  // namespace mle::gguf
