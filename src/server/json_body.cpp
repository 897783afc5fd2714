#include "server/json_body.h"

#include <cmath>

namespace mle::server {
namespace {

std::string Quoted(const std::string& field) {
  return "'" + field + "'";
}

std::string TypeName(const nlohmann::json& j) {
  return j.is_null() ? "null" : j.type_name();
}

}  // namespace

Result<JsonBody> JsonBody::Parse(std::string_view body) {
  nlohmann::json j = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) {
    return InvalidArgument(body.empty()
                               ? "request body is empty: send a JSON object"
                               : "request body is not valid JSON (check quotes, commas and UTF-8)");
  }
  if (!j.is_object()) {
    return InvalidArgument("request body must be a JSON object, not " + TypeName(j));
  }
  return JsonBody(std::move(j));
}

bool JsonBody::Has(const std::string& field) const {
  return json_.contains(field);
}

const nlohmann::json* JsonBody::Get(const std::string& field) {
  known_.insert(field);
  auto it = json_.find(field);
  return it == json_.end() ? nullptr : &*it;
}

const nlohmann::json* JsonBody::Raw(const std::string& field) {
  return Get(field);
}

Status JsonBody::String(const std::string& field, std::string* out, bool required,
                        size_t max_size) {
  const nlohmann::json* v = Get(field);
  if (!v) return required ? InvalidArgument(Quoted(field) + " is required") : Status::Ok();
  if (!v->is_string()) {
    return InvalidArgument(Quoted(field) + " must be a string, not " + TypeName(*v));
  }
  const auto& s = v->get_ref<const std::string&>();
  if (s.size() > max_size) {
    return InvalidArgument(Quoted(field) + " is longer than " + std::to_string(max_size) +
                           " characters");
  }
  if (s.find('\0') != std::string::npos) {
    return InvalidArgument(Quoted(field) + " must not contain NUL characters");
  }
  *out = s;
  return Status::Ok();
}

Status JsonBody::Int(const std::string& field, int64_t* out, int64_t min, int64_t max,
                     bool required) {
  const nlohmann::json* v = Get(field);
  if (!v) return required ? InvalidArgument(Quoted(field) + " is required") : Status::Ok();
  const std::string want = Quoted(field) + " must be an integer from " + std::to_string(min) +
                           " to " + std::to_string(max);
  if (v->is_number_integer()) {
    // Unsigned values above INT64_MAX are out of range too.
    if (v->is_number_unsigned() && v->get<uint64_t>() > static_cast<uint64_t>(max)) {
      return InvalidArgument(want);
    }
    const int64_t x = v->get<int64_t>();
    if (x < min || x > max) return InvalidArgument(want + " (got " + std::to_string(x) + ")");
    *out = x;
    return Status::Ok();
  }
  if (v->is_number_float()) {
    const double d = v->get<double>();
    if (std::isfinite(d) && d == std::floor(d) && d >= static_cast<double>(min) &&
        d <= static_cast<double>(max)) {
      *out = static_cast<int64_t>(d);
      return Status::Ok();
    }
  }
  return InvalidArgument(want + ", not " + (v->is_number() ? v->dump() : TypeName(*v)));
}

Status JsonBody::Double(const std::string& field, double* out, double min, double max,
                        bool min_exclusive) {
  const nlohmann::json* v = Get(field);
  if (!v) return Status::Ok();
  char range[96];
  std::snprintf(range, sizeof range, " must be a number %s %g and <= %g",
                min_exclusive ? ">" : ">=", min, max);
  if (!v->is_number()) return InvalidArgument(Quoted(field) + range + ", not " + TypeName(*v));
  const double d = v->get<double>();
  if (!std::isfinite(d) || d > max || d < min || (min_exclusive && d == min)) {
    return InvalidArgument(Quoted(field) + range + " (got " + v->dump() + ")");
  }
  *out = d;
  return Status::Ok();
}

Status JsonBody::Bool(const std::string& field, bool* out) {
  const nlohmann::json* v = Get(field);
  if (!v) return Status::Ok();
  if (!v->is_boolean()) {
    return InvalidArgument(Quoted(field) + " must be true or false, not " + TypeName(*v));
  }
  *out = v->get<bool>();
  return Status::Ok();
}

Status JsonBody::Choice(const std::string& field, std::string* out,
                        const std::vector<std::string>& choices) {
  std::string v;
  MLE_RETURN_IF_ERROR(String(field, &v));
  if (!Has(field)) return Status::Ok();
  for (const auto& c : choices) {
    if (c == v) {
      *out = v;
      return Status::Ok();
    }
  }
  std::string list;
  for (const auto& c : choices) list += (list.empty() ? "" : ", ") + c;
  return InvalidArgument(Quoted(field) + " must be one of " + list + " (got '" + v + "')");
}

Status JsonBody::StringList(const std::string& field, std::vector<std::string>* out,
                            size_t max_items) {
  const nlohmann::json* v = Get(field);
  if (!v) return Status::Ok();
  if (!v->is_array() || v->size() > max_items) {
    return InvalidArgument(Quoted(field) + " must be an array of at most " +
                           std::to_string(max_items) + " strings");
  }
  std::vector<std::string> items;
  for (const auto& e : *v) {
    if (!e.is_string()) {
      return InvalidArgument(Quoted(field) + " must contain only strings, not " + TypeName(e));
    }
    items.push_back(e.get<std::string>());
  }
  *out = std::move(items);
  return Status::Ok();
}

Status JsonBody::Finish() const {
  for (const auto& [k, v] : json_.items()) {
    if (known_.count(k)) continue;
    std::string list;
    for (const auto& f : known_) list += (list.empty() ? "" : ", ") + f;
    return InvalidArgument("unknown field '" + k + "' (known: " + list + ")");
  }
  return Status::Ok();
}

Result<std::string> DecodeBase64(std::string_view text, const std::string& what) {
  auto value = [](char c) -> int {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
  };
  std::string out;
  out.reserve(text.size() / 4 * 3);
  uint32_t acc = 0;
  int bits = 0;
  bool padding = false;
  for (char c : text) {
    if (c == ' ' || c == '\n' || c == '\r' || c == '\t') continue;
    if (c == '=') {
      padding = true;
      continue;
    }
    const int v = value(c);
    if (v < 0 || padding) {
      return InvalidArgument(what + " is not valid base64 (unexpected character)");
    }
    acc = (acc << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((acc >> bits) & 0xff);
    }
  }
  if (bits >= 6) return InvalidArgument(what + " is not valid base64 (truncated)");
  return out;
}

}  // namespace mle::server
