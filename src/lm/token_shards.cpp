// Token shard files: the writer (buffered stdio, SHA-256 while writing, fsync on close) and
// the reader (index.json checked against every shard's size, shards mmapped read-only).
#include "lm/token_shards.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <bit>
#include <cerrno>
#include <cstdio>
#include <cstring>

#include "core/file_util.h"
#include "core/sha256.h"

namespace mle::lm {

static_assert(std::endian::native == std::endian::little,
              "token shards are little-endian and read/written in place");

const char* ShardDtypeFor(int vocab_size) {
  return vocab_size <= 65535 ? "uint16" : "uint32";
}

namespace {

const char* SplitName(Split s) {
  return s == Split::kTrain ? "train" : "val";
}

std::string ShardName(Split s, int index) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%s-%05d.bin", SplitName(s), index);
  return buf;
}

}  // namespace

// ---- TokenShardWriter -------------------------------------------------------------------

struct TokenShardWriter::SplitState {
  Split split;
  int next_index = 0;
  std::FILE* file = nullptr;
  std::string path;
  std::unique_ptr<Sha256Hasher> hasher;
  uint64_t in_shard = 0;  // tokens in the open shard
  uint64_t n_tokens = 0;
  int64_t n_documents = 0;
  nlohmann::json shards = nlohmann::json::array();
  std::vector<uint8_t> buf;
};

TokenShardWriter::~TokenShardWriter() {
  for (auto& st : states_) {
    if (st && st->file) std::fclose(st->file);
  }
}

Result<std::unique_ptr<TokenShardWriter>> TokenShardWriter::Create(const std::string& dir,
                                                                   int vocab_size,
                                                                   uint64_t max_shard_bytes) {
  if (vocab_size < 1) {
    return InvalidArgument("token shards: vocab size must be >= 1, got " +
                           std::to_string(vocab_size));
  }
  auto w = std::unique_ptr<TokenShardWriter>(new TokenShardWriter());
  w->dir_ = dir;
  w->vocab_size_ = vocab_size;
  w->width_ = vocab_size <= 65535 ? 2 : 4;
  w->tokens_per_shard_ = std::max<uint64_t>(1, max_shard_bytes / w->width_);
  for (Split s : {Split::kTrain, Split::kVal}) {
    w->states_[static_cast<int>(s)] = std::make_unique<SplitState>();
    w->states_[static_cast<int>(s)]->split = s;
  }
  return w;
}

Status TokenShardWriter::OpenShard(SplitState& st) {
  st.path = dir_ + "/" + ShardName(st.split, st.next_index++);
  st.file = std::fopen(st.path.c_str(), "wb");
  if (st.file == nullptr) {
    return IoError("cannot create '" + st.path + "': " + std::strerror(errno));
  }
  st.hasher = std::make_unique<Sha256Hasher>();
  st.in_shard = 0;
  return Status::Ok();
}

Status TokenShardWriter::CloseShard(SplitState& st) {
  const bool ok = std::fflush(st.file) == 0 && ::fsync(fileno(st.file)) == 0;
  const int saved = errno;
  const bool closed = std::fclose(st.file) == 0;
  st.file = nullptr;
  if (!ok || !closed) {
    return IoError("cannot write '" + st.path + "': " + std::strerror(ok ? errno : saved));
  }
  st.shards.push_back({{"file", ShardName(st.split, st.next_index - 1)},
                       {"n_tokens", st.in_shard},
                       {"sha256", ToHex(st.hasher->Finish())}});
  return Status::Ok();
}

Status TokenShardWriter::AppendDocument(Split s, std::span<const int32_t> tokens) {
  SplitState& st = *states_[static_cast<int>(s)];
  for (int32_t id : tokens) {
    if (id < 0 || id >= vocab_size_) {
      return InvalidArgument("token id " + std::to_string(id) + " is outside the vocabulary (" +
                             std::to_string(vocab_size_) + " tokens)");
    }
  }
  size_t done = 0;
  while (done < tokens.size()) {
    if (st.file == nullptr) MLE_RETURN_IF_ERROR(OpenShard(st));
    const size_t n = static_cast<size_t>(
        std::min<uint64_t>(tokens.size() - done, tokens_per_shard_ - st.in_shard));
    st.buf.resize(n * width_);
    for (size_t i = 0; i < n; ++i) {
      const auto id = static_cast<uint32_t>(tokens[done + i]);
      if (width_ == 2) {
        const auto v = static_cast<uint16_t>(id);
        std::memcpy(st.buf.data() + 2 * i, &v, 2);
      } else {
        std::memcpy(st.buf.data() + 4 * i, &id, 4);
      }
    }
    if (std::fwrite(st.buf.data(), 1, st.buf.size(), st.file) != st.buf.size()) {
      return IoError("cannot write '" + st.path + "': " + std::strerror(errno));
    }
    st.hasher->Update(
        std::string_view(reinterpret_cast<const char*>(st.buf.data()), st.buf.size()));
    st.in_shard += n;
    st.n_tokens += n;
    done += n;
    if (st.in_shard == tokens_per_shard_) MLE_RETURN_IF_ERROR(CloseShard(st));
  }
  ++st.n_documents;
  return Status::Ok();
}

