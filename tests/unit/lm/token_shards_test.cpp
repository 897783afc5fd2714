// Token shards: writer -> TokenData round trips (uint16 and uint32, reads spanning shard
// boundaries), and the fault cases: truncated, corrupted, missing shards, a broken index.
#include <gtest/gtest.h>

#include <filesystem>

#include <nlohmann/json.hpp>

#include "lm/token_shards.h"
#include "lm_text_test_util.h"

namespace mle::lm {
namespace {

using testutil::ReadText;
using testutil::TempDir;
using testutil::WriteText;

struct Written {
  std::vector<int32_t> train, val;
};

// Writes documents of lengths 1..n_docs (ids cycling below vocab) with small shards and an
// index.json as `lm data` does; returns the concatenated token streams.
Written WriteShards(const std::string& dir, int vocab, int n_docs, uint64_t shard_bytes) {
  std::filesystem::create_directories(dir);
  auto w = TokenShardWriter::Create(dir, vocab, shard_bytes);
  EXPECT_TRUE(w.ok());
  Written out;
  int32_t next = 0;
  for (int d = 1; d <= n_docs; ++d) {
    std::vector<int32_t> doc;
    for (int i = 0; i < d; ++i) doc.push_back(next = (next * 7 + 13) % vocab);
    const Split s = d % 4 == 0 ? Split::kVal : Split::kTrain;
    EXPECT_TRUE((*w)->AppendDocument(s, doc).ok());
    auto& dst = s == Split::kVal ? out.val : out.train;
    dst.insert(dst.end(), doc.begin(), doc.end());
  }
  auto splits = (*w)->Finish();
  EXPECT_TRUE(splits.ok());
  const nlohmann::json index = {{"format", kShardFormatName},
                                {"version", kShardFormatVersion},
                                {"dtype", ShardDtypeFor(vocab)},
                                {"vocab_size", vocab},
                                {"tokenizer", {{"dir", "/tok"}, {"sha256", "abc"}}},
                                {"splits", *splits}};
  WriteText(dir + "/index.json", index.dump(2));
  return out;
}

void ExpectAllRangesRead(const TokenData& d, Split s, const std::vector<int32_t>& want) {
  ASSERT_EQ(d.n_tokens(s), want.size());
  std::vector<int64_t> got(want.size());
  for (size_t start = 0; start < want.size(); start += 3) {
    for (size_t n : {size_t{0}, size_t{1}, size_t{5}, size_t{17}, want.size() - start}) {
      if (start + n > want.size()) continue;
      ASSERT_TRUE(d.Read(s, start, n, got.data()).ok());
      for (size_t i = 0; i < n; ++i) {
        ASSERT_EQ(got[i], want[start + i]) << "start " << start << " n " << n << " i " << i;
      }
    }
  }
}

TEST(TokenShards, RoundTripUint16AcrossShardBoundaries) {
  TempDir dir;
  const Written w = WriteShards(dir / "d", 1000, 30, /*shard_bytes=*/14);  // 7 tokens a shard
  auto d = TokenData::Open(dir / "d", /*verify_checksums=*/true);
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  EXPECT_EQ((*d)->dtype(), "uint16");
  EXPECT_EQ((*d)->vocab_size(), 1000);
  EXPECT_EQ((*d)->tokenizer_dir(), "/tok");
  EXPECT_EQ((*d)->tokenizer_sha256(), "abc");
  ExpectAllRangesRead(**d, Split::kTrain, w.train);
  ExpectAllRangesRead(**d, Split::kVal, w.val);
  EXPECT_EQ(std::filesystem::file_size(dir / "d/train-00000.bin"), 14u);
  EXPECT_TRUE(std::filesystem::exists(dir / "d/val-00000.bin"));
  const nlohmann::json index = (*d)->index();
  EXPECT_EQ(index["splits"]["train"]["n_documents"], 23);
  EXPECT_EQ(index["splits"]["val"]["n_documents"], 7);
  EXPECT_EQ(index["splits"]["train"]["shards"].size(), (w.train.size() + 6) / 7);
  // Out of range.
  int64_t x;
  EXPECT_EQ((*d)->Read(Split::kVal, w.val.size(), 1, &x).code(), StatusCode::kOutOfRange);
  EXPECT_EQ((*d)->Read(Split::kVal, w.val.size() + 5, 0, &x).code(), StatusCode::kOutOfRange);
  EXPECT_TRUE((*d)->Read(Split::kVal, w.val.size(), 0, &x).ok());
}

TEST(TokenShards, Uint32ForLargeVocabularies) {
  TempDir dir;
  const Written w = WriteShards(dir / "d", 70000, 12, /*shard_bytes=*/40);
  auto d = TokenData::Open(dir / "d", true);
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  EXPECT_EQ((*d)->dtype(), "uint32");
  ExpectAllRangesRead(**d, Split::kTrain, w.train);
  EXPECT_EQ(std::filesystem::file_size(dir / "d/train-00000.bin"), 40u);
}

TEST(TokenShards, WriterRejectsIdsOutsideTheVocabulary) {
  TempDir dir;
  auto w = TokenShardWriter::Create(dir.path(), 100, 1024);
  ASSERT_TRUE(w.ok());
  const std::vector<int32_t> bad = {1, 100};
  EXPECT_EQ((*w)->AppendDocument(Split::kTrain, bad).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(TokenShardWriter::Create(dir.path(), 0, 1024).status().code(),
            StatusCode::kInvalidArgument);
}

TEST(TokenShards, TruncatedShardIsAnErrorNamingTheFile) {
  TempDir dir;
  WriteShards(dir / "d", 1000, 30, 14);
  std::filesystem::resize_file(dir / "d/train-00002.bin", 13);
  auto d = TokenData::Open(dir / "d");
  ASSERT_FALSE(d.ok());
  EXPECT_EQ(d.status().code(), StatusCode::kCorruption);
  EXPECT_NE(d.status().message().find("train-00002.bin' is 13 bytes"), std::string::npos)
      << d.status().message();
  EXPECT_NE(d.status().message().find("truncated or corrupt"), std::string::npos);
}

TEST(TokenShards, CorruptShardIsCaughtByChecksums) {
  TempDir dir;
  WriteShards(dir / "d", 1000, 30, 14);
  std::string bytes = ReadText(dir / "d/val-00001.bin");
  bytes[3] ^= 1;
  WriteText(dir / "d/val-00001.bin", bytes);
  EXPECT_TRUE(TokenData::Open(dir / "d").ok());  // same size: only the checksum tells
  auto d = TokenData::Open(dir / "d", /*verify_checksums=*/true);
  ASSERT_FALSE(d.ok());
  EXPECT_NE(d.status().message().find("val-00001.bin' has SHA-256"), std::string::npos);
}

TEST(TokenShards, MissingShardOrIndex) {
  TempDir dir;
  EXPECT_EQ(TokenData::Open(dir / "nope").status().code(), StatusCode::kNotFound);
  WriteShards(dir / "d", 1000, 30, 14);
  std::filesystem::remove(dir / "d/train-00001.bin");
  auto d = TokenData::Open(dir / "d");
  EXPECT_EQ(d.status().code(), StatusCode::kNotFound);
  EXPECT_NE(d.status().message().find("train-00001.bin' listed in index.json is missing"),
            std::string::npos);
  WriteText(dir / "d/index.json", "{not json");
  EXPECT_EQ(TokenData::Open(dir / "d").status().code(), StatusCode::kCorruption);
  std::filesystem::remove(dir / "d/index.json");
  d = TokenData::Open(dir / "d");
  EXPECT_EQ(d.status().code(), StatusCode::kNotFound);
  EXPECT_NE(d.status().message().find("ml-engine lm data"), std::string::npos);
}

TEST(TokenShards, IndexDisagreeingWithShardsIsCorruption) {
  TempDir dir;
  WriteShards(dir / "d", 1000, 10, 14);
  nlohmann::json index = nlohmann::json::parse(ReadText(dir / "d/index.json"));
  index["splits"]["train"]["n_tokens"] = 1;
  WriteText(dir / "d/index.json", index.dump());
  EXPECT_EQ(TokenData::Open(dir / "d").status().code(), StatusCode::kCorruption);
  index = nlohmann::json::parse(ReadText(dir / "d/index.json"));
  index["splits"]["train"]["n_tokens"] = 0;
  index["splits"]["train"]["shards"] =
      nlohmann::json::array({{{"file", "../x.bin"}, {"n_tokens", 0}}});
  WriteText(dir / "d/index.json", index.dump());
  EXPECT_EQ(TokenData::Open(dir / "d").status().code(), StatusCode::kCorruption);
}

}  // namespace
}  // namespace mle::lm
