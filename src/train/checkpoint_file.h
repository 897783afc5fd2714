// The checkpoint container: a small header, JSON metadata and an opaque payload (the
// LibTorch archive), protected by a SHA-256 over everything after the header. Written
// atomically, so a crash mid-write leaves the previous checkpoint intact.
//
// Layout (little-endian):
//   "MLECKPT\0" | u32 version (1) | u32 meta_len | u64 payload_len | 32-byte SHA-256
//   | meta (UTF-8 JSON) | payload
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "core/status.h"

namespace mle::train {

struct CheckpointContents {
  nlohmann::json meta;
  std::string payload;
};

Status WriteCheckpointFile(const std::string& path, const nlohmann::json& meta,
                           const std::string& payload);
// Verifies magic, version, sizes and checksum; errors name the file and what to do.
Result<CheckpointContents> ReadCheckpointFile(const std::string& path);

}  // namespace mle::train
