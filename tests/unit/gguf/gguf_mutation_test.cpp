// Deterministic mutation testing of the reader (the fuzzer's little sibling, run by the normal
// and the sanitizer suites): ~2000 mutants (bit flips, truncations, random length and count
// fields, byte insertions and deletions) of small valid copies of every shared model and vocab
// file, and of their raw 64 KiB headers. Each mutant must either be refused with a message, or
// parse fully and survive a writer round trip.
#include <gtest/gtest.h>

#include <cstdio>
#include <cstring>
#include <random>

#include "gguf/gguf_file.h"
#include "gguf/gguf_writer.h"
#include "gguf_test_util.h"

namespace mle::gguf {
namespace {

using Bytes = std::vector<uint8_t>;

Value Shrink(const Value& v) {
  if (v.type() != ValueType::kArray) return v;
  std::vector<Value> items;
  const Array& a = v.array();
  for (size_t i = 0; i < a.items.size() && i < 8; ++i) items.push_back(Shrink(a.items[i]));
  return Value::MakeArray(a.elem_type, std::move(items));
}

// A valid miniature of `f`: arrays cut to 8 items, each tensor one block of a fixed pattern.
Bytes Miniature(const GgufFile& f) {
  GgufWriter w;
  for (const KeyValue& kv : f.metadata()) w.Set(kv.key, Shrink(kv.value));
  for (const TensorInfo& t : f.tensors()) {
    auto info = GetTensorTypeInfo(t.type);
    std::vector<uint64_t> dims(t.dims.size(), 1);
    if (!dims.empty()) dims[0] = info->block_size;
    EXPECT_TRUE(w.AddTensorOwned(t.name, dims, t.type, Bytes(info->type_size, 0x3c)).ok());
  }
  auto s = w.WriteToString();
  EXPECT_TRUE(s.ok());
  return Bytes(s->begin(), s->end());
}

std::vector<Bytes> Bases() {
  std::vector<Bytes> out;
  auto files = testing::SharedGgufFiles("models");
  auto vocab = testing::SharedGgufFiles("vocab");
  files.insert(files.end(), vocab.begin(), vocab.end());
  for (const std::string& path : files) {
    auto f = GgufFile::Open(path);
    EXPECT_TRUE(f.ok()) << path;
    if (!f.ok()) continue;
    out.push_back(Miniature(**f));
    std::string head = testing::ReadBytes(path, 64 << 10);
    out.emplace_back(head.begin(), head.end());
  }
  return out;
}

// Values that break length and count fields in interesting ways.
constexpr uint64_t kNastyValues[] = {0,          1,          31,         32,
                                     0x7fffffff, 0xffffffff, 1ull << 32, 1ull << 40,
                                     1ull << 62, ~0ull >> 1, ~0ull - 31, ~0ull};

Bytes Mutate(const Bytes& base, std::mt19937_64& rng) {
  Bytes m = base;
  auto pick = [&rng](size_t n) { return n == 0 ? size_t{0} : size_t(rng() % n); };
  switch (rng() % 5) {
    case 0:  // flip 1..8 bits, biased to the first 4 KiB where the structure is
      for (int i = 0, n = 1 + int(rng() % 8); i < n && !m.empty(); ++i) {
        m[pick(std::min<size_t>(m.size(), 4096))] ^= uint8_t(1u << (rng() % 8));
      }
      break;
    case 1:  // truncate
      m.resize(pick(m.size()));
      break;
    case 2:  // overwrite an 8-byte field with a nasty value
      if (m.size() >= 8) {
        uint64_t v = kNastyValues[pick(std::size(kNastyValues))];
        std::memcpy(&m[pick(std::min<size_t>(m.size(), 4096) - 7)], &v, 8);
      }
      break;
    case 3: {  // overwrite a 4-byte field with a small (type-id-like) value
      if (m.size() >= 4) {
        uint32_t v = uint32_t(rng() % 40);
        std::memcpy(&m[pick(std::min<size_t>(m.size(), 4096) - 3)], &v, 4);
      }
      break;
    }
    default: {  // insert or delete a few bytes
      size_t pos = pick(std::min<size_t>(m.size(), 4096));
      size_t n = 1 + pick(8);
      if (rng() % 2 == 0) {
        m.insert(m.begin() + long(pos), n, uint8_t(rng()));
      } else {
        m.erase(m.begin() + long(pos), m.begin() + long(std::min(m.size(), pos + n)));
      }
    }
  }
  return m;
}

// Everything a caller may touch on an accepted file; the writer must reproduce it.
void ExerciseAccepted(const GgufFile& f) {
  for (const KeyValue& kv : f.metadata()) {
    (void)kv.value.ToString();
    (void)f.GetInt(kv.key);
    (void)f.GetFloat(kv.key);
    (void)f.GetStringArray(kv.key);
    (void)f.GetIntArray(kv.key);
    (void)f.GetFloatArray(kv.key);
  }
  uint64_t sum = 0;
  for (const TensorInfo& t : f.tensors()) {
    for (uint64_t i = 0; i < t.size_bytes; ++i) sum += f.TensorData(t)[i];
  }
  EXPECT_GE(sum, 0u);
  auto bytes = GgufWriter::FromFile(f).WriteToString();
  ASSERT_TRUE(bytes.ok()) << bytes.status().ToString();
  auto again = GgufFile::FromBuffer(reinterpret_cast<const uint8_t*>(bytes->data()), bytes->size());
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ((*again)->metadata().size(), f.metadata().size());
  EXPECT_EQ((*again)->tensors().size(), f.tensors().size());
}

TEST(GgufMutationTest, MutantsAreRefusedOrFullyUsable) {
  std::vector<Bytes> bases = Bases();
  ASSERT_EQ(bases.size(), 28u);
  for (size_t i = 0; i < bases.size(); i += 2) {  // the miniatures themselves are valid
    EXPECT_TRUE(GgufFile::FromBuffer(bases[i].data(), bases[i].size()).ok());
  }
  std::mt19937_64 rng(20251123);
  int accepted = 0, refused = 0;
  for (int i = 0; i < 2000; ++i) {
    Bytes m = Mutate(bases[size_t(i) % bases.size()], rng);
    // Exact-size heap copy: ASan flags a read one byte past the end.
    std::unique_ptr<uint8_t[]> buf(new uint8_t[m.size() + (m.empty() ? 1 : 0)]);
    if (!m.empty()) std::memcpy(buf.get(), m.data(), m.size());
    auto f = GgufFile::FromBuffer(buf.get(), m.size());
    if (!f.ok()) {
      ++refused;
      ASSERT_FALSE(f.status().message().empty()) << "mutant " << i;
      continue;
    }
    ++accepted;
    ExerciseAccepted(**f);
    if (HasFatalFailure()) FAIL() << "mutant " << i;
  }
  std::printf("mutants: %d accepted, %d refused\n", accepted, refused);
  // Both outcomes must be common, or the mutations are not reaching the parser's checks.
  EXPECT_GT(refused, 500) << "accepted " << accepted;
  EXPECT_GT(accepted, 100) << "refused " << refused;
}

}  // namespace
}  // namespace mle::gguf
