// IDX parsing (see idx.h). Sizes are checked against the byte count before any copy, so a
// truncated or hostile file gives an error, never an out-of-bounds read.
#include "train/idx.h"

#include <zlib.h>

#include "core/file_util.h"

namespace mle::train {
namespace {

uint32_t ReadBe32(const uint8_t* p) {
  return (uint32_t(p[0]) << 24) | (uint32_t(p[1]) << 16) | (uint32_t(p[2]) << 8) | p[3];
}

}  // namespace

Result<std::string> ReadMaybeGzip(const std::string& path) {
  MLE_ASSIGN_OR_RETURN(std::string raw, ReadFile(path));
  if (raw.size() < 2 || uint8_t(raw[0]) != 0x1f || uint8_t(raw[1]) != 0x8b) return raw;
  z_stream zs{};
  if (inflateInit2(&zs, 15 + 32) != Z_OK) return Internal("zlib init failed");
  zs.next_in = reinterpret_cast<Bytef*>(raw.data());
  zs.avail_in = static_cast<uInt>(raw.size());
  std::string out;
  char buf[1 << 16];
  int rc = Z_OK;
  while (rc != Z_STREAM_END) {
    zs.next_out = reinterpret_cast<Bytef*>(buf);
    zs.avail_out = sizeof buf;
    rc = inflate(&zs, Z_NO_FLUSH);
    if (rc != Z_OK && rc != Z_STREAM_END) {
      inflateEnd(&zs);
      return Corruption("'" + path + "' is a corrupt or truncated gzip file (" +
                        (zs.msg ? zs.msg : "unexpected end") + "); download it again");
    }
    out.append(buf, sizeof buf - zs.avail_out);
    if (out.size() > (size_t(4) << 30)) {
      inflateEnd(&zs);
      return Corruption("'" + path + "' decompresses to more than 4 GiB; not an MNIST file");
    }
  }
  inflateEnd(&zs);
  return out;
}

Result<IdxArray> ParseIdx(std::string_view bytes, const std::string& name) {
  const auto* p = reinterpret_cast<const uint8_t*>(bytes.data());
  if (bytes.size() < 4 || p[0] != 0 || p[1] != 0) {
    return Corruption("'" + name + "' is not an IDX file (bad magic); expected MNIST-format " +
                      "files such as train-images-idx3-ubyte");
  }
  if (p[2] != 0x08) {
    return Corruption("'" + name + "' holds IDX data of type 0x" + std::to_string(p[2]) +
                      "; only unsigned bytes (0x08) are supported");
  }
  uint32_t ndim = p[3];
  if (ndim == 0 || ndim > 4) {
    return Corruption("'" + name + "' declares " + std::to_string(ndim) +
                      " dimensions; IDX image/label files have 1 to 3");
  }
  size_t header = 4 + 4 * size_t(ndim);
  if (bytes.size() < header) return Corruption("'" + name + "' is truncated inside its header");
  IdxArray arr;
  uint64_t count = 1;
  for (uint32_t i = 0; i < ndim; ++i) {
    uint32_t d = ReadBe32(p + 4 + 4 * i);
    arr.dims.push_back(d);
    count *= d;
    if (count > (uint64_t(1) << 32)) {
      return Corruption("'" + name + "' declares more than 4 Gi elements; the header is corrupt");
    }
  }
  uint64_t have = bytes.size() - header;
  if (have < count) {
    return Corruption("'" + name + "' is truncated: the header promises " + std::to_string(count) +
                      " bytes of data, the file has " + std::to_string(have) +
                      "; download it again");
  }
  arr.data.assign(p + header, p + header + count);
  return arr;
}

Result<IdxArray> ReadIdxFile(const std::string& path) {
  MLE_ASSIGN_OR_RETURN(std::string bytes, ReadMaybeGzip(path));
  return ParseIdx(bytes, path);
}

}  // namespace mle::train
