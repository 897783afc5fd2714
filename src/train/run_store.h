// The run database: an embedded SQLite file (runs/ml-engine.db) that records every training
// run (config, per-epoch metrics, checkpoint paths, state), so history and jobs survive
// restarts. Thread-safe: one connection guarded by a mutex; WAL mode for concurrent readers.
#pragma once

#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/status.h"

struct sqlite3;

namespace mle::train {

struct RunRecord {
  std::string id;
  std::string kind = "train";  // train | lm
  std::string model;
  std::string status;  // queued | running | completed | failed | cancelled
  nlohmann::json config;
  nlohmann::json metrics;  // {"epochs": [...], "best_val_acc": ...}
  std::string ckpt_dir;
  std::string best_ckpt;
  std::string last_ckpt;
  std::string error;
  std::string created_at;  // ISO 8601 UTC
  std::string updated_at;
};

class RunStore {
 public:
  // Opens (creating if needed) the database at `path`; its directory must exist or be
  // creatable.
  static Result<std::unique_ptr<RunStore>> Open(const std::string& path);
  ~RunStore();
  RunStore(const RunStore&) = delete;
  RunStore& operator=(const RunStore&) = delete;

  // Inserts or replaces the whole record (updated_at is set now; an empty created_at keeps
  // the stored one, or is set now for a new record).
  Status Put(const RunRecord& run);
  Result<std::optional<RunRecord>> Get(const std::string& id);
  // Most recent first; `model` "" = all.
  Result<std::vector<RunRecord>> List(const std::string& model = "", int limit = 100);
  // Marks every run still "queued" or "running" as failed (after a crash), returns how many.
  // With `source` set, only runs whose config has that "source" (e.g. "server" jobs).
  Result<int> MarkInterruptedRunsFailed(const std::string& reason, const std::string& source = "");

  static std::string NowIso8601();
  // "<model>-YYYYMMDD-HHMMSS-xxxx" (xxxx random hex).
  static std::string NewRunId(const std::string& model);

 private:
  explicit RunStore(sqlite3* db) : db_(db) {}
  Status Exec(const std::string& sql);

  std::mutex mu_;
  sqlite3* db_;
};

}  // namespace mle::train
