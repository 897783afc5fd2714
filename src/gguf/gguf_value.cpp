// Metadata values (see gguf_file.h): type names, loose numeric conversions, exact equality
// (floats compared bit for bit, so NaN == NaN and a round trip compares equal) and the short
// human-readable rendering used by `gguf inspect`.
#include <charconv>
#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <limits>

#include "gguf/gguf_file.h"

namespace mle::gguf {

// The variant's alternative index is the GGUF type id; type() relies on it.
static_assert(std::variant_size_v<Value::Storage> == 13);
static_assert(std::is_same_v<std::variant_alternative_t<0, Value::Storage>, uint8_t>);
static_assert(std::is_same_v<std::variant_alternative_t<7, Value::Storage>, bool>);
static_assert(std::is_same_v<std::variant_alternative_t<8, Value::Storage>, std::string>);
static_assert(std::is_same_v<std::variant_alternative_t<9, Value::Storage>, Array>);
static_assert(std::is_same_v<std::variant_alternative_t<12, Value::Storage>, double>);

namespace {

constexpr std::string_view kValueTypeNames[] = {
    "uint8", "int8",   "uint16", "int16",  "uint32", "int32",   "float32",
    "bool",  "string", "array",  "uint64", "int64",  "float64",
};

template <typename F>
std::string FloatText(F v) {
  char buf[64];
  auto res = std::to_chars(buf, buf + sizeof(buf), v);
  return std::string(buf, res.ptr);
}

// Quotes a string, escaping quotes, backslashes and control bytes; bytes >= 0x80 pass through
// (UTF-8 text stays readable).
std::string QuoteString(const std::string& s, size_t max_bytes) {
  std::string out = "\"";
  size_t n = std::min(s.size(), max_bytes);
  for (size_t i = 0; i < n; ++i) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\t') {
      out += "\\t";
    } else if (c == '\r') {
      out += "\\r";
    } else if (c < 0x20 || c == 0x7f) {
      char buf[8];
      std::snprintf(buf, sizeof(buf), "\\x%02x", c);
      out += buf;
    } else {
      out += static_cast<char>(c);
    }
  }
  out += '"';
  if (n < s.size()) out += "... (" + std::to_string(s.size()) + " bytes)";
  return out;
}

template <typename F>
bool SameBits(F a, F b) {
  return std::memcmp(&a, &b, sizeof(F)) == 0;
}

}  // namespace

std::string_view ValueTypeName(ValueType t) {
  auto id = static_cast<uint32_t>(t);
  return IsKnownValueType(id) ? kValueTypeNames[id] : std::string_view("unknown");
}

bool IsKnownValueType(uint32_t id) {
  return id <= static_cast<uint32_t>(ValueType::kFloat64);
}

bool IsIntegerType(ValueType t) {
  switch (t) {
    case ValueType::kUint8:
    case ValueType::kInt8:
    case ValueType::kUint16:
    case ValueType::kInt16:
    case ValueType::kUint32:
    case ValueType::kInt32:
    case ValueType::kUint64:
    case ValueType::kInt64:
      return true;
    default:
      return false;
  }
}

bool Value::is_integer() const {
  return IsIntegerType(type());
}

bool Value::ToInt64(int64_t* out) const {
  return std::visit(
      [out](const auto& v) -> bool {
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_integral_v<T> && !std::is_same_v<T, bool>) {
          if constexpr (std::is_same_v<T, uint64_t>) {
            if (v > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) return false;
          }
          *out = static_cast<int64_t>(v);
          return true;
        } else {
          return false;
        }
      },
      v_);
}

bool Value::ToUint64(uint64_t* out) const {
  return std::visit(
      [out](const auto& v) -> bool {
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_integral_v<T> && !std::is_same_v<T, bool>) {
          if constexpr (std::is_signed_v<T>) {
            if (v < 0) return false;
          }
          *out = static_cast<uint64_t>(v);
          return true;
        } else {
          return false;
        }
      },
      v_);
}

bool Value::ToDouble(double* out) const {
  if (const float* f = std::get_if<float>(&v_)) {
    *out = *f;
    return true;
  }
  if (const double* d = std::get_if<double>(&v_)) {
    *out = *d;
    return true;
  }
  return false;
}

std::string Value::ToString(size_t max_items, size_t max_string_bytes) const {
  return std::visit(
      [&](const auto& v) -> std::string {
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<T, bool>) {
          return v ? "true" : "false";
        } else if constexpr (std::is_same_v<T, std::string>) {
          return QuoteString(v, max_string_bytes);
        } else if constexpr (std::is_same_v<T, Array>) {
          std::string out = "[";
          size_t shown = std::min(v.items.size(), max_items);
          for (size_t i = 0; i < shown; ++i) {
            if (i > 0) out += ", ";
            out += v.items[i].ToString(max_items, max_string_bytes);
          }
          if (shown < v.items.size()) {
            out += (shown > 0 ? ", ... (" : "... (") + std::to_string(v.items.size()) + " items)";
          }
          return out + "]";
        } else if constexpr (std::is_floating_point_v<T>) {
          return FloatText(v);
        } else {
          return std::to_string(v);
        }
      },
      v_);
}

bool Value::operator==(const Value& o) const {
  if (v_.index() != o.v_.index()) return false;
  return std::visit(
      [&o](const auto& a) -> bool {
        using T = std::decay_t<decltype(a)>;
        const T& b = std::get<T>(o.v_);
        if constexpr (std::is_same_v<T, Array>) {
          return a.elem_type == b.elem_type && a.items == b.items;
        } else if constexpr (std::is_floating_point_v<T>) {
          return SameBits(a, b);
        } else {
          return a == b;
        }
      },
      v_);
}

}  // namespace mle::gguf
