// GgufFile: a validated, read-only view of a GGUF v2/v3 file (the llama.cpp model format:
// header, typed key/value metadata, tensor infos, aligned tensor data). Open() maps the file;
// every length, count, offset and size is checked against the file before use, so a hostile
// file yields a Status, never a crash or an out-of-bounds read.
// Spec: https://github.com/ggml-org/ggml/blob/master/docs/gguf.md
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <type_traits>
#include <unordered_map>
#include <utility>
#include <variant>
#include <vector>

#include "core/status.h"
#include "gguf/tensor_types.h"

namespace mle::gguf {

// Metadata value type ids, as stored in the file.
enum class ValueType : uint32_t {
  kUint8 = 0,
  kInt8 = 1,
  kUint16 = 2,
  kInt16 = 3,
  kUint32 = 4,
  kInt32 = 5,
  kFloat32 = 6,
  kBool = 7,
  kString = 8,
  kArray = 9,
  kUint64 = 10,
  kInt64 = 11,
  kFloat64 = 12,
};

// "uint32", "string", "array", ...; "unknown" for ids outside the enum.
std::string_view ValueTypeName(ValueType t);
// True for ids 0..12.
bool IsKnownValueType(uint32_t id);
// True for the 8 integer types (not bool).
bool IsIntegerType(ValueType t);

class Value;
struct Array;

template <typename T>
inline constexpr bool IsStorageType =
    std::is_same_v<T, uint8_t> || std::is_same_v<T, int8_t> || std::is_same_v<T, uint16_t> ||
    std::is_same_v<T, int16_t> || std::is_same_v<T, uint32_t> || std::is_same_v<T, int32_t> ||
    std::is_same_v<T, float> || std::is_same_v<T, bool> || std::is_same_v<T, std::string> ||
    std::is_same_v<T, Array> || std::is_same_v<T, uint64_t> || std::is_same_v<T, int64_t> ||
    std::is_same_v<T, double>;

// A homogeneous array: every element has `elem_type` (arrays of arrays are allowed by the
// format; each nested array carries its own element type).
struct Array {
  ValueType elem_type = ValueType::kUint8;
  std::vector<Value> items;
};

// One metadata value of any type. Scalars keep their exact stored type (a uint16 stays a
// uint16) so that a file read and written back is byte-identical.
class Value {
 public:
  using Storage = std::variant<uint8_t, int8_t, uint16_t, int16_t, uint32_t, int32_t, float, bool,
                               std::string, Array, uint64_t, int64_t, double>;
  // Variant alternative index == ValueType id (checked by a static_assert in the .cpp).

  Value() : v_(uint8_t{0}) {}
  // From exactly one of the Storage alternatives (uint8_t ... double, std::string, Array);
  // the C++ type picks the GGUF type, e.g. Value(uint32_t{7}) is a uint32.
  template <typename T>
  requires IsStorageType<std::decay_t<T>>
  explicit Value(T&& v) : v_(std::in_place_type<std::decay_t<T>>, std::forward<T>(v)) {}
  explicit Value(const char* s) : v_(std::in_place_type<std::string>, s) {}
  explicit Value(std::string_view s) : v_(std::in_place_type<std::string>, s) {}

  static Value MakeArray(ValueType elem_type, std::vector<Value> items) {
    return Value(Array{elem_type, std::move(items)});
  }

  ValueType type() const { return static_cast<ValueType>(v_.index()); }
  bool is_integer() const;  // any of the 8 integer types
  bool is_float() const { return type() == ValueType::kFloat32 || type() == ValueType::kFloat64; }

  // Exact-type access: REQUIRES type() matches (else aborts). Use the Get* of GgufFile for
  // user-facing errors, or holds<T>() first.
  template <typename T>
  bool holds() const {
    return std::holds_alternative<T>(v_);
  }
  template <typename T>
  const T& get() const {
    return std::get<T>(v_);
  }
  const std::string& str() const { return std::get<std::string>(v_); }
  const Array& array() const { return std::get<Array>(v_); }

  // Loose conversions; false when the type does not convert or the value is out of range.
  bool ToInt64(int64_t* out) const;    // any integer type
  bool ToUint64(uint64_t* out) const;  // any integer type, value >= 0
  bool ToDouble(double* out) const;    // float32/float64 (not integers)

  // Short human-readable rendering: strings quoted (control bytes escaped, cut after
  // `max_string_bytes` with "... (N bytes)"), arrays shortened after `max_items` as
  // [a, b, c, ... (N items)].
  std::string ToString(size_t max_items = 8, size_t max_string_bytes = SIZE_MAX) const;

  const Storage& storage() const { return v_; }
  bool operator==(const Value& o) const;

