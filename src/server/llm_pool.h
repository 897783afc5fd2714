// The LLM model registry of the server: every .gguf file in the models directory, by file
// name without the extension. A model loads on first use (or on request) into a Scheduler;
// at most max_loaded stay loaded, the least recently used idle one is unloaded first. Loading
// blocks other acquirers of the pool (bounded by the load time). Thread-safe.
#pragma once

#include <chrono>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/status.h"
#include "llm/model.h"
#include "llm/scheduler.h"
#include "text/chat_template.h"

namespace mle::server {

struct ModelPoolOptions {
  std::string models_dir = "models";
  size_t max_loaded = 1;
  // How long a request for a model that is not loaded waits for a loaded one to become idle
  // (so it can be unloaded) before it gets 503.
  std::chrono::milliseconds busy_wait{2000};
  llm::SchedulerOptions scheduler;
};

// A loaded model and its scheduler (destroyed scheduler first).
struct LoadedModel {
  std::string name;
  std::unique_ptr<llm::Model> model;
  std::optional<text::ChatTemplate> chat_template;  // none: the model has no template
  std::unique_ptr<llm::Scheduler> scheduler;
  std::chrono::steady_clock::time_point loaded_at;
  ~LoadedModel() { scheduler.reset(); }
};

struct ModelListing {
  std::string name;
  std::string path;
  uint64_t size_bytes = 0;
  std::string arch;  // "" when the header could not be read
  int64_t n_ctx_train = 0;
  bool has_chat_template = false;
  std::string error;  // why the file cannot be used, if it cannot
  bool loaded = false;
};

class ModelPool {
 public:
  explicit ModelPool(ModelPoolOptions options);
  ~ModelPool();

  // Every .gguf in the directory (rescanned), sorted by name.
  std::vector<ModelListing> List();
  // The loaded model, loading it if needed. `name` "" picks the only model when there is
  // exactly one. NotFound lists the available names; load errors are the engine's.
  Result<std::shared_ptr<LoadedModel>> Acquire(const std::string& name);
  // NotFound when the model is not loaded. Requests in flight finish as cancelled.
  Status Unload(const std::string& name);
  // The loaded models (for metrics).
  std::vector<std::shared_ptr<LoadedModel>> Loaded();
  const ModelPoolOptions& options() const { return options_; }

 private:
  // The loaded model called `name` (its last use now), or nullptr. REQUIRES mu_ held.
  std::shared_ptr<LoadedModel> UseLoadedLocked(const std::string& name);
  Result<std::string> PathOf(const std::string& name);
  ModelPoolOptions options_;
  std::mutex mu_;
  struct Entry {
    std::shared_ptr<LoadedModel> model;
    std::chrono::steady_clock::time_point last_used;
  };
  std::vector<Entry> loaded_;
};

}  // namespace mle::server
