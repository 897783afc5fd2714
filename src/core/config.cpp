// Config resolution and validation (see config.h).
#include "core/config.h"

#include <algorithm>
#include <cctype>
#include <cmath>

#include "core/file_util.h"

namespace mle {
namespace {

const char* TypeName(OptionType t) {
  switch (t) {
    case OptionType::kBool:
      return "a boolean";
    case OptionType::kInt:
      return "an integer";
    case OptionType::kDouble:
      return "a number";
    case OptionType::kString:
      return "a string";
    case OptionType::kStringList:
      return "a list of strings";
  }
  return "?";
}

std::string JsonTypeName(const nlohmann::json& v) {
  if (v.is_boolean()) return "boolean";
  if (v.is_number_integer()) return "integer";
  if (v.is_number()) return "number";
  if (v.is_string()) return "string";
  if (v.is_array()) return "array";
  if (v.is_object()) return "object";
  return "null";
}

std::string JoinKeys(const std::vector<std::string>& keys) {
  std::string s;
  for (const auto& k : keys) s += (s.empty() ? "" : ", ") + k;
  return s;
}

}  // namespace

std::string OptionSpec::EnvVar() const {
  std::string env = "MLE_";
  for (char c : key) env.push_back(c == '.' ? '_' : static_cast<char>(std::toupper(c)));
  return env;
}

Config::Config(std::vector<OptionSpec> specs) : specs_(std::move(specs)) {
  for (const auto& s : specs_) {
    values_[s.key] = s.default_value;
    origins_[s.key] = "default";
  }
}

const OptionSpec* Config::FindSpec(const std::string& key) const {
  for (const auto& s : specs_) {
    if (s.key == key) return &s;
  }
  return nullptr;
}

Status Config::Validate(const OptionSpec& spec, const nlohmann::json& v,
                        const std::string& origin) const {
  auto fail = [&](const std::string& why) {
    return InvalidArgument(origin + ": '" + spec.key + "' " + why);
  };
  bool type_ok = false;
  switch (spec.type) {
    case OptionType::kBool:
      type_ok = v.is_boolean();
      break;
    case OptionType::kInt:
      type_ok = v.is_number_integer();
      break;
    case OptionType::kDouble:
      type_ok = v.is_number();
      break;
    case OptionType::kString:
      type_ok = v.is_string();
      break;
    case OptionType::kStringList:
      type_ok = v.is_array() &&
                std::all_of(v.begin(), v.end(), [](const auto& e) { return e.is_string(); });
      break;
  }
  if (!type_ok) {
    return fail(std::string("must be ") + TypeName(spec.type) + ", got " + JsonTypeName(v) + " " +
                v.dump());
  }
  if (v.is_number()) {
    // Bounds of an integer option print as integers ("<= 1024", not "<= 1024.0").
    auto bound = [&](double b) {
      return spec.type == OptionType::kInt ? std::to_string(static_cast<int64_t>(b))
                                           : nlohmann::json(b).dump();
    };
    double d = v.get<double>();
    if (!std::isfinite(d)) return fail("must be finite");
    if (spec.min) {
      bool bad = spec.min_exclusive ? d <= *spec.min : d < *spec.min;
      if (bad) {
        return fail("must be " + std::string(spec.min_exclusive ? "> " : ">= ") + bound(*spec.min) +
                    ", got " + v.dump());
      }
    }
    if (spec.max && d > *spec.max) {
      return fail("must be <= " + bound(*spec.max) + ", got " + v.dump());
    }
  }
  if (v.is_string() && !spec.choices.empty() &&
      std::find(spec.choices.begin(), spec.choices.end(), v.get<std::string>()) ==
          spec.choices.end()) {
    return fail("must be one of " + JoinKeys(spec.choices) + ", got " + v.dump());
  }
  return Status::Ok();
}

Status Config::Set(const std::string& key, const nlohmann::json& value, const std::string& origin) {
  const OptionSpec* spec = FindSpec(key);
  if (!spec) return InvalidArgument(origin + ": unknown option '" + key + "'");
  nlohmann::json v = value;
  // An integer is an acceptable number.
  if (spec->type == OptionType::kDouble && v.is_number_integer()) v = v.get<double>();
  MLE_RETURN_IF_ERROR(Validate(*spec, v, origin));
  values_[key] = std::move(v);
  origins_[key] = origin;
  return Status::Ok();
}

Status Config::MergeJson(const nlohmann::json& root, const std::string& origin) {
  if (!root.is_object()) return InvalidArgument(origin + ": the top level must be a JSON object");
  // Walk nested objects; a leaf's path is its key.
  std::vector<std::pair<std::string, const nlohmann::json*>> stack{{"", &root}};
  while (!stack.empty()) {
    // Plain copies: lambdas below capture them (clang rejects captured structured bindings).
    const std::string prefix = stack.back().first;
    const nlohmann::json* node = stack.back().second;
    stack.pop_back();
    for (auto it = node->begin(); it != node->end(); ++it) {
      std::string path = prefix.empty() ? it.key() : prefix + "." + it.key();
      if (FindSpec(path)) {
        MLE_RETURN_IF_ERROR(Set(path, it.value(), origin));
        continue;
      }
      bool is_section = std::any_of(specs_.begin(), specs_.end(), [&](const OptionSpec& s) {
        return s.key.rfind(path + ".", 0) == 0;
      });
      if (is_section && it.value().is_object()) {
        stack.push_back({path, &it.value()});
      } else if (is_section) {
        return InvalidArgument(origin + ": '" + path + "' must be an object, got " +
                               JsonTypeName(it.value()));
      } else {
        std::vector<std::string> siblings;
        for (const auto& s : specs_) {
          if (prefix.empty() || s.key.rfind(prefix + ".", 0) == 0) {
            std::string rest = prefix.empty() ? s.key : s.key.substr(prefix.size() + 1);
            std::string head = rest.substr(0, rest.find('.'));
            if (std::find(siblings.begin(), siblings.end(), head) == siblings.end())
              siblings.push_back(head);
          }
        }
        return InvalidArgument(origin + ": unknown key '" + path +
                               "' (known here: " + JoinKeys(siblings) + ")");
      }
    }
  }
  return Status::Ok();
}

Status Config::MergeFile(const std::string& path) {
  MLE_ASSIGN_OR_RETURN(std::string text, ReadFile(path));
  nlohmann::json root = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false,
                                              /*ignore_comments=*/true);
  if (root.is_discarded()) {
    // Re-parse with exceptions to get the position of the error.
    try {
      auto reparsed = nlohmann::json::parse(text, nullptr, true, true);
      (void)reparsed;
    } catch (const nlohmann::json::parse_error& e) {
      return InvalidArgument(path + ": invalid JSON at byte " + std::to_string(e.byte) +
                             " (fix the syntax)");
    }
    return InvalidArgument(path + ": invalid JSON");
  }
  return MergeJson(root, path);
}