 private:
  Storage v_;
};

struct KeyValue {
  std::string key;
  Value value;
};

struct TensorInfo {
  std::string name;
  std::vector<uint64_t> dims;  // ne[0] first (the fastest-varying dimension), as GGUF stores
  TensorType type = TensorType::kF32;
  uint64_t offset = 0;      // bytes, relative to the start of the data section
  uint64_t size_bytes = 0;  // bytes of tensor data (rows * row size)
  uint64_t n_elements = 0;  // product of dims
};

// Limits applied while parsing; anything above is rejected as corrupt or hostile.
struct GgufLimits {
  static constexpr uint64_t kMaxStringBytes = 64ull << 20;     // one string (templates are large)
  static constexpr uint64_t kMaxNameBytes = 65535;             // a key or a tensor name (spec)
  static constexpr uint64_t kMaxArrayItems = 1ull << 24;       // vocabularies have ~256k entries
  static constexpr uint64_t kMaxTotalArrayItems = 1ull << 24;  // all arrays together
  static constexpr uint64_t kMaxKeyValues = 1ull << 20;
  static constexpr uint64_t kMaxTensors = 1ull << 20;
  static constexpr uint32_t kMaxDims = 4;                // GGML_MAX_DIMS
  static constexpr uint64_t kMaxElements = 1ull << 50;   // product of dims of one tensor
  static constexpr uint32_t kMaxArrayDepth = 8;          // nesting of arrays of arrays
  static constexpr uint64_t kMaxAlignment = 1ull << 20;  // 1 MiB, as llama.cpp caps it
};

inline constexpr uint32_t kGgufMagic = 0x46554747;  // "GGUF" read as little-endian uint32
inline constexpr uint32_t kDefaultAlignment = 32;
inline constexpr std::string_view kAlignmentKey = "general.alignment";

// A parsed GGUF file. Immutable after Open/FromBuffer; all const methods are thread-safe.
class GgufFile {
 public:
  ~GgufFile();
  GgufFile(const GgufFile&) = delete;
  GgufFile& operator=(const GgufFile&) = delete;

  // Maps `path` read-only and parses it. Errors: NotFound / IoError for the file, Corruption
  // for malformed content (not GGUF, truncated, bad offsets...), Unimplemented for v1 and
  // big-endian files.
  static Result<std::unique_ptr<GgufFile>> Open(const std::string& path);
  // Parses a caller-owned buffer without copying it; the buffer must outlive the GgufFile.
  static Result<std::unique_ptr<GgufFile>> FromBuffer(const uint8_t* data, size_t size);

  uint32_t version() const { return version_; }
  uint32_t alignment() const { return alignment_; }
  const std::string& path() const { return path_; }  // "" for FromBuffer

  // Metadata in file order.
  const std::vector<KeyValue>& metadata() const { return metadata_; }
  // nullptr when absent.
  const Value* Find(std::string_view key) const;

  // Typed getters. Errors: NotFound naming the key when absent; InvalidArgument naming the
  // key, the expected and the actual type when the type does not fit; OutOfRange when an
  // integer does not fit the result type.
  Result<std::string> GetString(std::string_view key) const;
  Result<int64_t> GetInt(std::string_view key) const;    // any integer type
  Result<uint64_t> GetUint(std::string_view key) const;  // any integer type, >= 0
  Result<double> GetFloat(std::string_view key) const;   // float32 / float64
  Result<bool> GetBool(std::string_view key) const;
  Result<std::vector<std::string>> GetStringArray(std::string_view key) const;
  Result<std::vector<float>> GetFloatArray(std::string_view key) const;  // f32/f64 items
  Result<std::vector<int32_t>> GetIntArray(std::string_view key) const;  // integer items
  // The *Or getters return `def` only when the key is absent; a present key of the wrong
  // type still returns the error.
  Result<std::string> GetStringOr(std::string_view key, std::string def) const;
  Result<int64_t> GetIntOr(std::string_view key, int64_t def) const;
  Result<double> GetFloatOr(std::string_view key, double def) const;
  Result<bool> GetBoolOr(std::string_view key, bool def) const;

  // Tensor infos in file order.
  const std::vector<TensorInfo>& tensors() const { return tensors_; }
  const TensorInfo* FindTensor(std::string_view name) const;
  // Pointer to the tensor's bytes (size_bytes of them, inside the file; validated at open).
  const uint8_t* TensorData(const TensorInfo& t) const { return data_ + data_offset_ + t.offset; }

  // Absolute file offset of the data section: the end of the tensor infos rounded up to the
  // alignment. A file without tensors may end before it (vocab-only files do).
  uint64_t data_offset() const { return data_offset_; }
  uint64_t file_size() const { return size_; }
  // The whole file / buffer.
  const uint8_t* data() const { return data_; }

  // Tells the kernel that the mapped pages lying wholly inside [p, p + n) are not needed now
  // (a copy of them is used instead), so they stop counting as resident; they are read back
  // from the file if touched again. No effect on a FromBuffer file. Contents never change.
  void ReleasePages(const void* p, size_t n) const;

 private:
  GgufFile() = default;
  friend class GgufParser;

  const uint8_t* data_ = nullptr;
  uint64_t size_ = 0;
  void* map_ = nullptr;  // mmap base when opened from a path
  size_t map_size_ = 0;
  std::string path_;
  uint32_t version_ = 0;
  uint32_t alignment_ = kDefaultAlignment;
  uint64_t data_offset_ = 0;
  std::vector<KeyValue> metadata_;
  std::vector<TensorInfo> tensors_;
  // Name -> index; the string_views point into metadata_ / tensors_, fixed after parsing.
  std::unordered_map<std::string_view, size_t> kv_index_;
  std::unordered_map<std::string_view, size_t> tensor_index_;
};

}  // namespace mle::gguf
