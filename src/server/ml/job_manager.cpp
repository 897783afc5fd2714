#include "server/ml/job_manager.h"

#include <spdlog/spdlog.h>

#include <chrono>

#include "core/file_util.h"

namespace mle::server {
namespace {

using nlohmann::json;
using train::RunRecord;

constexpr const char* kSource = "server";

int64_t EpochsDone(const RunRecord& run) {
  if (!run.metrics.is_object() || !run.metrics.contains("epochs")) return 0;
  const auto& e = run.metrics["epochs"];
  return e.is_array() ? static_cast<int64_t>(e.size()) : 0;
}

}  // namespace

bool IsTerminal(const std::string& status) {
  return status == "completed" || status == "failed" || status == "cancelled";
}

// A gpt run's progress: one "epoch" of `steps` optimizer steps.
json LmProgress(const RunRecord& run, const std::optional<JobProgress>& progress) {
  int64_t steps = run.config.value("steps", int64_t{0});
  if (run.config.contains("train") && run.config["train"].is_object()) {
    steps = run.config["train"].value("steps", steps);
  }
  int64_t step = run.metrics.is_object() ? run.metrics.value("step", int64_t{0}) : 0;
  json p = {{"epochs", 1}, {"epochs_done", run.status == "completed" ? 1 : 0}, {"steps", steps}};
  if (progress) {
    step = progress->step;
    p["epoch"] = 1;
    p["step"] = progress->step;
    p["steps_per_epoch"] = steps;
    p["loss"] = progress->loss;
  }
  double fraction = steps > 0 ? static_cast<double>(step) / static_cast<double>(steps) : 0.0;
  if (run.status == "completed") fraction = 1.0;
  p["fraction"] = std::min(1.0, std::max(0.0, fraction));
  return p;
}

// An image-classifier run's progress: epochs, and the step within the running one.
json EpochProgress(const RunRecord& run, const std::optional<JobProgress>& progress) {
  const int64_t epochs = run.config.value("epochs", int64_t{0});
  json p = {{"epochs", epochs}, {"epochs_done", EpochsDone(run)}};
  double fraction = epochs > 0 ? static_cast<double>(EpochsDone(run)) / epochs : 0.0;
  if (progress) {
    p["epoch"] = progress->epoch;
    p["step"] = progress->step;
    p["steps_per_epoch"] = progress->steps_per_epoch;
    p["loss"] = progress->loss;
    if (epochs > 0 && progress->steps_per_epoch > 0) {
      fraction =
          (progress->epoch - 1 + static_cast<double>(progress->step) / progress->steps_per_epoch) /
          epochs;
    }
  }
  if (run.status == "completed") fraction = 1.0;
  p["fraction"] = std::min(1.0, std::max(0.0, fraction));
  return p;
}

json JobJson(const RunRecord& run, const std::optional<JobProgress>& progress) {
  const bool lm = run.kind == "lm";
  json metrics = run.metrics.is_object() ? run.metrics : json::object();
  if (!lm && !metrics.contains("epochs")) metrics["epochs"] = json::array();
  json j = {
      {"id", run.id},
      {"model", run.model},
      {"status", run.status},
      {"progress", lm ? LmProgress(run, progress) : EpochProgress(run, progress)},
      {"metrics", metrics},
      {"checkpoint", {{"dir", run.ckpt_dir}, {"best", run.best_ckpt}, {"last", run.last_ckpt}}},
      {"created_at", run.created_at},
      {"updated_at", run.updated_at},
      {"source", run.config.value("source", "cli")}};
  if (!run.error.empty()) j["error"] = run.error;
  return j;
}

JobManager::JobManager(JobManagerOptions options, std::unique_ptr<train::RunStore> store)
    : options_(std::move(options)), store_(std::move(store)) {
  trainer_ = std::thread([this] { TrainerLoop(); });
}

Result<std::unique_ptr<JobManager>> JobManager::Open(JobManagerOptions options) {
  MLE_RETURN_IF_ERROR(EnsureDir(options.runs_dir));
  MLE_ASSIGN_OR_RETURN(auto store, train::RunStore::Open(options.runs_dir + "/ml-engine.db"));
  MLE_ASSIGN_OR_RETURN(
      int lost, store->MarkInterruptedRunsFailed(
                    "the server stopped while this job was queued or running; submit it again "
                    "(\"resume\": true continues from its last checkpoint)",
                    kSource));
  if (lost > 0) spdlog::warn("{} job(s) of a previous server run were marked failed", lost);
  return std::unique_ptr<JobManager>(new JobManager(std::move(options), std::move(store)));
}

JobManager::~JobManager() {
  Shutdown();
}

void JobManager::SetOnFinished(std::function<void(const std::string& status)> fn) {
  std::lock_guard<std::mutex> lock(mu_);
  on_finished_ = std::move(fn);
}

void JobManager::Shutdown() {
  std::deque<std::shared_ptr<Job>> dropped;
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
    if (current_) current_->cancel.store(true);
    dropped.swap(queue_);
  }
  queue_cv_.notify_all();
  done_cv_.notify_all();
  for (auto& job : dropped) {
    auto rec = store_->Get(job->id);
    if (!rec.ok() || !*rec) continue;
    (*rec)->status = "cancelled";
    (*rec)->error = "the server stopped before the job started";
    (void)store_->Put(**rec);
    std::lock_guard<std::mutex> lock(mu_);
    FinishLocked(job->id, **rec);
  }
  if (trainer_.joinable()) trainer_.join();
}

