#include "server/presets.h"

#include <filesystem>

#include "core/file_util.h"
#include "server/json_body.h"

namespace mle::server {

Result<PresetStore> PresetStore::Load(const std::string& dir) {
  namespace fs = std::filesystem;
  PresetStore store;
  std::error_code ec;
  if (dir.empty() || !fs::is_directory(dir, ec)) return store;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    if (it->path().extension() != ".json") continue;
    const std::string path = it->path().string();
    MLE_ASSIGN_OR_RETURN(std::string text, ReadFile(path));
    auto body = JsonBody::Parse(text);
    if (!body.ok()) return body.status().WithContext("preset " + path);
    Preset p;
    double d = 0;
    int64_t i = 0;
    auto opt_double = [&](const char* f, std::optional<double>* out, double lo, double hi) {
      if (!body->Has(f)) return body->Double(f, &d, lo, hi);
      Status s = body->Double(f, &d, lo, hi);
      if (s.ok()) *out = d;
      return s;
    };
    auto opt_int = [&](const char* f, std::optional<int64_t>* out, int64_t lo, int64_t hi) {
      Status s = body->Int(f, &i, lo, hi);
      if (s.ok() && body->Has(f)) *out = i;
      return s;
    };
    Status s = body->String("name", &p.name, /*required=*/true, 128);
    if (s.ok()) s = body->String("model", &p.model, false, 256);
    if (s.ok()) s = opt_double("temperature", &p.temperature, 0, 2);
    if (s.ok()) s = opt_double("top_p", &p.top_p, 0, 1);
    if (s.ok()) s = opt_double("min_p", &p.min_p, 0, 1);
    if (s.ok()) s = opt_double("repeat_penalty", &p.repeat_penalty, 0, 10);
    if (s.ok()) s = opt_int("top_k", &p.top_k, 0, 1 << 20);
    if (s.ok()) s = opt_int("max_tokens", &p.max_tokens, -1, 1 << 20);
    if (s.ok()) s = opt_int("n_threads", &p.n_threads, 0, 1024);
    if (s.ok()) s = opt_int("n_ctx", &p.n_ctx, 0, 1 << 20);
    if (s.ok()) s = opt_int("seed", &p.seed, -1, (int64_t{1} << 53) - 1);
    if (s.ok()) s = body->String("chat_template", &p.chat_template, false, 1 << 20);
    if (s.ok()) s = body->String("system_prompt", &p.system_prompt, false, 1 << 20);
    if (s.ok()) s = body->Finish();
    if (!s.ok()) return s.WithContext("preset " + path);
    if (store.presets_.count(p.name)) {
      return InvalidArgument("preset " + path + ": the name '" + p.name +
                             "' is used by another preset file");
    }
    store.presets_[p.name] = std::move(p);
  }
  return store;
}

Result<const Preset*> PresetStore::Find(const std::string& name) const {
  auto it = presets_.find(name);
  if (it != presets_.end()) return &it->second;
  std::string names;
  for (const auto& [n, p] : presets_) names += (names.empty() ? "" : ", ") + n;
  return NotFound("no preset '" + name + "' (" +
                  (names.empty() ? std::string("none are configured: serving.presets_dir")
                                 : "available: " + names) +
                  ")");
}

}  // namespace mle::server
