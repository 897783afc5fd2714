// Helpers shared by the gguf tests: paths of the shared reference files and RawGguf, a
// byte-level GGUF builder independent of GgufWriter, so hostile files can be crafted field by
// field (wrong counts, bad offsets, unknown types) and the reader is not checked against itself.
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

namespace mle::gguf::testing {

inline std::string SharedDir() {
  return MLE_SHARED_DIR;
}
inline std::string ModelPath(const std::string& name) {
  return SharedDir() + "/testdata/models/" + name;
}
inline std::string VocabPath(const std::string& name) {
  return SharedDir() + "/testdata/vocab/" + name;
}

// Every *.gguf under testdata/<sub>, sorted.
inline std::vector<std::string> SharedGgufFiles(const std::string& sub) {
  std::vector<std::string> out;
  for (const auto& e : std::filesystem::directory_iterator(SharedDir() + "/testdata/" + sub)) {
    if (e.path().extension() == ".gguf") out.push_back(e.path().string());
  }
  std::sort(out.begin(), out.end());
  return out;
}

inline std::string ReadBytes(const std::string& path, size_t max_bytes = SIZE_MAX) {
  std::ifstream in(path, std::ios::binary);
  std::string data((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (data.size() > max_bytes) data.resize(max_bytes);
  return data;
}

// Appends raw little-endian fields.
class RawGguf {
 public:
  template <typename T>
  RawGguf& Put(T v) {
    bytes_.append(reinterpret_cast<const char*>(&v), sizeof(v));
    return *this;
  }
  RawGguf& U32(uint32_t v) { return Put(v); }
  RawGguf& U64(uint64_t v) { return Put(v); }
  RawGguf& Str(const std::string& s) {
    U64(s.size());
    bytes_ += s;
    return *this;
  }
  RawGguf& Bytes(const std::string& s) {
    bytes_ += s;
    return *this;
  }
  // Magic, version, counts.
  RawGguf& Header(uint64_t n_tensors, uint64_t n_kv, uint32_t version = 3) {
    bytes_ += "GGUF";
    return U32(version).U64(n_tensors).U64(n_kv);
  }
  RawGguf& KvU32(const std::string& key, uint32_t v) { return Str(key).U32(4).U32(v); }
  RawGguf& KvStr(const std::string& key, const std::string& v) { return Str(key).U32(8).Str(v); }
  // name, dims, type id, offset.
  RawGguf& Tensor(const std::string& name, const std::vector<uint64_t>& dims, uint32_t type,
                  uint64_t offset) {
    Str(name).U32(static_cast<uint32_t>(dims.size()));
    for (uint64_t d : dims) U64(d);
    return U32(type).U64(offset);
  }
  // Zero bytes up to the next multiple of `a`.
  RawGguf& Pad(size_t a = 32) {
    while (bytes_.size() % a != 0) bytes_.push_back('\0');
    return *this;
  }
  RawGguf& Zeros(size_t n) {
    bytes_.append(n, '\0');
    return *this;
  }
  const std::string& bytes() const { return bytes_; }
  const uint8_t* data() const { return reinterpret_cast<const uint8_t*>(bytes_.data()); }
  size_t size() const { return bytes_.size(); }

 private:
  std::string bytes_;
};

}  // namespace mle::gguf::testing
