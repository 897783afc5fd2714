// The validating GGUF parser. Layout (all little-endian): magic "GGUF", u32 version, u64
// n_tensors, u64 n_kv, n_kv key/value pairs, n_tensors tensor infos, padding to the alignment,
// then the data section. Every count is checked against the bytes left before anything is
// allocated, and all offset arithmetic is overflow-checked: the GGUF loader CVEs of 2024-2026
// (heap overflows from n_kv, ne[], ne * type_size and padding wrap-around) are the model of
// what a hostile file tries.
#include "gguf/gguf_parser.h"

#include <algorithm>
#include <bit>
#include <cinttypes>
#include <cstdio>
#include <cstring>

namespace mle::gguf {
namespace {

using L = GgufLimits;

// Bytes the smallest possible encoding of one item needs; bounds a count by the bytes left
// before any vector is reserved, so a hostile count cannot make us allocate.
constexpr uint64_t kMinKeyValueBytes = 8 + 4 + 1;        // key length, type, 1-byte value
constexpr uint64_t kMinTensorInfoBytes = 8 + 4 + 4 + 8;  // name length, n_dims, type, offset

std::string Hex32(uint32_t v) {
  char buf[16];
  std::snprintf(buf, sizeof(buf), "0x%08" PRIx32, v);
  return buf;
}

// Bytes per element of a fixed-size scalar type; 0 for string/array.
uint64_t ScalarSize(ValueType t) {
  switch (t) {
    case ValueType::kUint8:
    case ValueType::kInt8:
    case ValueType::kBool:
      return 1;
    case ValueType::kUint16:
    case ValueType::kInt16:
      return 2;
    case ValueType::kUint32:
    case ValueType::kInt32:
    case ValueType::kFloat32:
      return 4;
    case ValueType::kUint64:
    case ValueType::kInt64:
    case ValueType::kFloat64:
      return 8;
    default:
      return 0;
  }
}

// The smallest encoding of one array item of type t.
uint64_t MinItemBytes(ValueType t) {
  if (t == ValueType::kString) return 8;
  if (t == ValueType::kArray) return 4 + 8;
  return ScalarSize(t);
}

// Names the field being read, for error messages only: "value of 'general.name'". Built from
// views so that reading does not allocate.
struct Field {
  std::string_view what;
  std::string_view name = {};
  std::string Text() const {
    return name.empty() ? std::string(what) : std::string(what) + " '" + std::string(name) + "'";
  }
};

}  // namespace

// A bounds-checked cursor over the buffer.
class ByteReader {
 public:
  ByteReader(const uint8_t* data, uint64_t size) : data_(data), size_(size) {}
  uint64_t pos() const { return pos_; }
  uint64_t remaining() const { return size_ - pos_; }

  template <typename T>
  Status Read(T* out, Field what) {
    if (remaining() < sizeof(T)) return Truncated(what, sizeof(T));
    std::memcpy(out, data_ + pos_, sizeof(T));
    pos_ += sizeof(T);
    return Status::Ok();
  }

  // A GGUF string: u64 length, then that many bytes (no terminator).
  Status ReadString(std::string* out, uint64_t max_len, Field what) {
    uint64_t len = 0;
    MLE_RETURN_IF_ERROR(Read(&len, what));
    if (len > max_len) {
      return Corruption(what.Text() + " is " + std::to_string(len) +
                        " bytes long, over the limit of " + std::to_string(max_len));
    }
    if (len > remaining()) return Truncated(what, len);
    out->assign(reinterpret_cast<const char*>(data_ + pos_), len);
    pos_ += len;
    return Status::Ok();
  }

  Status Truncated(Field what, uint64_t need) const {
    return Corruption("truncated GGUF file: " + what.Text() + " at offset " + std::to_string(pos_) +
                      " needs " + std::to_string(need) + " bytes but only " +
                      std::to_string(remaining()) + " are left");
  }

