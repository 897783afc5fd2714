// Checkpoint container (see checkpoint_file.h).
#include "train/checkpoint_file.h"

#include <algorithm>
#include <cstring>

#include "core/file_util.h"
#include "core/sha256.h"

namespace mle::train {
namespace {

constexpr char kMagic[8] = {'M', 'L', 'E', 'C', 'K', 'P', 'T', '\0'};
constexpr uint32_t kVersion = 1;
constexpr size_t kHeaderSize = 8 + 4 + 4 + 8 + 32;

template <typename T>
void PutLe(std::string& out, T v) {
  for (size_t i = 0; i < sizeof(T); ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

template <typename T>
T GetLe(const char* p) {
  T v = 0;
  for (size_t i = 0; i < sizeof(T); ++i) v |= static_cast<T>(static_cast<uint8_t>(p[i])) << (8 * i);
  return v;
}

}  // namespace

Status WriteCheckpointFile(const std::string& path, const nlohmann::json& meta,
                           const std::string& payload) {
  std::string meta_text = meta.dump();
  Sha256Hasher hasher;
  hasher.Update(meta_text);
  hasher.Update(payload);
  Sha256Digest digest = hasher.Finish();
  std::string out;
  out.reserve(kHeaderSize + meta_text.size() + payload.size());
  out.append(kMagic, sizeof kMagic);
  PutLe<uint32_t>(out, kVersion);
  PutLe<uint32_t>(out, static_cast<uint32_t>(meta_text.size()));
  PutLe<uint64_t>(out, payload.size());
  out.append(reinterpret_cast<const char*>(digest.data()), digest.size());
  out += meta_text;
  out += payload;
  return WriteFileAtomic(path, out);
}

Result<CheckpointContents> ReadCheckpointFile(const std::string& path) {
  auto data = ReadFile(path);
  if (!data.ok()) {
    return Status(data.status().code(),
                  data.status().message() + " (pass --ckpt with an existing checkpoint file)");
  }
  const std::string& d = *data;
  auto corrupt = [&](const std::string& why) {
    return Corruption("checkpoint '" + path + "' is corrupt or truncated (" + why +
                      "); use another checkpoint or train again");
  };
  if (std::memcmp(d.data(), kMagic, std::min(d.size(), sizeof kMagic)) != 0) {
    return Corruption("'" + path + "' is not an ml-engine checkpoint (bad magic)");
  }
  if (d.size() < kHeaderSize) return corrupt("shorter than its header");
  uint32_t version = GetLe<uint32_t>(d.data() + 8);
  if (version != kVersion) {
    return Corruption("checkpoint '" + path + "' has format version " + std::to_string(version) +
                      "; this build reads version " + std::to_string(kVersion));
  }
  uint64_t meta_len = GetLe<uint32_t>(d.data() + 12);
  uint64_t payload_len = GetLe<uint64_t>(d.data() + 16);
  if (meta_len > d.size() || payload_len > d.size() ||
      kHeaderSize + meta_len + payload_len != d.size()) {
    return corrupt("sizes in the header do not match the file size");
  }
  std::string_view body(d.data() + kHeaderSize, meta_len + payload_len);
  Sha256Digest digest = Sha256(body);
  if (std::memcmp(digest.data(), d.data() + 24, 32) != 0) return corrupt("checksum mismatch");
  CheckpointContents out;
  out.meta = nlohmann::json::parse(body.substr(0, meta_len), nullptr, false);
  if (out.meta.is_discarded() || !out.meta.is_object()) return corrupt("metadata is not JSON");
  out.payload.assign(body.substr(meta_len));
  return out;
}

}  // namespace mle::train