Result<RunRecord> JobManager::Submit(train::TrainOptions options) {
  auto job = std::make_shared<Job>();
  job->id = train::RunStore::NewRunId(options.model);
  options.run_id = job->id;
  options.resolved_config["source"] = kSource;
  job->options = std::move(options);
  RunRecord rec;
  rec.id = job->id;
  rec.model = job->options.model;
  rec.status = "queued";
  rec.config = job->options.resolved_config;
  rec.ckpt_dir = job->options.ckpt_dir;
  return Enqueue(std::move(job), std::move(rec));
}

Result<RunRecord> JobManager::SubmitLm(lm::PretrainOptions options, json config,
                                       const std::string& default_run_root) {
  auto job = std::make_shared<Job>();
  job->id = train::RunStore::NewRunId("gpt");
  if (options.run_dir.empty()) options.run_dir = default_run_root + "/" + job->id;
  options.run_id = job->id;
  options.source = kSource;
  options.runs_dir = options_.runs_dir;
  config["source"] = kSource;
  config["run_dir"] = options.run_dir;
  job->options.model = "gpt";
  job->options.epochs = 1;
  job->options.ckpt_dir = options.run_dir;
  job->options.resolved_config = config;
  job->lm = std::move(options);
  RunRecord rec;
  rec.id = job->id;
  rec.kind = "lm";
  rec.model = "gpt";
  rec.status = "queued";
  rec.config = config;
  rec.ckpt_dir = job->lm->run_dir;
  return Enqueue(std::move(job), std::move(rec));
}

Result<RunRecord> JobManager::Enqueue(std::shared_ptr<Job> job, RunRecord rec) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_) return Unavailable("the server is shutting down; submit the job again later");
    if (queue_.size() >= options_.max_queued) {
      return ResourceExhausted(std::to_string(queue_.size()) +
                               " jobs are already waiting; retry when one has finished");
    }
    MLE_RETURN_IF_ERROR(store_->Put(rec));
    queue_.push_back(job);
  }
  queue_cv_.notify_one();
  MLE_ASSIGN_OR_RETURN(auto stored, store_->Get(rec.id));
  return stored ? *stored : rec;
}

Result<std::optional<RunRecord>> JobManager::Get(const std::string& id) {
  return store_->Get(id);
}

Result<std::vector<RunRecord>> JobManager::List(int limit, const std::string& status,
                                                const std::string& model) {
  // The store filters by model; the status filter is applied here over a wider window.
  MLE_ASSIGN_OR_RETURN(auto runs, store_->List(model, status.empty() ? limit : 10000));
  if (status.empty()) return runs;
  std::vector<RunRecord> out;
  for (auto& r : runs) {
    if (r.status == status) out.push_back(std::move(r));
    if (static_cast<int>(out.size()) == limit) break;
  }
  return out;
}

std::optional<JobProgress> JobManager::Progress(const std::string& id) {
  std::lock_guard<std::mutex> lock(mu_);
  if (current_ && current_->id == id) return progress_;
  return std::nullopt;
}

int64_t JobManager::queued() const {
  std::lock_guard<std::mutex> lock(mu_);
  return static_cast<int64_t>(queue_.size());
}

int64_t JobManager::running() const {
  std::lock_guard<std::mutex> lock(mu_);
  return current_ ? 1 : 0;
}

