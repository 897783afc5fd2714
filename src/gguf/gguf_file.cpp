// GgufFile (see gguf_file.h): mapping the file, lookups and the typed metadata getters. The
// parsing itself lives in gguf_parser.cpp.
#include "gguf/gguf_file.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <limits>

#include "gguf/gguf_parser.h"

namespace mle::gguf {
namespace {

std::string TypeText(const Value& v) {
  if (v.type() != ValueType::kArray) return std::string(ValueTypeName(v.type()));
  return "array of " + std::string(ValueTypeName(v.array().elem_type));
}

Status WrongType(std::string_view key, std::string_view expected, const Value& v) {
  return InvalidArgument("metadata key '" + std::string(key) + "' has type " + TypeText(v) +
                         ", expected " + std::string(expected));
}

Status Missing(std::string_view key) {
  return NotFound("metadata key '" + std::string(key) + "' not found");
}

}  // namespace

GgufFile::~GgufFile() {
  if (map_ != nullptr) ::munmap(map_, map_size_);
}

Result<std::unique_ptr<GgufFile>> GgufFile::Open(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    int err = errno;
    if (err == ENOENT) return NotFound("cannot open '" + path + "': no such file");
    return IoError("cannot open '" + path + "': " + std::strerror(err));
  }
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    return InvalidArgument("'" + path + "' is not a regular file");
  }
  std::unique_ptr<GgufFile> file(new GgufFile());
  file->path_ = path;
  file->size_ = static_cast<uint64_t>(st.st_size);
  if (st.st_size > 0) {
    void* map = ::mmap(nullptr, static_cast<size_t>(st.st_size), PROT_READ, MAP_PRIVATE, fd, 0);
    int err = errno;
    ::close(fd);
    if (map == MAP_FAILED) return IoError("cannot map '" + path + "': " + std::strerror(err));
    file->map_ = map;
    file->map_size_ = static_cast<size_t>(st.st_size);
    file->data_ = static_cast<const uint8_t*>(map);
  } else {
    ::close(fd);
    static const uint8_t kEmpty = 0;
    file->data_ = &kEmpty;
  }
  Status s = GgufParser::Parse(file.get());
  if (!s.ok()) return s.WithContext("'" + path + "'");
  return file;
}

void GgufFile::ReleasePages(const void* p, size_t n) const {
  if (map_ == nullptr || n == 0) return;
  const uintptr_t page = static_cast<uintptr_t>(::sysconf(_SC_PAGESIZE));
  const uintptr_t base = reinterpret_cast<uintptr_t>(map_);
  uintptr_t lo = std::max(reinterpret_cast<uintptr_t>(p), base);
  uintptr_t hi = std::min(reinterpret_cast<uintptr_t>(p) + n, base + map_size_);
  lo = (lo + page - 1) & ~(page - 1);
  hi &= ~(page - 1);
  // A private read-only file mapping: dropping pages loses nothing (advice only).
  if (hi > lo) (void)::madvise(reinterpret_cast<void*>(lo), hi - lo, MADV_DONTNEED);
}

Result<std::unique_ptr<GgufFile>> GgufFile::FromBuffer(const uint8_t* data, size_t size) {
  static const uint8_t kEmpty = 0;
  std::unique_ptr<GgufFile> file(new GgufFile());
  file->data_ = data != nullptr ? data : &kEmpty;
  file->size_ = data != nullptr ? size : 0;
  MLE_RETURN_IF_ERROR(GgufParser::Parse(file.get()));
  return file;
}

const Value* GgufFile::Find(std::string_view key) const {
  auto it = kv_index_.find(key);
  return it == kv_index_.end() ? nullptr : &metadata_[it->second].value;
}

const TensorInfo* GgufFile::FindTensor(std::string_view name) const {
  auto it = tensor_index_.find(name);
  return it == tensor_index_.end() ? nullptr : &tensors_[it->second];
}

Result<std::string> GgufFile::GetString(std::string_view key) const {
  const Value* v = Find(key);
  if (v == nullptr) return Missing(key);
  if (v->type() != ValueType::kString) return WrongType(key, "string", *v);
  return v->str();
}