Result<nlohmann::json> TokenShardWriter::Finish() {
  nlohmann::json splits;
  for (auto& st : states_) {
    if (st->file != nullptr) MLE_RETURN_IF_ERROR(CloseShard(*st));
    splits[SplitName(st->split)] = {
        {"n_tokens", st->n_tokens}, {"n_documents", st->n_documents}, {"shards", st->shards}};
  }
  return splits;
}

// ---- TokenData --------------------------------------------------------------------------

TokenData::~TokenData() {
  for (auto& shards : shards_) {
    for (Shard& s : shards) {
      if (s.data != nullptr) ::munmap(const_cast<uint8_t*>(s.data), s.map_size);
    }
  }
}

namespace {

// Maps `path` read-only; `size` is its expected size (already checked).
Result<const uint8_t*> MapFile(const std::string& path, size_t size) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return IoError("cannot open '" + path + "': " + std::strerror(errno));
  void* p = ::mmap(nullptr, size, PROT_READ, MAP_PRIVATE, fd, 0);
  const int saved = errno;
  ::close(fd);
  if (p == MAP_FAILED) return IoError("cannot map '" + path + "': " + std::strerror(saved));
  return static_cast<const uint8_t*>(p);
}

bool PlainFileName(const std::string& name) {
  return !name.empty() && name.find('/') == std::string::npos && name != "." && name != "..";
}

}  // namespace

Status TokenData::OpenSplit(const nlohmann::json& split, bool verify, std::vector<Shard>* out) {
  const std::string index_path = dir_ + "/index.json";
  if (!split.is_object() || !split.contains("shards") || !split["shards"].is_array() ||
      !split.contains("n_tokens") || !split["n_tokens"].is_number_unsigned()) {
    return Corruption("'" + index_path + "': a split lacks n_tokens or shards (re-run lm data)");
  }
  uint64_t first = 0;
  for (const nlohmann::json& e : split["shards"]) {
    if (!e.is_object() || !e.contains("file") || !e["file"].is_string() ||
        !e.contains("n_tokens") || !e["n_tokens"].is_number_unsigned() ||
        !PlainFileName(e["file"].get<std::string>())) {
      return Corruption("'" + index_path + "': a malformed shard entry " + e.dump());
    }
    Shard s;
    s.path = dir_ + "/" + e["file"].get<std::string>();
    s.n_tokens = e["n_tokens"].get<uint64_t>();
    s.first = first;
    struct stat st;
    if (::stat(s.path.c_str(), &st) != 0) {
      return NotFound("shard '" + s.path + "' listed in index.json is missing (re-run lm data)");
    }
    const uint64_t expected = s.n_tokens * width_;
    if (static_cast<uint64_t>(st.st_size) != expected) {
      return Corruption("shard '" + s.path + "' is " + std::to_string(st.st_size) +
                        " bytes, but index.json says " + std::to_string(s.n_tokens) + " " + dtype_ +
                        " tokens (" + std::to_string(expected) +
                        " bytes): truncated or corrupt; re-run lm data");
    }
    if (s.n_tokens > 0) {
      s.map_size = static_cast<size_t>(expected);
      MLE_ASSIGN_OR_RETURN(s.data, MapFile(s.path, s.map_size));
    }
    out->push_back(s);  // owned from here: the destructor unmaps it
    if (verify) {
      const std::string want = e.value("sha256", "");
      const std::string got =
          s.data
              ? ToHex(Sha256(std::string_view(reinterpret_cast<const char*>(s.data), s.map_size)))
              : ToHex(Sha256(""));
      if (got != want) {
        return Corruption("shard '" + s.path + "' has SHA-256 " + got + ", index.json says '" +
                          want + "': corrupt; re-run lm data");
      }
    }
    first += s.n_tokens;
  }
  if (first != split["n_tokens"].get<uint64_t>()) {
    return Corruption("'" + index_path + "': shards hold " + std::to_string(first) +
                      " tokens, the split says " + split["n_tokens"].dump());
  }
  return Status::Ok();
}