Result<RunRecord> JobManager::Cancel(const std::string& id) {
  MLE_ASSIGN_OR_RETURN(auto rec, store_->Get(id));
  if (!rec) return NotFound("no job '" + id + "' (GET /ml/jobs lists them)");
  std::lock_guard<std::mutex> lock(mu_);
  for (auto it = queue_.begin(); it != queue_.end(); ++it) {
    if ((*it)->id != id) continue;
    queue_.erase(it);
    rec->status = "cancelled";
    rec->error = "cancelled before it started";
    MLE_RETURN_IF_ERROR(store_->Put(*rec));
    MLE_ASSIGN_OR_RETURN(auto stored, store_->Get(id));
    FinishLocked(id, stored ? *stored : *rec);
    done_cv_.notify_all();
    return stored ? *stored : *rec;
  }
  // The trainer writes a job's final record a moment before it lets go of the job: a finished
  // record wins over current_.
  if (current_ && current_->id == id && !IsTerminal(rec->status)) {
    current_->cancel.store(true);
    return *rec;
  }
  return FailedPrecondition("job '" + id + "' is " + rec->status + "; only queued or running " +
                            "jobs can be cancelled");
}

Result<RunRecord> JobManager::Wait(const std::string& id, const std::atomic<bool>* abandon) {
  for (;;) {
    MLE_ASSIGN_OR_RETURN(auto rec, store_->Get(id));
    if (!rec) return NotFound("no job '" + id + "'");
    if (IsTerminal(rec->status)) return *rec;
    std::unique_lock<std::mutex> lock(mu_);
    if (stopping_) return Unavailable("the server is shutting down");
    if (abandon && abandon->load()) return Cancelled("the client went away");
    done_cv_.wait_for(lock, std::chrono::milliseconds(200));
  }
}

Status JobManager::Watch(const std::string& id, std::shared_ptr<ChunkStream> stream) {
  MLE_ASSIGN_OR_RETURN(auto rec, store_->Get(id));
  if (!rec) return NotFound("no job '" + id + "' (GET /ml/jobs lists them)");
  std::lock_guard<std::mutex> lock(mu_);
  // Re-read under the lock: the job may have finished in between.
  MLE_ASSIGN_OR_RETURN(rec, store_->Get(id));
  const bool live = current_ && current_->id == id;
  stream->Write(SseEvent(JobJson(*rec, live ? progress_ : std::nullopt).dump(), "status"));
  if (IsTerminal(rec->status)) {
    stream->Close();
    return Status::Ok();
  }
  watchers_[id].push_back(std::move(stream));
  return Status::Ok();
}

void JobManager::PublishLocked(const std::string& id, const std::string& event, const json& data) {
  auto it = watchers_.find(id);
  if (it == watchers_.end()) return;
  const std::string text = SseEvent(data.dump(), event);
  auto& list = it->second;
  std::erase_if(list, [&](const std::shared_ptr<ChunkStream>& s) { return !s->Write(text); });
  if (list.empty()) watchers_.erase(it);
}

void JobManager::FinishLocked(const std::string& id, const RunRecord& final_record) {
  if (on_finished_) on_finished_(final_record.status);
  PublishLocked(id, "status", JobJson(final_record, std::nullopt));
  auto it = watchers_.find(id);
  if (it == watchers_.end()) return;
  for (auto& s : it->second) s->Close();
  watchers_.erase(it);
}

void JobManager::TrainerLoop() {
  for (;;) {
    std::shared_ptr<Job> job;
    {
      std::unique_lock<std::mutex> lock(mu_);
      queue_cv_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (stopping_) return;
      job = queue_.front();
      queue_.pop_front();
      current_ = job;
      progress_ = JobProgress{};
      progress_->epochs = job->options.epochs;
      if (job->lm) progress_->steps_per_epoch = job->lm->steps;
    }
    RunJob(*job);
    {
      std::lock_guard<std::mutex> lock(mu_);
      current_.reset();
      progress_.reset();
    }
    done_cv_.notify_all();
  }
}

