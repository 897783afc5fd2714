// MNIST's IDX file format: a big-endian header (magic 0x0000 TT DD: type and number of
// dimensions, then one uint32 per dimension) followed by the data. Files may be gzipped
// (detected by content, not by name). Only unsigned-byte data (type 0x08) is accepted,
// which is what MNIST and Fashion-MNIST use.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace mle::train {

struct IdxArray {
  std::vector<uint32_t> dims;  // e.g. {60000, 28, 28} for images, {60000} for labels
  std::vector<uint8_t> data;   // row-major, product(dims) bytes
};

// Parses IDX bytes (already decompressed). `name` is used in error messages.
Result<IdxArray> ParseIdx(std::string_view bytes, const std::string& name);
// Reads and parses an IDX file, plain or .gz.
Result<IdxArray> ReadIdxFile(const std::string& path);
// Reads a whole file, gunzipping it if it starts with the gzip magic.
Result<std::string> ReadMaybeGzip(const std::string& path);

}  // namespace mle::train