Result<std::unique_ptr<TokenData>> TokenData::Open(const std::string& data_dir,
                                                   bool verify_checksums) {
  const std::string how =
      " (make one: ml-engine lm data --input TEXT... --tokenizer TOK_DIR -o " + data_dir + ")";
  if (!IsDirectory(data_dir)) {
    return NotFound("data directory '" + data_dir + "' does not exist" + how);
  }
  const std::string index_path = data_dir + "/index.json";
  if (!FileExists(index_path)) return NotFound("'" + index_path + "' is missing" + how);
  MLE_ASSIGN_OR_RETURN(std::string text, ReadFile(index_path));
  auto d = std::unique_ptr<TokenData>(new TokenData());
  d->dir_ = data_dir;
  d->index_ = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  const nlohmann::json& j = d->index_;
  if (!j.is_object() || j.value("format", "") != kShardFormatName ||
      j.value("version", 0) != kShardFormatVersion || !j.contains("vocab_size") ||
      !j["vocab_size"].is_number_integer() || !j.contains("splits") || !j["splits"].is_object()) {
    return Corruption("'" + index_path + "' is not a token shard index (format " +
                      kShardFormatName + " version " + std::to_string(kShardFormatVersion) +
                      "); re-run lm data");
  }
  d->vocab_size_ = j["vocab_size"].get<int>();
  d->dtype_ = j.value("dtype", "");
  if (d->vocab_size_ < 1 || d->dtype_ != ShardDtypeFor(d->vocab_size_)) {
    return Corruption("'" + index_path + "': dtype '" + d->dtype_ + "' does not fit vocab size " +
                      std::to_string(d->vocab_size_));
  }
  d->width_ = d->dtype_ == "uint16" ? 2 : 4;
  const nlohmann::json tok = j.value("tokenizer", nlohmann::json::object());
  d->tokenizer_dir_ = tok.value("dir", "");
  d->tokenizer_sha256_ = tok.value("sha256", "");
  for (Split s : {Split::kTrain, Split::kVal}) {
    const int k = static_cast<int>(s);
    const nlohmann::json& splits = j["splits"];
    if (!splits.contains(SplitName(s))) {
      return Corruption("'" + index_path + "' has no '" + SplitName(s) + "' split");
    }
    MLE_RETURN_IF_ERROR(d->OpenSplit(splits[SplitName(s)], verify_checksums, &d->shards_[k]));
    d->n_tokens_[k] = splits[SplitName(s)]["n_tokens"].get<uint64_t>();
  }
  return d;
}

uint64_t TokenData::n_tokens(Split s) const {
  return n_tokens_[static_cast<int>(s)];
}

Status TokenData::Read(Split s, uint64_t start, size_t n, int64_t* out) const {
  const int k = static_cast<int>(s);
  if (start > n_tokens_[k] || n > n_tokens_[k] - start) {
    return OutOfRange("tokens [" + std::to_string(start) + ", " + std::to_string(start + n) +
                      ") are outside the " + SplitName(s) + " split (" +
                      std::to_string(n_tokens_[k]) + " tokens)");
  }
  if (n == 0) return Status::Ok();
  const std::vector<Shard>& shards = shards_[k];
  // The last shard whose first token is <= start.
  auto it = std::upper_bound(shards.begin(), shards.end(), start,
                             [](uint64_t v, const Shard& sh) { return v < sh.first; });
  size_t done = 0;
  for (--it; done < n; ++it) {
    const uint64_t offset = start + done - it->first;
    if (offset >= it->n_tokens) continue;  // an empty shard
    const size_t take = static_cast<size_t>(std::min<uint64_t>(n - done, it->n_tokens - offset));
    if (width_ == 2) {
      const uint8_t* p = it->data + offset * 2;
      for (size_t i = 0; i < take; ++i) {
        uint16_t v;
        std::memcpy(&v, p + 2 * i, 2);
        out[done + i] = v;
      }
    } else {
      const uint8_t* p = it->data + offset * 4;
      for (size_t i = 0; i < take; ++i) {
        uint32_t v;
        std::memcpy(&v, p + 4 * i, 4);
        out[done + i] = v;
      }
    }
    done += take;
  }
  return Status::Ok();
}

}  // namespace mle::lm