// A gpt job: lm::Pretrain with progress ("progress" per logged step, "eval" per evaluation).
Status JobManager::RunLmJob(Job& job) {
  spdlog::info("job {} started: gpt for {} steps", job.id, job.lm->steps);
  lm::PretrainCallbacks cb;
  cb.cancel = &job.cancel;
  cb.on_start = [&](const std::string&, int64_t, int64_t start, const std::string&) {
    auto rec = store_->Get(job.id);
    std::lock_guard<std::mutex> lock(mu_);
    progress_->epoch = 1;
    progress_->step = start;
    if (rec.ok() && *rec) PublishLocked(job.id, "status", JobJson(**rec, progress_));
  };
  cb.on_step = [&](const lm::PretrainStep& ev) {
    std::lock_guard<std::mutex> lock(mu_);
    progress_->epoch = 1;
    progress_->step = ev.step;
    progress_->global_step = ev.step;
    progress_->loss = ev.loss;
    PublishLocked(job.id, "progress",
                  {{"id", job.id},
                   {"step", ev.step},
                   {"steps", ev.steps},
                   {"loss", ev.loss},
                   {"lr", ev.lr},
                   {"tokens_per_s", ev.tokens_per_s}});
  };
  cb.on_eval = [&](const lm::PretrainEval& ev) {
    std::lock_guard<std::mutex> lock(mu_);
    PublishLocked(job.id, "eval",
                  {{"id", job.id},
                   {"step", ev.step},
                   {"val_loss", ev.val_loss},
                   {"val_ppl", ev.val_ppl},
                   {"sample", ev.sample}});
  };
  auto result = lm::Pretrain(*job.lm, cb);
  return result.ok() ? Status::Ok() : result.status();
}

void JobManager::RunJob(Job& job) {
  if (job.lm) {
    const Status s = RunLmJob(job);
    FinishJob(job, s);
    return;
  }
  spdlog::info("job {} started: {} for {} epoch(s)", job.id, job.options.model, job.options.epochs);
  auto last_event = std::chrono::steady_clock::now() - std::chrono::seconds(1);
  train::TrainCallbacks cb;
  cb.cancel = &job.cancel;
  cb.on_start = [&](const std::string&, const std::string&, int64_t, int64_t, int64_t start) {
    auto rec = store_->Get(job.id);
    std::lock_guard<std::mutex> lock(mu_);
    progress_->epoch = start;
    if (rec.ok() && *rec) PublishLocked(job.id, "status", JobJson(**rec, progress_));
  };
  cb.on_step = [&](const train::StepEvent& ev) {
    std::lock_guard<std::mutex> lock(mu_);
    progress_->epoch = ev.epoch;
    progress_->step = ev.step;
    progress_->steps_per_epoch = ev.steps_per_epoch;
    progress_->global_step = ev.global_step;
    progress_->loss = ev.loss;
    // At most ten progress events a second, and always the last step of an epoch.
    const auto now = std::chrono::steady_clock::now();
    if (now - last_event < std::chrono::milliseconds(100) && ev.step != ev.steps_per_epoch) {
      return;
    }
    last_event = now;
    PublishLocked(job.id, "progress",
                  {{"id", job.id},
                   {"epoch", ev.epoch},
                   {"epochs", job.options.epochs},
                   {"step", ev.step},
                   {"steps_per_epoch", ev.steps_per_epoch},
                   {"loss", ev.loss}});
  };
  cb.on_epoch = [&](const train::EpochMetrics& m) {
    std::lock_guard<std::mutex> lock(mu_);
    PublishLocked(job.id, "epoch",
                  {{"id", job.id},
                   {"epoch", m.epoch},
                   {"train_loss", m.train_loss},
                   {"val_loss", m.val_loss},
                   {"val_acc", m.val_acc},
                   {"lr", m.lr},
                   {"seconds", m.seconds}});
  };
  auto result = train::Train(job.options, cb);
  FinishJob(job, result.ok() ? Status::Ok() : result.status());
}

// The trainer records its outcome; a run that failed before it started (bad data, say) has
// no such record yet, so the outcome is written here.
void JobManager::FinishJob(Job& job, const Status& result) {
  auto rec = store_->Get(job.id);
  RunRecord final_record;
  if (rec.ok() && *rec) final_record = **rec;
  if (!IsTerminal(final_record.status)) {
    final_record.id = job.id;
    final_record.model = job.options.model;
    final_record.config = job.options.resolved_config;
    final_record.ckpt_dir = job.options.ckpt_dir;
    if (job.lm) final_record.kind = "lm";
    final_record.status = result.ok()
                              ? "completed"
                              : (result.code() == StatusCode::kCancelled ? "cancelled" : "failed");
    final_record.error = result.ok() ? "" : result.message();
    if (Status s = store_->Put(final_record); !s.ok()) {
      spdlog::error("job {}: cannot record its outcome: {}", job.id, s.message());
    }
    if (auto again = store_->Get(job.id); again.ok() && *again) final_record = **again;
  }
  spdlog::info("job {} {}{}{}", job.id, final_record.status, final_record.error.empty() ? "" : ": ",
               final_record.error);
  std::lock_guard<std::mutex> lock(mu_);
  FinishLocked(job.id, final_record);
}

}  // namespace mle::server
