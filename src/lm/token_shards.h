// Token shards: what `lm data` writes and pretraining reads. A data directory holds
//   train-00000.bin, train-00001.bin, ..., val-00000.bin, ...  flat little-endian token ids,
//       uint16 when the vocabulary has at most 65535 tokens, else uint32; each document is
//       <s> text </s>, documents back to back, a shard ends wherever its size limit falls
//   index.json  {"format": "mle-token-shards", "version": 1, "dtype", "vocab_size",
//       "tokenizer": {"dir" (absolute), "sha256"}, "splits": {"train"|"val": {"n_tokens",
//       "n_documents", "shards": [{"file", "n_tokens", "sha256"}]}}, "totals", "cleaning"}
// TokenShardWriter writes the shards; TokenData opens a directory and reads token ranges.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/status.h"

namespace mle::lm {

enum class Split { kTrain, kVal };

inline constexpr int kShardFormatVersion = 1;
inline constexpr const char* kShardFormatName = "mle-token-shards";

// "uint16" when vocab_size <= 65535, else "uint32".
const char* ShardDtypeFor(int vocab_size);

// Writes the shard files of both splits into an existing directory. Not thread-safe.
class TokenShardWriter {
 public:
  ~TokenShardWriter();
  TokenShardWriter(const TokenShardWriter&) = delete;
  TokenShardWriter& operator=(const TokenShardWriter&) = delete;

  // max_shard_bytes: a shard holds at most this many bytes (rounded down to whole tokens,
  // at least one token). Errors: InvalidArgument for a vocab size out of [1, 2^32).
  static Result<std::unique_ptr<TokenShardWriter>> Create(const std::string& dir, int vocab_size,
                                                          uint64_t max_shard_bytes);

  // Appends one document's tokens (ids must be in [0, vocab_size); checked) to `split`.
  Status AppendDocument(Split s, std::span<const int32_t> tokens);

  // Flushes and fsyncs the open shards and returns the "splits" object of index.json.
  // Errors: IoError. Call once; no Append afterwards.
  Result<nlohmann::json> Finish();

 private:
  struct SplitState;
  TokenShardWriter() = default;
  Status OpenShard(SplitState& st);
  Status CloseShard(SplitState& st);

  std::string dir_;
  int vocab_size_ = 0;
  size_t width_ = 2;
  uint64_t tokens_per_shard_ = 0;
  std::unique_ptr<SplitState> states_[2];
};

// A data directory, opened. Immutable after Open; Read is thread-safe.
class TokenData {
 public:
  ~TokenData();
  TokenData(const TokenData&) = delete;
  TokenData& operator=(const TokenData&) = delete;

  // Opens DATA_DIR: parses index.json, checks every shard's size against n_tokens and dtype
  // (a corrupt or truncated shard is a clear error naming the file; verify_checksums=true also
  // checks sha256), mmaps the shards read-only. Errors: NotFound (no directory or index.json,
  // with the command that makes one; a listed shard missing), Corruption (bad index.json,
  // size or checksum mismatch).
  static Result<std::unique_ptr<TokenData>> Open(const std::string& data_dir,
                                                 bool verify_checksums = false);

  uint64_t n_tokens(Split s) const;
  int vocab_size() const { return vocab_size_; }
  const std::string& tokenizer_dir() const { return tokenizer_dir_; }  // from index.json
  const std::string& tokenizer_sha256() const { return tokenizer_sha256_; }
  const std::string& dtype() const { return dtype_; }
  const nlohmann::json& index() const { return index_; }  // the parsed index.json

  // Copies tokens [start, start+n) of the split (concatenated over its shards) into out.
  // Errors: OutOfRange when start + n > n_tokens(s).
  Status Read(Split s, uint64_t start, size_t n, int64_t* out) const;

 private:
  struct Shard {
    std::string path;
    const uint8_t* data = nullptr;  // mmap, or null for an empty shard
    uint64_t n_tokens = 0;
    uint64_t first = 0;  // index of its first token within the split
    size_t map_size = 0;
  };
  TokenData() = default;
  Status OpenSplit(const nlohmann::json& split, bool verify, std::vector<Shard>* shards);

  std::string dir_;
  int vocab_size_ = 0;
  size_t width_ = 2;
  std::string dtype_;
  std::string tokenizer_dir_;
  std::string tokenizer_sha256_;
  nlohmann::json index_;
  std::vector<Shard> shards_[2];
  uint64_t n_tokens_[2] = {0, 0};
};

}  // namespace mle::lm
