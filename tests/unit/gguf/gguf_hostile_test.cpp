// Hostile GGUF files, crafted field by field: each must be refused with a Status that names
// the problem (never a crash, an abort or a huge allocation). The classes follow the GGUF
// loader CVEs and llama.cpp's test-gguf corruption list (research/perf-reliability-anchors B1).
#include <gtest/gtest.h>

#include "gguf/gguf_file.h"
#include "gguf_test_util.h"

namespace mle::gguf {
namespace {

using testing::RawGguf;

constexpr uint32_t kF32 = 0;
constexpr uint32_t kQ8_0 = 8;

Status Parse(const RawGguf& g) {
  // An exact-size heap copy, so ASan catches any read past the end.
  std::vector<uint8_t> copy(g.data(), g.data() + g.size());
  auto r = GgufFile::FromBuffer(copy.data(), copy.size());
  return r.ok() ? Status::Ok() : r.status();
}

// Expects a refusal whose message contains `needle`.
void ExpectError(const RawGguf& g, const std::string& needle,
                 StatusCode code = StatusCode::kCorruption) {
  Status s = Parse(g);
  ASSERT_FALSE(s.ok()) << "accepted a file that should fail with: " << needle;
  EXPECT_EQ(s.code(), code) << s.ToString();
  EXPECT_NE(s.message().find(needle), std::string::npos) << s.message();
}

// One valid F32 tensor "t" of 8 floats, optionally after `extra_kv` (counted in n_kv).
RawGguf OneTensorFile() {
  RawGguf g;
  g.Header(1, 1).KvStr("general.architecture", "llama");
  g.Tensor("t", {8}, kF32, 0).Pad().Zeros(32);
  return g;
}

TEST(GgufHostileTest, ValidBaseFileParses) {
  RawGguf g = OneTensorFile();
  std::vector<uint8_t> copy(g.data(), g.data() + g.size());
  auto r = GgufFile::FromBuffer(copy.data(), copy.size());
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ((*r)->tensors()[0].size_bytes, 32u);
  EXPECT_EQ((*r)->data_offset(), g.size() - 32);
}

TEST(GgufHostileTest, NotGguf) {
  ExpectError(RawGguf().Bytes(""), "not a GGUF file");
  ExpectError(RawGguf().Bytes("GGU"), "not a GGUF file");
  ExpectError(RawGguf().Bytes("{\"model\": 1}"),
              "not a GGUF file: it starts with the bytes 7b 22 6d 6f ('{\"mo'), expected 'GGUF'");
  ExpectError(RawGguf().Bytes("tjggXXXXXXXX"), "legacy GGML/GGJT");
  ExpectError(RawGguf().Bytes("GGUF"), "truncated GGUF file: version");
}

TEST(GgufHostileTest, Versions) {
  ExpectError(RawGguf().Header(0, 0, 1), "GGUF version 1 is not supported",
              StatusCode::kUnimplemented);
  ExpectError(RawGguf().Header(0, 0, 4), "unsupported GGUF version 4", StatusCode::kUnimplemented);
  ExpectError(RawGguf().Header(0, 0, 0), "unsupported GGUF version 0", StatusCode::kUnimplemented);
  EXPECT_TRUE(Parse(RawGguf().Header(0, 0, 2)).ok());
  EXPECT_TRUE(Parse(RawGguf().Header(0, 0, 3)).ok());
}

TEST(GgufHostileTest, BigEndianIsRefused) {
  RawGguf be;
  be.Bytes("GGUF").U32(0x03000000).U64(0).U64(0);
  ExpectError(be, "big-endian", StatusCode::kUnimplemented);
  ExpectError(RawGguf().Bytes("FUGG").U32(3).U64(0).U64(0), "big-endian",
              StatusCode::kUnimplemented);
}

TEST(GgufHostileTest, HugeCounts) {
  ExpectError(RawGguf().Header(0, ~0ull), "metadata count 18446744073709551615 is impossible");
  ExpectError(RawGguf().Header(1ull << 62, 0), "tensor count");
  // Plausible under the cap, but more entries than the bytes left can hold.
  ExpectError(RawGguf().Header(0, 1000).KvU32("a", 1), "metadata count 1000 is impossible");
}

TEST(GgufHostileTest, HugeStringLengths) {
  ExpectError(RawGguf().Header(0, 1).U64(1ull << 62).Bytes("key").Zeros(16), "over the limit");
  ExpectError(RawGguf().Header(0, 1).Str("k").U32(8).U64(1ull << 40).Bytes("xx"), "over the limit");
  // Under the cap but past the end of the file.
  ExpectError(RawGguf().Header(0, 1).Str("k").U32(8).U64(1000).Bytes("short"),
              "truncated GGUF file: string value of 'k'");
}

TEST(GgufHostileTest, HugeArrayCounts) {
  ExpectError(RawGguf().Header(0, 1).Str("arr").U32(9).U32(0).U64(1ull << 60).Zeros(16),
              "metadata key 'arr': array of 1152921504606846976 uint8 items");
  ExpectError(RawGguf().Header(0, 1).Str("arr").U32(9).U32(10).U64(100).Zeros(16), "does not fit");
  // The total over all arrays is capped as well (checked before the bytes are looked at).
  RawGguf many;
  many.Header(0, 2).Str("a").U32(9).U32(0).U64(10).Zeros(10);
  many.Str("b").U32(9).U32(0).U64((1ull << 24) - 5).Zeros(64);
  ExpectError(many, "more than 16777216 array items in total");
  // String items each need at least 8 bytes.
  ExpectError(RawGguf().Header(0, 1).Str("arr").U32(9).U32(8).U64(10).Zeros(40), "does not fit");
}

TEST(GgufHostileTest, UnknownValueTypes) {
  ExpectError(RawGguf().Header(0, 1).Str("weird").U32(13).U32(0),
              "metadata key 'weird' has unknown value type 13");
  ExpectError(RawGguf().Header(0, 1).Str("weird").U32(0xffffffff).U32(0),
              "unknown value type 4294967295");
  ExpectError(RawGguf().Header(0, 1).Str("arr").U32(9).U32(77).U64(0),
              "metadata key 'arr' is an array of unknown value type 77");
  ExpectError(RawGguf().Header(0, 1).Str("flag").U32(7).Put<uint8_t>(2), "bool value 2");
}

TEST(GgufHostileTest, BadKeys) {
  ExpectError(RawGguf().Header(0, 2).KvU32("a", 1).KvU32("a", 2), "duplicate metadata key 'a'");
  ExpectError(RawGguf().Header(0, 1).KvU32("", 1), "is empty");
}

TEST(GgufHostileTest, DeeplyNestedArrays) {
  RawGguf g;
  g.Header(0, 1).Str("deep").U32(9);
  for (int i = 0; i < 12; ++i) g.U32(9).U64(1);  // array of array of ...
  g.U32(0).U64(0);
  ExpectError(g, "nested deeper than 8");
}

TEST(GgufHostileTest, BadAlignment) {
  ExpectError(RawGguf().Header(0, 1).KvStr("general.alignment", "32"),
              "general.alignment has type string, expected uint32");
  ExpectError(RawGguf().Header(0, 1).KvU32("general.alignment", 0), "power of two");
  ExpectError(RawGguf().Header(0, 1).KvU32("general.alignment", 48), "general.alignment is 48");
  ExpectError(RawGguf().Header(0, 1).KvU32("general.alignment", 1u << 21), "power of two");
  // A valid custom alignment is honoured: offsets must be multiples of it.
  RawGguf g;
  g.Header(1, 1).KvU32("general.alignment", 64).Tensor("t", {8}, kF32, 32).Pad(64).Zeros(128);
  ExpectError(g, "tensor 't': data offset 32 is not a multiple of the alignment 64");
}

TEST(GgufHostileTest, UnknownTensorType) {
  RawGguf g;
  g.Header(1, 0).Tensor("blk.0.attn_q.weight", {32}, 99, 0).Pad().Zeros(64);
  ExpectError(g, "tensor 'blk.0.attn_q.weight' has unknown tensor type id 99");
  RawGguf removed;  // id 4 (Q4_2) was removed from ggml
  removed.Header(1, 0).Tensor("w", {32}, 4, 0).Pad().Zeros(64);
  ExpectError(removed, "unknown tensor type id 4");
}

TEST(GgufHostileTest, BadShapes) {
  ExpectError(RawGguf().Header(1, 0).Tensor("t", {1, 1, 1, 1, 1}, kF32, 0).Pad().Zeros(4),
              "tensor 't' has 5 dimensions (at most 4)");
  ExpectError(RawGguf().Header(1, 0).Tensor("t", {1ull << 32, 1ull << 32, 1ull << 32}, kF32, 0),
              "product of its dimensions overflows");
  ExpectError(RawGguf().Header(1, 0).Tensor("t", {~0ull, 2}, kF32, 0), "overflows");
  ExpectError(RawGguf().Header(1, 0).Tensor("q", {33}, kQ8_0, 0).Pad().Zeros(64),
              "first dimension 33 is not a multiple of the block size 32");
  ExpectError(RawGguf().Header(1, 0).U64(1ull << 40).Zeros(32),
              "over the limit");  // tensor name length
}

TEST(GgufHostileTest, TensorDataOutsideTheFile) {
  ExpectError(RawGguf().Header(1, 0).Tensor("t", {8}, kF32, 1024).Pad().Zeros(32),
              "tensor 't': data [1024, +32) lies past the end of the file");
  // The data itself truncated.
  ExpectError(RawGguf().Header(1, 0).Tensor("t", {8}, kF32, 0).Pad().Zeros(31), "past the end");
  // An offset near 2^64 must not wrap around.
  ExpectError(RawGguf().Header(1, 0).Tensor("t", {8}, kF32, ~0ull - 31).Pad().Zeros(32),
              "past the end");
  // Data section missing entirely.
  ExpectError(RawGguf().Header(1, 0).Tensor("t", {8}, kF32, 0), "data section starts at offset");
  // A tensor that is too large for any file (2^50 F32 elements).
  ExpectError(RawGguf().Header(1, 0).Tensor("t", {1ull << 25, 1ull << 25}, kF32, 0).Pad(),
              "past the end");
}

TEST(GgufHostileTest, OverlappingAndDuplicateTensors) {
  RawGguf overlap;
  overlap.Header(2, 0).Tensor("a", {16}, kF32, 0).Tensor("b", {8}, kF32, 32).Pad().Zeros(96);
  ExpectError(overlap, "tensors 'a' and 'b' overlap");
  RawGguf same;
  same.Header(2, 0).Tensor("a", {8}, kF32, 0).Tensor("b", {8}, kF32, 0).Pad().Zeros(64);
  ExpectError(same, "overlap");
  RawGguf dup;
  dup.Header(2, 0).Tensor("a", {8}, kF32, 0).Tensor("a", {8}, kF32, 32).Pad().Zeros(64);
  ExpectError(dup, "duplicate tensor name 'a'");
  // An empty tensor owns no bytes, so it may share an offset (found by the fuzzer: the writer
  // places an empty tensor at the offset of the next one).
  RawGguf empty;
  empty.Header(2, 0).Tensor("e", {0, 4}, kF32, 0).Tensor("a", {8}, kF32, 0).Pad().Zeros(32);
  EXPECT_TRUE(Parse(empty).ok()) << Parse(empty).ToString();
  // Adjacent, in reverse order, is fine.
  RawGguf ok;
  ok.Header(2, 0).Tensor("a", {8}, kF32, 32).Tensor("b", {8}, kF32, 0).Pad().Zeros(64);
  EXPECT_TRUE(Parse(ok).ok());
}

TEST(GgufHostileTest, EveryTruncationFails) {
  RawGguf full = OneTensorFile();
  for (size_t n = 0; n < full.size(); ++n) {
    RawGguf cut;
    cut.Bytes(full.bytes().substr(0, n));
    Status s = Parse(cut);
    EXPECT_FALSE(s.ok()) << "prefix of " << n << " bytes accepted";
    EXPECT_FALSE(s.message().empty());
  }
}

}  // namespace
}  // namespace mle::gguf