Result<int64_t> GgufFile::GetInt(std::string_view key) const {
  const Value* v = Find(key);
  if (v == nullptr) return Missing(key);
  if (!v->is_integer()) return WrongType(key, "an integer", *v);
  int64_t out = 0;
  if (!v->ToInt64(&out)) {
    return OutOfRange("metadata key '" + std::string(key) + "' = " + v->ToString() +
                      " does not fit in int64");
  }
  return out;
}

Result<uint64_t> GgufFile::GetUint(std::string_view key) const {
  const Value* v = Find(key);
  if (v == nullptr) return Missing(key);
  if (!v->is_integer()) return WrongType(key, "an unsigned integer", *v);
  uint64_t out = 0;
  if (!v->ToUint64(&out)) {
    return OutOfRange("metadata key '" + std::string(key) + "' = " + v->ToString() +
                      " is negative, expected an unsigned integer");
  }
  return out;
}

Result<double> GgufFile::GetFloat(std::string_view key) const {
  const Value* v = Find(key);
  if (v == nullptr) return Missing(key);
  double out = 0;
  if (!v->ToDouble(&out)) return WrongType(key, "float32 or float64", *v);
  return out;
}

Result<bool> GgufFile::GetBool(std::string_view key) const {
  const Value* v = Find(key);
  if (v == nullptr) return Missing(key);
  if (v->type() != ValueType::kBool) return WrongType(key, "bool", *v);
  return v->get<bool>();
}

Result<std::vector<std::string>> GgufFile::GetStringArray(std::string_view key) const {
  const Value* v = Find(key);
  if (v == nullptr) return Missing(key);
  if (v->type() != ValueType::kArray || v->array().elem_type != ValueType::kString) {
    return WrongType(key, "array of string", *v);
  }
  std::vector<std::string> out;
  out.reserve(v->array().items.size());
  for (const Value& item : v->array().items) out.push_back(item.str());
  return out;
}

Result<std::vector<float>> GgufFile::GetFloatArray(std::string_view key) const {
  const Value* v = Find(key);
  if (v == nullptr) return Missing(key);
  ValueType elem = v->type() == ValueType::kArray ? v->array().elem_type : ValueType::kArray;
  if (elem != ValueType::kFloat32 && elem != ValueType::kFloat64) {
    return WrongType(key, "array of float32 or float64", *v);
  }
  std::vector<float> out;
  out.reserve(v->array().items.size());
  for (const Value& item : v->array().items) {
    double d = 0;
    item.ToDouble(&d);
    out.push_back(static_cast<float>(d));
  }
  return out;
}

Result<std::vector<int32_t>> GgufFile::GetIntArray(std::string_view key) const {
  const Value* v = Find(key);
  if (v == nullptr) return Missing(key);
  if (v->type() != ValueType::kArray || !IsIntegerType(v->array().elem_type)) {
    return WrongType(key, "array of integers", *v);
  }
  std::vector<int32_t> out;
  out.reserve(v->array().items.size());
  for (size_t i = 0; i < v->array().items.size(); ++i) {
    int64_t x = 0;
    if (!v->array().items[i].ToInt64(&x) || x < std::numeric_limits<int32_t>::min() ||
        x > std::numeric_limits<int32_t>::max()) {
      return OutOfRange("metadata key '" + std::string(key) + "': item " + std::to_string(i) +
                        " does not fit in int32");
    }
    out.push_back(static_cast<int32_t>(x));
  }
  return out;
}

Result<std::string> GgufFile::GetStringOr(std::string_view key, std::string def) const {
  if (Find(key) == nullptr) return def;
  return GetString(key);
}

Result<int64_t> GgufFile::GetIntOr(std::string_view key, int64_t def) const {
  if (Find(key) == nullptr) return def;
  return GetInt(key);
}

Result<double> GgufFile::GetFloatOr(std::string_view key, double def) const {
  if (Find(key) == nullptr) return def;
  return GetFloat(key);
}

Result<bool> GgufFile::GetBoolOr(std::string_view key, bool def) const {
  if (Find(key) == nullptr) return def;
  return GetBool(key);
}

}  // namespace mle::gguf
