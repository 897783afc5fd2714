// Training jobs for the server. Jobs wait in a bounded FIFO queue served by one trainer
// thread (a training run uses every compute thread, so jobs run one at a time). Every job is a
// record in the run database (its id is the run id), so jobs survive restarts: on Open, jobs
// a previous server left queued or running are marked failed, never silently lost.
// Progress reaches watchers as server-sent events. Thread-safe.
#pragma once

#include <atomic>
#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/status.h"
#include "lm/lm.h"
#include "server/http_message.h"
#include "train/run_store.h"
#include "train/trainer.h"

namespace mle::server {

struct JobManagerOptions {
  std::string runs_dir = "runs";  // holds ml-engine.db
  size_t max_queued = 16;         // more waiting jobs -> ResourceExhausted (HTTP 429)
};

// Where the running job is (kept in memory; the database has the per-epoch metrics).
struct JobProgress {
  int64_t epoch = 0;  // 1-based, the epoch being trained
  int64_t epochs = 0;
  int64_t step = 0;  // within the epoch
  int64_t steps_per_epoch = 0;
  int64_t global_step = 0;
  double loss = 0;
};

// The JSON shape of a job in every answer (GET /ml/jobs/{id}, lists, events).
nlohmann::json JobJson(const train::RunRecord& run, const std::optional<JobProgress>& progress);
bool IsTerminal(const std::string& status);

class JobManager {
 public:
  static Result<std::unique_ptr<JobManager>> Open(JobManagerOptions options);
  ~JobManager();  // Shutdown()
  // Cancels the running job (it stops at its next step), marks queued ones cancelled, wakes
  // every waiter and joins the trainer thread. Idempotent.
  void Shutdown();
  // Called with the final status of every job that ends (for metrics).
  void SetOnFinished(std::function<void(const std::string& status)> fn);
  JobManager(const JobManager&) = delete;
  JobManager& operator=(const JobManager&) = delete;

  // Queues a run (options already validated and confined by the caller); returns the queued
  // record. ResourceExhausted when the queue is full.
  Result<train::RunRecord> Submit(train::TrainOptions options);
  // Queues an own-LLM pretraining run (model "gpt"); `config` is the request as recorded.
  // An empty run_dir becomes `default_run_root`/<job id>.
  Result<train::RunRecord> SubmitLm(lm::PretrainOptions options, nlohmann::json config,
                                    const std::string& default_run_root);
  Result<std::optional<train::RunRecord>> Get(const std::string& id);
  // Most recent first; `status` "" = all.
  Result<std::vector<train::RunRecord>> List(int limit, const std::string& status,
                                             const std::string& model);
  // A queued job is cancelled at once; the running one stops at its next step (its record
  // says "running" until then). NotFound; FailedPrecondition when it already finished.
  Result<train::RunRecord> Cancel(const std::string& id);
  // Blocks until the job has finished, or `abandon` is set (then Cancelled).
  Result<train::RunRecord> Wait(const std::string& id, const std::atomic<bool>* abandon);
  std::optional<JobProgress> Progress(const std::string& id);
  // Sends the job's state now and its events as they happen (SSE: "status", "progress",
  // "epoch"; "eval" for gpt jobs), then closes the stream when the job finishes. NotFound for an
  // unknown job.
  Status Watch(const std::string& id, std::shared_ptr<ChunkStream> stream);

  int64_t queued() const;
  int64_t running() const;

 private:
  struct Job {
    std::string id;
    train::TrainOptions options;
    std::optional<lm::PretrainOptions> lm;  // set for "gpt" jobs
    std::atomic<bool> cancel{false};
  };
  explicit JobManager(JobManagerOptions options, std::unique_ptr<train::RunStore> store);
  void TrainerLoop();
  void RunJob(Job& job);
  Status RunLmJob(Job& job);
  void FinishJob(Job& job, const Status& result);
  Result<train::RunRecord> Enqueue(std::shared_ptr<Job> job, train::RunRecord rec);
  // REQUIRES: mu_ held. Writes an event to the job's watchers, dropping those that left.
  void PublishLocked(const std::string& id, const std::string& event, const nlohmann::json& data);
  void FinishLocked(const std::string& id, const train::RunRecord& final_record);

  JobManagerOptions options_;
  std::unique_ptr<train::RunStore> store_;
  mutable std::mutex mu_;
  std::condition_variable queue_cv_;  // a job was queued, or stop
  std::condition_variable done_cv_;   // a job finished
  std::deque<std::shared_ptr<Job>> queue_;
  std::shared_ptr<Job> current_;
  std::optional<JobProgress> progress_;
  std::map<std::string, std::vector<std::shared_ptr<ChunkStream>>> watchers_;
  bool stopping_ = false;
  std::function<void(const std::string&)> on_finished_;
  std::thread trainer_;
};

}  // namespace mle::server