 private:
  const uint8_t* data_;
  uint64_t size_;
  uint64_t pos_ = 0;
};

namespace {

Status CheckMagic(const uint8_t* data, uint64_t size) {
  if (size < 4) {
    return Corruption("not a GGUF file: only " + std::to_string(size) +
                      " bytes (a GGUF file starts with the 4 bytes 'GGUF')");
  }
  if (std::memcmp(data, "GGUF", 4) == 0) return Status::Ok();
  if (std::memcmp(data, "FUGG", 4) == 0) {
    return Unimplemented(
        "big-endian GGUF file: only little-endian GGUF is supported "
        "(convert it with gguf-py's gguf_convert_endian.py)");
  }
  uint32_t magic = 0;
  std::memcpy(&magic, data, 4);
  // Pre-GGUF ggml formats (magic stored as a little-endian u32: 'ggml', 'ggmf', 'ggjt', 'ggla').
  if (magic == 0x67676d6c || magic == 0x67676d66 || magic == 0x67676a74 || magic == 0x67676c61) {
    return Corruption("not a GGUF file: it is a legacy GGML/GGJT model (magic " + Hex32(magic) +
                      "); convert it to GGUF with llama.cpp");
  }
  std::string text;
  char hex[16];
  std::snprintf(hex, sizeof(hex), "%02x %02x %02x %02x", data[0], data[1], data[2], data[3]);
  for (int i = 0; i < 4; ++i) text += (data[i] >= 0x20 && data[i] < 0x7f) ? char(data[i]) : '.';
  return Corruption("not a GGUF file: it starts with the bytes " + std::string(hex) + " ('" + text +
                    "'), expected 'GGUF'");
}

}  // namespace

Status GgufParser::ParseHeader(uint32_t* version, uint64_t* n_tensors, uint64_t* n_kv) {
  uint32_t magic = 0;
  MLE_RETURN_IF_ERROR(r_->Read(&magic, {"magic"}));
  MLE_RETURN_IF_ERROR(r_->Read(version, {"version"}));
  uint32_t v = *version;
  // A big-endian writer stores the version byte-swapped: 3 reads as 0x03000000.
  if ((v & 0xffff) == 0 && v != 0 && __builtin_bswap32(v) <= 3) {
    return Unimplemented("big-endian GGUF file (version field " + Hex32(v) +
                         "): only little-endian GGUF is supported (convert it with gguf-py's "
                         "gguf_convert_endian.py)");
  }
  if (v == 1) {
    return Unimplemented(
        "GGUF version 1 is not supported (only v2 and v3); re-convert the "
        "model with a current llama.cpp");
  }
  if (v != 2 && v != 3) {
    return Unimplemented("unsupported GGUF version " + std::to_string(v) +
                         " (this build reads v2 and v3)");
  }
  MLE_RETURN_IF_ERROR(r_->Read(n_tensors, {"tensor count"}));
  MLE_RETURN_IF_ERROR(r_->Read(n_kv, {"metadata count"}));
  if (*n_tensors > L::kMaxTensors || *n_tensors > r_->remaining() / kMinTensorInfoBytes) {
    return Corruption("tensor count " + std::to_string(*n_tensors) +
                      " is impossible for a file of " + std::to_string(f_->file_size()) +
                      " bytes (limit " + std::to_string(L::kMaxTensors) + ")");
  }
  if (*n_kv > L::kMaxKeyValues || *n_kv > r_->remaining() / kMinKeyValueBytes) {
    return Corruption("metadata count " + std::to_string(*n_kv) + " is impossible for a file of " +
                      std::to_string(f_->file_size()) + " bytes (limit " +
                      std::to_string(L::kMaxKeyValues) + ")");
  }
  return Status::Ok();
}

Status GgufParser::ParseValue(ValueType type, uint32_t depth, const std::string& key, Value* out) {
  const Field what{"value of", key};
  switch (type) {
#define MLE_GGUF_SCALAR(kType, CType)        \
  case ValueType::kType: {                   \
    CType v{};                               \
    MLE_RETURN_IF_ERROR(r_->Read(&v, what)); \
    *out = Value(v);                         \
    return Status::Ok();                     \
  }
    MLE_GGUF_SCALAR(kUint8, uint8_t)
    MLE_GGUF_SCALAR(kInt8, int8_t)
    MLE_GGUF_SCALAR(kUint16, uint16_t)
    MLE_GGUF_SCALAR(kInt16, int16_t)
    MLE_GGUF_SCALAR(kUint32, uint32_t)
    MLE_GGUF_SCALAR(kInt32, int32_t)
    MLE_GGUF_SCALAR(kFloat32, float)
    MLE_GGUF_SCALAR(kUint64, uint64_t)
    MLE_GGUF_SCALAR(kInt64, int64_t)
    MLE_GGUF_SCALAR(kFloat64, double)
#undef MLE_GGUF_SCALAR
    case ValueType::kBool: {
      uint8_t b = 0;
      MLE_RETURN_IF_ERROR(r_->Read(&b, what));
      if (b > 1) {
        return Corruption("metadata key '" + key + "': bool value " + std::to_string(b) +
                          " is neither 0 nor 1");
      }
      *out = Value(b == 1);
      return Status::Ok();
    }
    case ValueType::kString: {
      std::string s;
      MLE_RETURN_IF_ERROR(r_->ReadString(&s, L::kMaxStringBytes, {"string value of", key}));
      *out = Value(std::move(s));
      return Status::Ok();
    }
    case ValueType::kArray:
      return ParseArray(depth + 1, key, out);
  }
  return Corruption("metadata key '" + key + "' has unknown value type " +
                    std::to_string(static_cast<uint32_t>(type)));
}

Status GgufParser::ParseArray(uint32_t depth, const std::string& key, Value* out) {
  if (depth > L::kMaxArrayDepth) {
    return Corruption("metadata key '" + key + "': arrays nested deeper than " +
                      std::to_string(L::kMaxArrayDepth) + " levels");
  }
  uint32_t elem_id = 0;
  uint64_t count = 0;
  MLE_RETURN_IF_ERROR(r_->Read(&elem_id, {"array type of", key}));
  if (!IsKnownValueType(elem_id)) {
    return Corruption("metadata key '" + key + "' is an array of unknown value type " +
                      std::to_string(elem_id));
  }
  auto elem = static_cast<ValueType>(elem_id);
  MLE_RETURN_IF_ERROR(r_->Read(&count, {"array length of", key}));
  // Each item costs sizeof(Value) in memory, several times its size in the file, so the total
  // is capped too: a file of tiny items cannot make us allocate without bound.
  if (count <= L::kMaxArrayItems && count > L::kMaxTotalArrayItems - n_array_items_) {
    return Corruption("metadata key '" + key + "': the metadata holds more than " +
                      std::to_string(L::kMaxTotalArrayItems) + " array items in total");
  }
  if (count > L::kMaxArrayItems || count > r_->remaining() / MinItemBytes(elem)) {
    return Corruption("metadata key '" + key + "': array of " + std::to_string(count) + " " +
                      std::string(ValueTypeName(elem)) + " items does not fit in the " +
                      std::to_string(r_->remaining()) + " bytes left (limit " +
                      std::to_string(L::kMaxArrayItems) + " items)");
  }
  n_array_items_ += count;
  std::vector<Value> items(count);
  for (uint64_t i = 0; i < count; ++i) {
    MLE_RETURN_IF_ERROR(ParseValue(elem, depth, key, &items[i]));
  }
  *out = Value::MakeArray(elem, std::move(items));
  return Status::Ok();
}

Status GgufParser::ParseMetadata(uint64_t n_kv) {
  f_->metadata_.reserve(n_kv);
  for (uint64_t i = 0; i < n_kv; ++i) {
    KeyValue kv;
    MLE_RETURN_IF_ERROR(r_->ReadString(&kv.key, L::kMaxNameBytes, {"key of a metadata entry"}));
    if (kv.key.empty()) {
      return Corruption("the key of metadata entry " + std::to_string(i) + " is empty");
    }
    uint32_t type_id = 0;
    MLE_RETURN_IF_ERROR(r_->Read(&type_id, {"value type of", kv.key}));
    if (!IsKnownValueType(type_id)) {
      return Corruption("metadata key '" + kv.key + "' has unknown value type " +
                        std::to_string(type_id));
    }
    MLE_RETURN_IF_ERROR(ParseValue(static_cast<ValueType>(type_id), 0, kv.key, &kv.value));
    f_->metadata_.push_back(std::move(kv));
    const std::string& key = f_->metadata_.back().key;
    if (!f_->kv_index_.emplace(key, f_->metadata_.size() - 1).second) {
      return Corruption("duplicate metadata key '" + key + "'");
    }
  }
  return Status::Ok();
}

Status GgufParser::ParseTensorShape(const std::string& name, TensorInfo* t) {
  uint32_t n_dims = 0;
  MLE_RETURN_IF_ERROR(r_->Read(&n_dims, {"dimension count of tensor", name}));
  if (n_dims > L::kMaxDims) {
    return Corruption("tensor '" + name + "' has " + std::to_string(n_dims) +
                      " dimensions (at most " + std::to_string(L::kMaxDims) + ")");
  }
  t->dims.resize(n_dims);
  uint64_t n_elements = 1;
  for (uint32_t d = 0; d < n_dims; ++d) {
    MLE_RETURN_IF_ERROR(r_->Read(&t->dims[d], {"shape of tensor", name}));
    if (__builtin_mul_overflow(n_elements, t->dims[d], &n_elements) ||
        n_elements > L::kMaxElements) {
      return Corruption("tensor '" + name +
                        "': the product of its dimensions overflows the "
                        "limit of " +
                        std::to_string(L::kMaxElements) + " elements");
    }
  }
  t->n_elements = n_elements;
  return Status::Ok();
}

Status GgufParser::ParseTensorInfo(TensorInfo* t) {
  MLE_RETURN_IF_ERROR(r_->ReadString(&t->name, L::kMaxNameBytes, {"tensor name"}));
  const std::string& name = t->name;
  MLE_RETURN_IF_ERROR(ParseTensorShape(name, t));
  uint32_t type_id = 0;
  MLE_RETURN_IF_ERROR(r_->Read(&type_id, {"type of tensor", name}));
  auto info = GetTensorTypeInfo(type_id);
  if (!info) {
    return Corruption("tensor '" + name + "' has unknown tensor type id " +
                      std::to_string(type_id));
  }
  t->type = info->type;
  uint64_t ne0 = t->dims.empty() ? 1 : t->dims[0];
  if (ne0 % info->block_size != 0) {
    return Corruption("tensor '" + name + "' (" + std::string(info->name) + "): first dimension " +
                      std::to_string(ne0) + " is not a multiple of the block size " +
                      std::to_string(info->block_size));
  }
  // n_elements <= 2^50 and type_size < 2^10, so this cannot overflow; checked anyway.
  if (__builtin_mul_overflow(t->n_elements / info->block_size, uint64_t{info->type_size},
                             &t->size_bytes)) {
    return Corruption("tensor '" + name + "': its byte size overflows");
  }
  MLE_RETURN_IF_ERROR(r_->Read(&t->offset, {"data offset of tensor", name}));
  if (t->offset % f_->alignment_ != 0) {
    return Corruption("tensor '" + name + "': data offset " + std::to_string(t->offset) +
                      " is not a multiple of the alignment " + std::to_string(f_->alignment_));
  }
  return Status::Ok();
}

Status GgufParser::ParseTensorInfos(uint64_t n_tensors) {
  f_->tensors_.reserve(n_tensors);
  for (uint64_t i = 0; i < n_tensors; ++i) {
    TensorInfo t;
    MLE_RETURN_IF_ERROR(ParseTensorInfo(&t));
    f_->tensors_.push_back(std::move(t));
    const std::string& name = f_->tensors_.back().name;
    if (!f_->tensor_index_.emplace(name, f_->tensors_.size() - 1).second) {
      return Corruption("duplicate tensor name '" + name + "'");
    }
  }
  return Status::Ok();
}

namespace {

// general.alignment, when present, must be a uint32 power of two within the cap.
Status ReadAlignment(const GgufFile& f, uint32_t* alignment) {
  const Value* v = f.Find(kAlignmentKey);
  if (v == nullptr) return Status::Ok();
  if (v->type() != ValueType::kUint32) {
    return Corruption(std::string(kAlignmentKey) + " has type " +
                      std::string(ValueTypeName(v->type())) + ", expected uint32");
  }
  uint32_t a = v->get<uint32_t>();
  if (a == 0 || !std::has_single_bit(a) || a > L::kMaxAlignment) {
    return Corruption(std::string(kAlignmentKey) + " is " + std::to_string(a) +
                      ", expected a power of two between 1 and " +
                      std::to_string(L::kMaxAlignment));
  }
  *alignment = a;
  return Status::Ok();
}

// Every tensor's bytes must lie inside the file, and no two tensors may share bytes.
Status CheckTensorData(const std::vector<TensorInfo>& tensors, uint64_t data_offset,
                       uint64_t file_size) {
  if (tensors.empty()) return Status::Ok();
  if (data_offset > file_size) {
    return Corruption("truncated GGUF file: the data section starts at offset " +
                      std::to_string(data_offset) + " but the file has only " +
                      std::to_string(file_size) + " bytes");
  }
  const uint64_t data_bytes = file_size - data_offset;
  std::vector<const TensorInfo*> order;
  order.reserve(tensors.size());
  for (const TensorInfo& t : tensors) {
    if (t.offset > data_bytes || t.size_bytes > data_bytes - t.offset) {
      return Corruption("tensor '" + t.name + "': data [" + std::to_string(t.offset) + ", +" +
                        std::to_string(t.size_bytes) + ") lies past the end of the file (" +
                        std::to_string(data_bytes) + " data bytes; truncated file?)");
    }
    if (t.size_bytes > 0) order.push_back(&t);  // an empty tensor owns no bytes to share
  }
  std::sort(order.begin(), order.end(),
            [](const TensorInfo* a, const TensorInfo* b) { return a->offset < b->offset; });
  for (size_t i = 1; i < order.size(); ++i) {
    const TensorInfo& prev = *order[i - 1];
    if (prev.offset + prev.size_bytes > order[i]->offset) {
      return Corruption("tensors '" + prev.name + "' and '" + order[i]->name +
                        "' overlap in the data section");
    }
  }
  return Status::Ok();
}

}  // namespace

Status GgufParser::Parse(GgufFile* file) {
  MLE_RETURN_IF_ERROR(CheckMagic(file->data_, file->size_));
  ByteReader reader(file->data_, file->size_);
  GgufParser parser(file, &reader);
  uint64_t n_tensors = 0;
  uint64_t n_kv = 0;
  MLE_RETURN_IF_ERROR(parser.ParseHeader(&file->version_, &n_tensors, &n_kv));
  MLE_RETURN_IF_ERROR(parser.ParseMetadata(n_kv));
  MLE_RETURN_IF_ERROR(ReadAlignment(*file, &file->alignment_));
  MLE_RETURN_IF_ERROR(parser.ParseTensorInfos(n_tensors));
  const uint64_t a = file->alignment_;
  uint64_t end = 0;
  if (__builtin_add_overflow(reader.pos(), a - 1, &end)) return Corruption("header too large");
  file->data_offset_ = end / a * a;
  return CheckTensorData(file->tensors_, file->data_offset_, file->size_);
}

}  // namespace mle::gguf
