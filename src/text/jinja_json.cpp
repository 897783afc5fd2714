// JSON in and out of Jinja values (see jinja_builtins.h): json.dumps exactly as Python writes
// it (float repr, NaN/Infinity, escapes, ensure_ascii, indent and separators), and the
// conversion of render variables from nlohmann::ordered_json.
#include <algorithm>
#include <cmath>
#include <cstdio>

#include <nlohmann/json.hpp>

#include "text/jinja_builtins.h"
#include "text/jinja_strutil.h"

namespace mle::text::jinja {
namespace {

constexpr int kMaxDepth = 512;

void AppendJsonString(std::string& out, std::string_view s, bool ensure_ascii) {
  out += '"';
  for (char32_t c : DecodeUtf8(s)) {
    char buf[16];
    switch (c) {
      case '"':
        out += "\\\"";
        continue;
      case '\\':
        out += "\\\\";
        continue;
      case '\n':
        out += "\\n";
        continue;
      case '\r':
        out += "\\r";
        continue;
      case '\t':
        out += "\\t";
        continue;
      case '\b':
        out += "\\b";
        continue;
      case '\f':
        out += "\\f";
        continue;
      default:
        break;
    }
    if (c < 0x20 || (ensure_ascii && c >= 0x7F)) {
      if (c >= 0x10000) {
        char32_t v = c - 0x10000;
        std::snprintf(buf, sizeof(buf), "\\u%04x\\u%04x", static_cast<unsigned>(0xD800 + (v >> 10)),
                      static_cast<unsigned>(0xDC00 + (v & 0x3FF)));
      } else {
        std::snprintf(buf, sizeof(buf), "\\u%04x", static_cast<unsigned>(c));
      }
      out += buf;
    } else {
      AppendUtf8(out, c);
    }
  }
  out += '"';
}

std::string FloatJson(double d) {
  if (std::isnan(d)) return "NaN";
  if (std::isinf(d)) return d < 0 ? "-Infinity" : "Infinity";
  return FormatFloat(d);
}

// json.dumps turns keys into strings: str as is, numbers and bool/None as their JSON text.
std::string KeyString(const Value& k) {
  switch (k.kind()) {
    case Value::Kind::kString:
      return k.str();
    case Value::Kind::kInt:
      return std::to_string(k.int_value());
    case Value::Kind::kFloat:
      return FloatJson(k.float_value());
    case Value::Kind::kBool:
      return k.bool_value() ? "true" : "false";
    case Value::Kind::kNone:
      return "null";
    default:
      ThrowRuntime("keys must be str, int, float, bool or None, not " + TypeName(k));
  }
}

void Dump(std::string& out, const Value& v, const JsonDumpOptions& o, int depth);

// A list or dict: "[" / "{", members separated by the item separator, each on its own
// indented line when indenting; empty containers stay "[]" / "{}" as in Python.
void DumpContainer(std::string& out, const Value& v, const JsonDumpOptions& o, int depth) {
  std::vector<std::pair<std::string, const Value*>> members;  // key ("" for lists), value
  if (v.is_list()) {
    for (const Value& item : v.list().items) members.emplace_back("", &item);
  } else {
    for (const auto& [k, val] : v.dict().entries()) members.emplace_back(KeyString(k), &val);
    if (o.sort_keys) {
      std::stable_sort(members.begin(), members.end(),
                       [](const auto& a, const auto& b) { return a.first < b.first; });
    }
  }
  const char* brackets = v.is_list() ? "[]" : "{}";
  if (members.empty()) {
    out += brackets;
    return;
  }
  std::string nl;
  if (o.indent) {
    nl = "\n";
    for (int i = 0; i <= depth; ++i) nl += *o.indent;
  }
  out += brackets[0] + nl;
  for (size_t i = 0; i < members.size(); ++i) {
    if (i) out += o.item_separator + nl;
    if (v.is_dict()) {
      AppendJsonString(out, members[i].first, o.ensure_ascii);
      out += o.key_separator;
    }
    Dump(out, *members[i].second, o, depth + 1);
  }
  if (o.indent) out += nl.substr(0, nl.size() - o.indent->size());
  out += brackets[1];
}

void Dump(std::string& out, const Value& v, const JsonDumpOptions& o, int depth) {
  if (depth > kMaxDepth) ThrowRuntime("tojson: nesting too deep (circular reference?)");
  switch (v.kind()) {
    case Value::Kind::kNone:
      out += "null";
      return;
    case Value::Kind::kBool:
      out += v.bool_value() ? "true" : "false";
      return;
    case Value::Kind::kInt:
      out += std::to_string(v.int_value());
      return;
    case Value::Kind::kFloat:
      out += FloatJson(v.float_value());
      return;
    case Value::Kind::kString:
      AppendJsonString(out, v.str(), o.ensure_ascii);
      return;
    case Value::Kind::kList:
    case Value::Kind::kDict:
      DumpContainer(out, v, o, depth);
      return;
    default:
      ThrowRuntime("Object of type " + TypeName(v) + " is not JSON serializable");
  }
}

}  // namespace

std::string JsonDumps(const Value& v, const JsonDumpOptions& options) {
  std::string out;
  Dump(out, v, options, 0);
  return out;
}

Value ValueFromJson(const nlohmann::ordered_json& j, int depth) {
  if (depth > kMaxDepth) ThrowRuntime("JSON input nested deeper than 512 levels");
  switch (j.type()) {
    case nlohmann::ordered_json::value_t::null:
      return Value::None();
    case nlohmann::ordered_json::value_t::boolean:
      return Value::Bool(j.get<bool>());
    case nlohmann::ordered_json::value_t::number_integer:
      return Value::Int(j.get<int64_t>());
    case nlohmann::ordered_json::value_t::number_unsigned: {
      uint64_t u = j.get<uint64_t>();
      if (u <= static_cast<uint64_t>(INT64_MAX)) return Value::Int(static_cast<int64_t>(u));
      return Value::Float(static_cast<double>(u));
    }
    case nlohmann::ordered_json::value_t::number_float:
      return Value::Float(j.get<double>());
    case nlohmann::ordered_json::value_t::string:
      return Value::Str(j.get<std::string>());
    case nlohmann::ordered_json::value_t::array: {
      std::vector<Value> items;
      items.reserve(j.size());
      for (const auto& item : j) items.push_back(ValueFromJson(item, depth + 1));
      return Value::MakeList(std::move(items));
    }
    case nlohmann::ordered_json::value_t::object: {
      Value d = Value::MakeDict();
      for (const auto& [k, item] : j.items()) {
        d.dict().entries().emplace_back(Value::Str(k), ValueFromJson(item, depth + 1));
      }
      return d;
    }
    default:
      ThrowRuntime("unsupported JSON value (binary)");
  }
}

}  // namespace mle::text::jinja