Status Config::SetFromString(const std::string& key, const std::string& text,
                             const std::string& origin) {
  const OptionSpec* spec = FindSpec(key);
  if (!spec) return InvalidArgument(origin + ": unknown option '" + key + "'");
  auto bad = [&](const char* what) {
    return InvalidArgument(origin + ": '" + text + "' is not " + what + " (for '" + key + "')");
  };
  nlohmann::json v;
  switch (spec->type) {
    case OptionType::kBool:
      if (text == "1" || text == "true" || text == "yes" || text == "on")
        v = true;
      else if (text == "0" || text == "false" || text == "no" || text == "off")
        v = false;
      else
        return bad("a boolean (true/false)");
      break;
    case OptionType::kInt: {
      size_t pos = 0;
      try {
        long long n = std::stoll(text, &pos);
        if (pos != text.size()) return bad("an integer");
        v = n;
      } catch (...) {
        return bad("an integer");
      }
      break;
    }
    case OptionType::kDouble: {
      size_t pos = 0;
      try {
        double d = std::stod(text, &pos);
        if (pos != text.size()) return bad("a number");
        v = d;
      } catch (...) {
        return bad("a number");
      }
      break;
    }
    case OptionType::kString:
      v = text;
      break;
    case OptionType::kStringList: {
      v = nlohmann::json::array();
      size_t start = 0;
      while (start <= text.size()) {
        size_t comma = text.find(',', start);
        std::string item = text.substr(start, comma == std::string::npos ? comma : comma - start);
        if (!item.empty()) v.push_back(item);
        if (comma == std::string::npos) break;
        start = comma + 1;
      }
      break;
    }
  }
  return Set(key, v, origin);
}

Status Config::MergeEnv(const std::function<const char*(const char*)>& getenv) {
  for (const auto& spec : specs_) {
    std::string name = spec.EnvVar();
    const char* val = getenv(name.c_str());
    if (val != nullptr) MLE_RETURN_IF_ERROR(SetFromString(spec.key, val, "env " + name));
  }
  return Status::Ok();
}

const nlohmann::json& Config::Get(const std::string& key) const {
  auto it = values_.find(key);
  MLE_CHECK_MSG(it != values_.end(), key.c_str());
  return it->second;
}

bool Config::GetBool(const std::string& key) const {
  return Get(key).get<bool>();
}
int64_t Config::GetInt(const std::string& key) const {
  return Get(key).get<int64_t>();
}
double Config::GetDouble(const std::string& key) const {
  return Get(key).get<double>();
}
std::string Config::GetString(const std::string& key) const {
  return Get(key).get<std::string>();
}
std::vector<std::string> Config::GetStringList(const std::string& key) const {
  return Get(key).get<std::vector<std::string>>();
}
std::string Config::Origin(const std::string& key) const {
  auto it = origins_.find(key);
  return it == origins_.end() ? "" : it->second;
}

nlohmann::json Config::ToJson() const {
  nlohmann::json root = nlohmann::json::object();
  for (const auto& [key, value] : values_) {
    std::string pointer = "/" + key;
    std::replace(pointer.begin(), pointer.end(), '.', '/');
    root[nlohmann::json::json_pointer(pointer)] = value;
  }
  return root;
}

}  // namespace mle
