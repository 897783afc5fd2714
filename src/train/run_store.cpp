// SQLite run database (see run_store.h).
#include "train/run_store.h"

#include <sqlite3.h>

#include <chrono>
#include <ctime>
#include <filesystem>
#include <random>

#include "core/file_util.h"

namespace mle::train {
namespace {

constexpr const char* kSchema = R"sql(
CREATE TABLE IF NOT EXISTS runs (
  id TEXT PRIMARY KEY,
  kind TEXT NOT NULL,
  model TEXT NOT NULL,
  status TEXT NOT NULL,
  config TEXT NOT NULL,
  metrics TEXT NOT NULL,
  ckpt_dir TEXT NOT NULL,
  best_ckpt TEXT NOT NULL,
  last_ckpt TEXT NOT NULL,
  error TEXT NOT NULL,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS runs_model_created ON runs(model, created_at);
)sql";

// A prepared statement that finalizes itself.
class Stmt {
 public:
  Stmt(sqlite3* db, const char* sql) { rc_ = sqlite3_prepare_v2(db, sql, -1, &stmt_, nullptr); }
  ~Stmt() { sqlite3_finalize(stmt_); }
  bool ok() const { return rc_ == SQLITE_OK; }
  sqlite3_stmt* get() { return stmt_; }
  void Bind(int i, const std::string& s) {
    sqlite3_bind_text(stmt_, i, s.c_str(), static_cast<int>(s.size()), SQLITE_TRANSIENT);
  }
  std::string Text(int col) {
    const unsigned char* t = sqlite3_column_text(stmt_, col);
    return t ? reinterpret_cast<const char*>(t) : "";
  }

 private:
  sqlite3_stmt* stmt_ = nullptr;
  int rc_;
};

nlohmann::json ParseOr(const std::string& text) {
  auto j = nlohmann::json::parse(text, nullptr, false);
  return j.is_discarded() ? nlohmann::json::object() : j;
}

RunRecord ReadRow(Stmt& s) {
  RunRecord r;
  r.id = s.Text(0);
  r.kind = s.Text(1);
  r.model = s.Text(2);
  r.status = s.Text(3);
  r.config = ParseOr(s.Text(4));
  r.metrics = ParseOr(s.Text(5));
  r.ckpt_dir = s.Text(6);
  r.best_ckpt = s.Text(7);
  r.last_ckpt = s.Text(8);
  r.error = s.Text(9);
  r.created_at = s.Text(10);
  r.updated_at = s.Text(11);
  return r;
}

constexpr const char* kColumns =
    "id, kind, model, status, config, metrics, ckpt_dir, best_ckpt, last_ckpt, error, "
    "created_at, updated_at";

}  // namespace

Result<std::unique_ptr<RunStore>> RunStore::Open(const std::string& path) {
  std::filesystem::path p(path);
  if (p.has_parent_path()) MLE_RETURN_IF_ERROR(EnsureDir(p.parent_path().string()));
  sqlite3* db = nullptr;
  int rc =
      sqlite3_open_v2(path.c_str(), &db,
                      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX, nullptr);
  if (rc != SQLITE_OK) {
    std::string msg = db ? sqlite3_errmsg(db) : "out of memory";
    sqlite3_close(db);
    return IoError("cannot open run database '" + path + "': " + msg);
  }
  sqlite3_busy_timeout(db, 5000);
  std::unique_ptr<RunStore> store(new RunStore(db));
  MLE_RETURN_IF_ERROR(store->Exec("PRAGMA journal_mode=WAL;"));
  Status s = store->Exec(kSchema);
  if (!s.ok()) {
    return Corruption("run database '" + path + "' is not usable (" + s.message() +
                      "); move it aside and run again");
  }
  return store;
}

RunStore::~RunStore() {
  sqlite3_close(db_);
}

Status RunStore::Exec(const std::string& sql) {
  char* err = nullptr;
  if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &err) != SQLITE_OK) {
    std::string msg = err ? err : "unknown error";
    sqlite3_free(err);
    return IoError("run database: " + msg);
  }
  return Status::Ok();
}

