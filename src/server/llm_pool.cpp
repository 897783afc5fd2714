#include "server/llm_pool.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <filesystem>
#include <thread>

#include "gguf/gguf_file.h"

namespace mle::server {
namespace {

namespace fs = std::filesystem;

std::vector<fs::path> GgufFiles(const std::string& dir) {
  std::vector<fs::path> out;
  std::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    if (it->path().extension() == ".gguf" && it->is_regular_file(ec)) out.push_back(it->path());
  }
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace

ModelPool::ModelPool(ModelPoolOptions options) : options_(std::move(options)) {
  options_.max_loaded = std::max<size_t>(1, options_.max_loaded);
}

ModelPool::~ModelPool() = default;

std::vector<ModelListing> ModelPool::List() {
  std::vector<ModelListing> out;
  for (const fs::path& p : GgufFiles(options_.models_dir)) {
    ModelListing m;
    m.name = p.stem().string();
    m.path = p.string();
    std::error_code ec;
    m.size_bytes = fs::file_size(p, ec);
    auto file = gguf::GgufFile::Open(m.path);
    if (file.ok()) {
      if (auto arch = (*file)->GetString("general.architecture"); arch.ok()) m.arch = *arch;
      if (auto n = (*file)->GetInt(m.arch + ".context_length"); n.ok()) m.n_ctx_train = *n;
      m.has_chat_template = (*file)->Find("tokenizer.chat_template") != nullptr;
    } else {
      m.error = file.status().message();
    }
    out.push_back(std::move(m));
  }
  std::lock_guard<std::mutex> lock(mu_);
  for (auto& m : out) {
    for (const auto& e : loaded_) m.loaded = m.loaded || e.model->name == m.name;
  }
  return out;
}

Result<std::string> ModelPool::PathOf(const std::string& requested) {
  const auto files = GgufFiles(options_.models_dir);
  std::string names;
  for (const auto& f : files) names += (names.empty() ? "" : ", ") + f.stem().string();
  if (requested.empty()) {
    if (files.size() == 1) return files[0].string();
    return InvalidArgument(
        "'model' is required: " +
        (files.empty() ? "no models in '" + options_.models_dir + "' (put .gguf files there)"
                       : "available: " + names));
  }
  for (const auto& f : files) {
    if (f.stem().string() == requested || f.filename().string() == requested) return f.string();
  }
  return NotFound(
      "no model '" + requested + "' in '" + options_.models_dir + "' (" +
      (names.empty() ? std::string("the directory has no .gguf files") : "available: " + names) +
      ")");
}

std::shared_ptr<LoadedModel> ModelPool::UseLoadedLocked(const std::string& name) {
  for (auto& e : loaded_) {
    if (e.model->name == name) {
      e.last_used = std::chrono::steady_clock::now();
      return e.model;
    }
  }
  return nullptr;
}

Result<std::shared_ptr<LoadedModel>> ModelPool::Acquire(const std::string& requested) {
  // Every request comes here: a loaded model is found without scanning the directory.
  if (!requested.empty()) {
    std::string stem = requested;
    if (stem.size() > 5 && stem.compare(stem.size() - 5, 5, ".gguf") == 0)
      stem.resize(stem.size() - 5);
    std::lock_guard<std::mutex> lock(mu_);
    if (auto m = UseLoadedLocked(stem)) return m;
  }
  MLE_ASSIGN_OR_RETURN(std::string path, PathOf(requested));
  const std::string name = fs::path(path).stem().string();
  // Make room: unload the least recently used model nobody is using. A request that has just
  // sent its last byte may still hold its model for a moment (its handler is returning), so
  // wait a little for one to become idle before answering 503.
  const auto deadline = std::chrono::steady_clock::now() + options_.busy_wait;
  std::unique_lock<std::mutex> lock(mu_);
  for (;;) {
    if (auto m = UseLoadedLocked(name)) return m;  // loaded meanwhile by another request
    while (loaded_.size() >= options_.max_loaded) {
      auto victim = loaded_.end();
      for (auto it = loaded_.begin(); it != loaded_.end(); ++it) {
        if (it->model.use_count() == 1 && it->model->scheduler->stats().active == 0 &&
            it->model->scheduler->stats().queued == 0 &&
            (victim == loaded_.end() || it->last_used < victim->last_used)) {
          victim = it;
        }
      }
      if (victim == loaded_.end()) break;
      spdlog::info("unloading model {} to make room for {}", victim->model->name, name);
      loaded_.erase(victim);
    }
    if (loaded_.size() < options_.max_loaded) break;
    if (std::chrono::steady_clock::now() >= deadline) {
      return Unavailable("every loaded model is busy and at most " +
                         std::to_string(options_.max_loaded) +
                         " may be loaded (raise llm.max_loaded_models); retry shortly");
    }
    lock.unlock();
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
    lock.lock();
  }
  const auto t0 = std::chrono::steady_clock::now();
  auto lm = std::make_shared<LoadedModel>();
  lm->name = name;
  MLE_ASSIGN_OR_RETURN(lm->model, llm::Model::Load(path, llm::LoadOptions{}));
  if (auto src = lm->model->chat_template()) {
    auto t = text::ChatTemplate::Parse(*src);
    if (t.ok()) {
      lm->chat_template = std::move(*t);
    } else {
      spdlog::warn("model {}: its chat template does not parse ({}); chat requests will fail", name,
                   t.status().message());
    }
  }
  llm::SchedulerOptions so = options_.scheduler;
  const int32_t n_train = lm->model->hparams().n_ctx_train;
  if (n_train > 0 && (so.n_ctx == 0 || so.n_ctx > n_train)) so.n_ctx = n_train;
  MLE_ASSIGN_OR_RETURN(lm->scheduler, llm::Scheduler::Create(*lm->model, so));
  lm->loaded_at = std::chrono::steady_clock::now();
  spdlog::info("loaded model {} ({} slots x {} tokens) in {:.0f} ms", name,
               options_.scheduler.n_slots, lm->scheduler->n_ctx(),
               std::chrono::duration<double, std::milli>(lm->loaded_at - t0).count());
  loaded_.push_back({lm, lm->loaded_at});
  return lm;
}

Status ModelPool::Unload(const std::string& name) {
  std::shared_ptr<LoadedModel> gone;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = std::find_if(loaded_.begin(), loaded_.end(),
                           [&](const Entry& e) { return e.model->name == name; });
    if (it == loaded_.end()) return NotFound("model '" + name + "' is not loaded");
    gone = std::move(it->model);
    loaded_.erase(it);
  }
  return Status::Ok();  // freed when the last request holding it finishes
}

std::vector<std::shared_ptr<LoadedModel>> ModelPool::Loaded() {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<std::shared_ptr<LoadedModel>> out;
  for (const auto& e : loaded_) out.push_back(e.model);
  return out;
}

}  // namespace mle::server
