// Generation presets: presets/*.json, the original design's format (name, n_threads, n_ctx,
// temperature, top_k, top_p, repeat_penalty) plus model, chat_template (a built-in name or Jinja
// source), system_prompt and max_tokens. A request names one with "preset" and overrides its
// fields. Loaded and validated once at start: a bad file stops the server naming the file and
// the field.
#pragma once

#include <map>
#include <optional>
#include <string>

#include "core/status.h"

namespace mle::server {

struct Preset {
  std::string name;
  std::string model;
  std::optional<double> temperature, top_p, min_p, repeat_penalty;
  std::optional<int64_t> top_k, max_tokens, n_threads, n_ctx, seed;
  std::string chat_template;  // "" = the model's
  std::string system_prompt;  // used when the conversation has no system message
};

class PresetStore {
 public:
  // Every *.json in `dir` (a missing directory is an empty store). Errors name the file.
  static Result<PresetStore> Load(const std::string& dir);
  // NotFound listing the names.
  Result<const Preset*> Find(const std::string& name) const;
  const std::map<std::string, Preset>& presets() const { return presets_; }

 private:
  std::map<std::string, Preset> presets_;
};

}  // namespace mle::server
