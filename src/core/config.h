// Configuration: one table declares every option once (JSON key, MLE_* env var, CLI flag,
// default, bounds, help). Values are resolved with the precedence
//   built-in defaults < config file < MLE_* environment < command-line flags,
// and every value is validated as it is merged, with errors that name the JSON path.
// Library code never reads argv or the environment: cli/ passes them in.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/status.h"

namespace mle {

enum class OptionType { kBool, kInt, kDouble, kString, kStringList };

struct OptionSpec {
  std::string key;  // JSON path, e.g. "train.epochs" (nested objects in the file)
  OptionType type = OptionType::kString;
  nlohmann::json default_value;
  std::string flag;  // CLI flag, e.g. "--epochs" ("" = file/env only)
  std::string help;
  std::optional<double> min;  // numeric bounds, inclusive unless *_exclusive
  std::optional<double> max;
  bool min_exclusive = false;
  std::vector<std::string> choices;  // allowed strings ("" list = any)
  std::string scope;  // subcommands the flag belongs to, comma-separated ("" = every command)

  // MLE_ + key upper-cased with '.' -> '_', e.g. MLE_TRAIN_EPOCHS.
  std::string EnvVar() const;
};

class Config {
 public:
  explicit Config(std::vector<OptionSpec> specs);

  const std::vector<OptionSpec>& specs() const { return specs_; }
  const OptionSpec* FindSpec(const std::string& key) const;

  // Merges a JSON config file. Unknown keys and wrong types are errors naming the path.
  Status MergeFile(const std::string& path);
  Status MergeJson(const nlohmann::json& root, const std::string& origin);
  // Merges MLE_* variables; `getenv` is injected so tests need no real environment.
  Status MergeEnv(const std::function<const char*(const char*)>& getenv);
  // Sets one option from text (a flag or env value), parsed by the option's type.
  Status SetFromString(const std::string& key, const std::string& text, const std::string& origin);
  // Sets one option from a JSON value, validated.
  Status Set(const std::string& key, const nlohmann::json& value, const std::string& origin);

  bool GetBool(const std::string& key) const;
  int64_t GetInt(const std::string& key) const;
  double GetDouble(const std::string& key) const;
  std::string GetString(const std::string& key) const;
  std::vector<std::string> GetStringList(const std::string& key) const;
  // Where the value came from: "default", a file path, "env MLE_X" or "flag --x".
  std::string Origin(const std::string& key) const;

  // The resolved configuration as nested JSON (for logs, checkpoints and reports).
  nlohmann::json ToJson() const;

 private:
  Status Validate(const OptionSpec& spec, const nlohmann::json& value,
                  const std::string& origin) const;
  const nlohmann::json& Get(const std::string& key) const;

  std::vector<OptionSpec> specs_;
  std::map<std::string, nlohmann::json> values_;
  std::map<std::string, std::string> origins_;
};

// The table of every ml-engine option (defined in engine_options.cpp).
const std::vector<OptionSpec>& EngineOptionSpecs();

}  // namespace mle
