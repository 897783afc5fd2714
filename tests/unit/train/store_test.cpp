// The checkpoint container (checksums, truncation) and the SQLite run database.
#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "common/subprocess.h"
#include "core/file_util.h"
#include "train/checkpoint_file.h"
#include "train/models.h"
#include "train/run_store.h"

namespace mle::train {
namespace {

TEST(CheckpointFileTest, RoundTrip) {
  std::string dir = testing::MakeTempDir("mle-ckpt");
  nlohmann::json meta = {{"model", "cnn_mnist"}, {"epoch", 3}};
  ASSERT_TRUE(WriteCheckpointFile(dir + "/a.ckpt", meta, std::string("\0payload\xff", 9)).ok());
  auto c = ReadCheckpointFile(dir + "/a.ckpt");
  ASSERT_TRUE(c.ok()) << c.status().message();
  EXPECT_EQ(c->meta, meta);
  EXPECT_EQ(c->payload, std::string("\0payload\xff", 9));
}

TEST(CheckpointFileTest, DetectsEveryCorruption) {
  std::string dir = testing::MakeTempDir("mle-ckpt-bad");
  ASSERT_TRUE(WriteCheckpointFile(dir + "/a.ckpt", {{"model", "m"}}, std::string(1000, 'p')).ok());
  std::string good = *ReadFile(dir + "/a.ckpt");
  // Truncation at every length must fail cleanly.
  for (size_t n = 0; n < good.size(); n += 37) {
    ASSERT_TRUE(WriteFileAtomic(dir + "/t.ckpt", good.substr(0, n)).ok());
    auto c = ReadCheckpointFile(dir + "/t.ckpt");
    ASSERT_FALSE(c.ok()) << "truncated to " << n;
    EXPECT_EQ(c.status().code(), StatusCode::kCorruption);
  }
  // A flipped bit anywhere after the magic is caught.
  for (size_t pos = 8; pos < good.size(); pos += 53) {
    std::string bad = good;
    bad[pos] ^= 0x10;
    ASSERT_TRUE(WriteFileAtomic(dir + "/f.ckpt", bad).ok());
    EXPECT_FALSE(ReadCheckpointFile(dir + "/f.ckpt").ok()) << "flip at " << pos;
  }
  auto missing = ReadCheckpointFile(dir + "/none.ckpt");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
  ASSERT_TRUE(WriteFileAtomic(dir + "/other.ckpt", "PK\x03\x04 a zip file, not ours").ok());
  auto other = ReadCheckpointFile(dir + "/other.ckpt");
  ASSERT_FALSE(other.ok());
  EXPECT_NE(other.status().message().find("not an ml-engine checkpoint"), std::string::npos);
}

TEST(RunStoreTest, PutGetListAndRecovery) {
  std::string dir = testing::MakeTempDir("mle-db");
  auto store = RunStore::Open(dir + "/sub/ml-engine.db");
  ASSERT_TRUE(store.ok()) << store.status().message();
  RunRecord r;
  r.id = RunStore::NewRunId("cnn_mnist");
  r.model = "cnn_mnist";
  r.status = "running";
  r.config = {{"train", {{"epochs", 2}}}};
  ASSERT_TRUE((*store)->Put(r).ok());
  RunRecord r2 = r;
  r2.id = r.id + "-b";
  r2.model = "mlp_mnist";
  r2.status = "completed";
  ASSERT_TRUE((*store)->Put(r2).ok());
  auto got = (*store)->Get(r.id);
  ASSERT_TRUE(got.ok() && got->has_value());
  EXPECT_EQ((*got)->config["train"]["epochs"], 2);
  EXPECT_FALSE((*got)->created_at.empty());
  EXPECT_EQ((*store)->List("mlp_mnist")->size(), 1u);
  EXPECT_EQ((*store)->List()->size(), 2u);
  EXPECT_EQ(*(*store)->MarkInterruptedRunsFailed("process ended"), 1);
  EXPECT_EQ((*(*store)->Get(r.id))->status, "failed");
  store->reset();
  // Reopening sees the same data (it is on disk).
  auto again = RunStore::Open(dir + "/sub/ml-engine.db");
  ASSERT_TRUE(again.ok());
  EXPECT_EQ((*(*again)->Get(r2.id))->status, "completed");
}

TEST(RunStoreTest, UpdatesKeepCreatedAtAndSourceFilterLimitsRecovery) {
  std::string dir = ::testing::TempDir() + "/mle-store-created";
  std::filesystem::remove_all(dir);
  auto store = RunStore::Open(dir + "/ml-engine.db");
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  RunRecord job;
  job.id = "job-1";
  job.model = "cnn_mnist";
  job.status = "queued";
  job.config = {{"source", "server"}};
  ASSERT_TRUE((*store)->Put(job).ok());
  const std::string created = (*(*store)->Get("job-1"))->created_at;
  std::this_thread::sleep_for(std::chrono::milliseconds(5));
  job.status = "running";  // created_at left empty: the stored one stays
  ASSERT_TRUE((*store)->Put(job).ok());
  auto got = *(*store)->Get("job-1");
  EXPECT_EQ(got->created_at, created);
  EXPECT_NE(got->updated_at, created);
  RunRecord cli = job;
  cli.id = "cli-1";
  cli.config = {{"train", {{"epochs", 1}}}};
  ASSERT_TRUE((*store)->Put(cli).ok());
  // Only the server's job is recovered; a CLI run sharing the database is left alone.
  EXPECT_EQ(*(*store)->MarkInterruptedRunsFailed("server restarted", "server"), 1);
  EXPECT_EQ((*(*store)->Get("job-1"))->status, "failed");
  EXPECT_EQ((*(*store)->Get("cli-1"))->status, "running");
  std::filesystem::remove_all(dir);
}

TEST(RunStoreTest, NotADatabase) {
  std::string dir = testing::MakeTempDir("mle-db-bad");
  ASSERT_TRUE(WriteFileAtomic(dir + "/ml-engine.db", std::string(4096, 'x')).ok());
  auto store = RunStore::Open(dir + "/ml-engine.db");
  ASSERT_FALSE(store.ok());
}

TEST(RegistryTest, ListsBuiltinModels) {
  auto models = ListModels();
  ASSERT_GE(models.size(), 2u);
  EXPECT_EQ(models[0].name, "cnn_mnist");
  EXPECT_EQ(models[0].n_params, 1199882);  // 320 + 18496 + 1179776 + 1290
  EXPECT_EQ(models[1].name, "mlp_mnist");
  EXPECT_TRUE(CheckModelName("cnn_mnist").ok());
  Status s = CheckModelName("resnet");
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("cnn_mnist"), std::string::npos) << "names the known models";
}

}  // namespace
}  // namespace mle::train
