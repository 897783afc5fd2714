// Strict reading of JSON request bodies into native values. Every problem is an
// InvalidArgument naming the field and what it should be ("'epochs' must be an integer from 1
// to 1000"), which StatusResponse turns into a 400. Fields the reader was never asked about
// are reported by Finish() ("unknown field 'epoch' (known: ...)"), so typos never pass silently.
#pragma once

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/status.h"

namespace mle::server {

class JsonBody {
 public:
  // Parses `body` as a JSON object ("request body is not valid JSON: ..." otherwise).
  static Result<JsonBody> Parse(std::string_view body);

  bool Has(const std::string& field) const;
  // Each getter leaves *out alone when the field is absent; REQUIRED fields say so.
  Status String(const std::string& field, std::string* out, bool required = false,
                size_t max_size = 4096);
  Status Int(const std::string& field, int64_t* out, int64_t min, int64_t max,
             bool required = false);
  Status Double(const std::string& field, double* out, double min, double max,
                bool min_exclusive = false);
  Status Bool(const std::string& field, bool* out);
  Status Choice(const std::string& field, std::string* out,
                const std::vector<std::string>& choices);
  Status StringList(const std::string& field, std::vector<std::string>* out, size_t max_items);
  // Raw access (marks the field as known). Null when absent.
  const nlohmann::json* Raw(const std::string& field);
  // InvalidArgument for the first field no getter asked about.
  Status Finish() const;

 private:
  explicit JsonBody(nlohmann::json j) : json_(std::move(j)) {}
  const nlohmann::json* Get(const std::string& field);
  nlohmann::json json_;
  std::set<std::string> known_;
};

// Standard base64 (RFC 4648, padding optional, whitespace ignored); `what` names the value in
// errors.
Result<std::string> DecodeBase64(std::string_view text, const std::string& what);

}  // namespace mle::server