Status RunStore::Put(const RunRecord& run) {
  std::lock_guard<std::mutex> lock(mu_);
  // created_at is kept from the existing row unless the record sets it.
  Stmt s(db_,
         "INSERT INTO runs VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12) "
         "ON CONFLICT(id) DO UPDATE SET kind=?2, model=?3, status=?4, config=?5, metrics=?6, "
         "ckpt_dir=?7, best_ckpt=?8, last_ckpt=?9, error=?10, "
         "created_at=CASE WHEN ?13 THEN ?11 ELSE created_at END, updated_at=?12");
  if (!s.ok()) return IoError(std::string("run database: ") + sqlite3_errmsg(db_));
  std::string now = NowIso8601();
  sqlite3_bind_int(s.get(), 13, run.created_at.empty() ? 0 : 1);
  const std::string fields[] = {run.id,
                                run.kind,
                                run.model,
                                run.status,
                                run.config.dump(),
                                run.metrics.dump(),
                                run.ckpt_dir,
                                run.best_ckpt,
                                run.last_ckpt,
                                run.error,
                                run.created_at.empty() ? now : run.created_at,
                                now};
  for (int i = 0; i < 12; ++i) s.Bind(i + 1, fields[i]);
  if (sqlite3_step(s.get()) != SQLITE_DONE) {
    return IoError(std::string("run database: cannot record run: ") + sqlite3_errmsg(db_));
  }
  return Status::Ok();
}

Result<std::optional<RunRecord>> RunStore::Get(const std::string& id) {
  std::lock_guard<std::mutex> lock(mu_);
  Stmt s(db_, (std::string("SELECT ") + kColumns + " FROM runs WHERE id = ?").c_str());
  if (!s.ok()) return IoError(std::string("run database: ") + sqlite3_errmsg(db_));
  s.Bind(1, id);
  int rc = sqlite3_step(s.get());
  if (rc == SQLITE_ROW) return std::optional<RunRecord>(ReadRow(s));
  if (rc == SQLITE_DONE) return std::optional<RunRecord>();
  return IoError(std::string("run database: ") + sqlite3_errmsg(db_));
}

Result<std::vector<RunRecord>> RunStore::List(const std::string& model, int limit) {
  std::lock_guard<std::mutex> lock(mu_);
  std::string sql = std::string("SELECT ") + kColumns + " FROM runs" +
                    (model.empty() ? "" : " WHERE model = ?") +
                    " ORDER BY created_at DESC, id DESC LIMIT " + std::to_string(limit);
  Stmt s(db_, sql.c_str());
  if (!s.ok()) return IoError(std::string("run database: ") + sqlite3_errmsg(db_));
  if (!model.empty()) s.Bind(1, model);
  std::vector<RunRecord> out;
  while (sqlite3_step(s.get()) == SQLITE_ROW) out.push_back(ReadRow(s));
  return out;
}

Result<int> RunStore::MarkInterruptedRunsFailed(const std::string& reason,
                                                const std::string& source) {
  std::lock_guard<std::mutex> lock(mu_);
  Stmt s(db_,
         "UPDATE runs SET status = 'failed', error = ?1, updated_at = ?2 "
         "WHERE status IN ('running', 'queued') AND "
         "(?3 = '' OR json_extract(config, '$.source') = ?3)");
  if (!s.ok()) return IoError(std::string("run database: ") + sqlite3_errmsg(db_));
  s.Bind(1, reason);
  s.Bind(2, NowIso8601());
  s.Bind(3, source);
  if (sqlite3_step(s.get()) != SQLITE_DONE) {
    return IoError(std::string("run database: ") + sqlite3_errmsg(db_));
  }
  return sqlite3_changes(db_);
}

std::string RunStore::NowIso8601() {
  auto now = std::chrono::system_clock::now();
  std::time_t t = std::chrono::system_clock::to_time_t(now);
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()) % 1000;
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[40];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  char out[48];
  std::snprintf(out, sizeof out, "%s.%03dZ", buf, static_cast<int>(ms.count()));
  return out;
}

std::string RunStore::NewRunId(const std::string& model) {
  std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y%m%d-%H%M%S", &tm);
  std::random_device rd;
  char hex[8];
  std::snprintf(hex, sizeof hex, "%04x", rd() & 0xffff);
  return model + "-" + buf + "-" + hex;
}

}  // namespace mle::train
