// End-to-end tests of `ml-engine train/predict/eval` on a Fashion-MNIST subset: loss falls,
// runs are deterministic, a SIGKILLed run resumes bit for bit, and every bad input gives
// one `error:` line, exit code 2, and leaves no checkpoint or run record behind.
#include <gtest/gtest.h>
#include <signal.h>
#include <sqlite3.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

#include <nlohmann/json.hpp>

#include "common/subprocess.h"
#include "core/file_util.h"

namespace mle {
namespace {

namespace fs = std::filesystem;
using testing::EngineBinary;
using testing::MakeTempDir;
using testing::RunProcess;

const std::string kFashion = "/usr/share/datasets/fashion-mnist";

testing::ProcessResult Engine(const std::vector<std::string>& args, const std::string& cwd) {
  std::vector<std::string> argv = {EngineBinary()};
  argv.insert(argv.end(), args.begin(), args.end());
  return RunProcess(argv, {}, cwd);
}

// (global_step, loss) of every step line, and every epoch line, of a metrics log.
struct Metrics {
  std::vector<std::pair<int64_t, float>> steps;
  std::vector<nlohmann::json> epochs;
};

Metrics ReadMetrics(const std::string& path) {
  Metrics m;
  std::ifstream in(path);
  for (std::string line; std::getline(in, line);) {
    auto j = nlohmann::json::parse(line);
    if (j["type"] == "step") m.steps.emplace_back(j["global_step"], j["loss"].get<float>());
    if (j["type"] == "epoch") {
      j.erase("seconds");
      m.epochs.push_back(j);
    }
  }
  return m;
}

std::vector<std::string> SubsetArgs(int64_t n_train) {
  return {"--limit-train", std::to_string(n_train), "--limit-val", "300", "--threads", "2"};
}

std::vector<std::string> Cat(std::vector<std::string> a, const std::vector<std::string>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

int CountRuns(const std::string& db_path, const std::string& status) {
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(db_path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) return -1;
  sqlite3_stmt* st = nullptr;
  sqlite3_prepare_v2(db, "SELECT count(*) FROM runs WHERE status = ?", -1, &st, nullptr);
  sqlite3_bind_text(st, 1, status.c_str(), -1, SQLITE_TRANSIENT);
  int n = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int(st, 0) : -1;
  sqlite3_finalize(st);
  sqlite3_close(db);
  return n;
}

// One trained checkpoint shared by the predict/eval tests.
class TrainedModel : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = MakeTempDir("mle-e2e");
    result_ = Engine(
        Cat({"train", "cnn_mnist", "--epochs", "2", "--batch-size", "64"}, SubsetArgs(1536)), dir_);
  }
  static std::string dir_;
  static testing::ProcessResult result_;
};
std::string TrainedModel::dir_;
testing::ProcessResult TrainedModel::result_;

TEST_F(TrainedModel, TrainsLossFallsAndRecordsRun) {
  ASSERT_EQ(result_.exit_code, 0) << result_.err;
  EXPECT_NE(result_.out.find("[epoch 1] loss="), std::string::npos) << result_.out;
  EXPECT_NE(result_.out.find("[epoch 2] loss="), std::string::npos) << result_.out;
  Metrics m = ReadMetrics(dir_ + "/checkpoints/cnn_mnist/metrics.jsonl");
  ASSERT_EQ(m.epochs.size(), 2u);
  EXPECT_LT(m.epochs[1]["train_loss"].get<double>(), m.epochs[0]["train_loss"].get<double>());
  EXPECT_LT(m.epochs[0]["train_loss"].get<double>(), 2.2) << "below chance level (ln 10 = 2.30)";
  EXPECT_GT(m.epochs[1]["val_acc"].get<double>(), 0.6);
  EXPECT_TRUE(FileExists(dir_ + "/checkpoints/cnn_mnist/best.ckpt"));
  EXPECT_TRUE(FileExists(dir_ + "/checkpoints/cnn_mnist/last.ckpt"));
  EXPECT_EQ(CountRuns(dir_ + "/runs/ml-engine.db", "completed"), 1);
}

TEST_F(TrainedModel, PredictsImagesInEveryFormat) {
  ASSERT_EQ(result_.exit_code, 0);
  std::string ckpt = dir_ + "/checkpoints/cnn_mnist/best.ckpt";
  auto idx = Engine({"predict", "cnn_mnist", "--ckpt", ckpt, "--input",
                     kFashion + "/t10k-images-idx3-ubyte.gz", "--json"},
                    dir_);
  ASSERT_EQ(idx.exit_code, 0) << idx.err;
  auto j = nlohmann::json::parse(idx.out);
  ASSERT_EQ(j["predictions"].size(), 10000u);
  double sum = 0;
  for (double p : j["predictions"][0]["probabilities"]) sum += p;
  EXPECT_NEAR(sum, 1.0, 1e-4);
  std::string pgm = "P5 28 28 255\n" + std::string(784, '\0');
  ASSERT_TRUE(WriteFileAtomic(dir_ + "/blank.pgm", pgm).ok());
  auto one = Engine({"predict", "cnn_mnist", "--ckpt", ckpt, "--input", dir_ + "/blank.pgm"}, dir_);
  ASSERT_EQ(one.exit_code, 0) << one.err;
  EXPECT_NE(one.out.find("image 0: class "), std::string::npos) << one.out;
}

TEST_F(TrainedModel, EvaluatesWithConfusionMatrix) {
  ASSERT_EQ(result_.exit_code, 0);
  auto ev = Engine({"eval", "cnn_mnist", "--ckpt", dir_ + "/checkpoints/cnn_mnist/best.ckpt",
                    "--limit", "1000", "--json"},
                   dir_);
  ASSERT_EQ(ev.exit_code, 0) << ev.err;
  auto j = nlohmann::json::parse(ev.out);
  EXPECT_EQ(j["n"], 1000);
  EXPECT_GT(j["accuracy"].get<double>(), 0.6);
  int64_t total = 0;
  for (const auto& row : j["confusion"]) {
    for (int64_t v : row) total += v;
  }
  EXPECT_EQ(total, 1000);
}

TEST_F(TrainedModel, CheckpointOfAnotherModelIsRefused) {
  ASSERT_EQ(result_.exit_code, 0);
  auto r = Engine({"predict", "mlp_mnist", "--ckpt", dir_ + "/checkpoints/cnn_mnist/best.ckpt",
                   "--input", kFashion + "/t10k-images-idx3-ubyte.gz"},
                  dir_);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("is of model 'cnn_mnist', not 'mlp_mnist'"), std::string::npos) << r.err;
}

TEST_F(TrainedModel, CorruptOrTruncatedCheckpointIsRefused) {
  ASSERT_EQ(result_.exit_code, 0);
  auto good = ReadFile(dir_ + "/checkpoints/cnn_mnist/best.ckpt");
  ASSERT_TRUE(good.ok());
  std::string flipped = *good;
  flipped[flipped.size() / 2] ^= 1;
  ASSERT_TRUE(WriteFileAtomic(dir_ + "/flipped.ckpt", flipped).ok());
  ASSERT_TRUE(WriteFileAtomic(dir_ + "/cut.ckpt", good->substr(0, good->size() / 3)).ok());
  for (const char* name : {"/flipped.ckpt", "/cut.ckpt"}) {
    auto r = Engine({"predict", "cnn_mnist", "--ckpt", dir_ + name, "--input",
                     kFashion + "/t10k-images-idx3-ubyte.gz"},
                    dir_);
    EXPECT_EQ(r.exit_code, 2) << name;
    EXPECT_NE(r.err.find("corrupt or truncated"), std::string::npos) << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  }
}

TEST(TrainE2E, SameSeedGivesBitIdenticalLosses) {
  std::vector<std::string> args = Cat(
      {"train", "cnn_mnist", "--epochs", "1", "--log-every", "1", "--seed", "7"}, SubsetArgs(640));
  std::string a = MakeTempDir("mle-det-a"), b = MakeTempDir("mle-det-b");
  ASSERT_EQ(Engine(args, a).exit_code, 0);
  ASSERT_EQ(Engine(args, b).exit_code, 0);
  Metrics ma = ReadMetrics(a + "/checkpoints/cnn_mnist/metrics.jsonl");
  Metrics mb = ReadMetrics(b + "/checkpoints/cnn_mnist/metrics.jsonl");
  ASSERT_EQ(ma.steps.size(), 10u);
  EXPECT_EQ(ma.steps, mb.steps);
  EXPECT_EQ(ma.epochs, mb.epochs);
  std::string c = MakeTempDir("mle-det-c");
  args[7] = "8";  // another seed gives other losses
  ASSERT_EQ(Engine(args, c).exit_code, 0);
  EXPECT_NE(ReadMetrics(c + "/checkpoints/cnn_mnist/metrics.jsonl").steps, ma.steps);
}

TEST(TrainE2E, KilledRunResumesBitForBit) {
  std::vector<std::string> args = Cat(
      {"train", "cnn_mnist", "--epochs", "2", "--log-every", "1", "--ckpt-every", "3", "--quiet"},
      SubsetArgs(1280));  // 20 steps per epoch
  std::string ref = MakeTempDir("mle-resume-ref");
  ASSERT_EQ(Engine(args, ref).exit_code, 0);
  Metrics expected = ReadMetrics(ref + "/checkpoints/cnn_mnist/metrics.jsonl");
  ASSERT_EQ(expected.steps.size(), 40u);

  std::string dir = MakeTempDir("mle-resume");
  std::vector<std::string> argv = Cat({EngineBinary()}, args);
  pid_t pid = testing::StartProcess(argv, dir + "/out.txt", dir + "/err.txt", dir);
  // Kill it in the second epoch, after a mid-epoch checkpoint (steps 21..39).
  auto deadline = std::chrono::steady_clock::now() + std::chrono::minutes(5);
  while (std::chrono::steady_clock::now() < deadline) {
    if (fs::exists(dir + "/checkpoints/cnn_mnist/metrics.jsonl") &&
        ReadMetrics(dir + "/checkpoints/cnn_mnist/metrics.jsonl").steps.size() >= 26) {
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  kill(pid, SIGKILL);
  ASSERT_EQ(testing::WaitProcess(pid), -SIGKILL) << "the run finished before it was killed";

  auto resumed = Engine(Cat(args, {"--resume"}), dir);
  ASSERT_EQ(resumed.exit_code, 0) << resumed.err;
  Metrics got = ReadMetrics(dir + "/checkpoints/cnn_mnist/metrics.jsonl");
  EXPECT_EQ(got.steps, expected.steps) << "resumed losses differ from an uninterrupted run";
  EXPECT_EQ(got.epochs, expected.epochs);
  EXPECT_EQ(CountRuns(dir + "/runs/ml-engine.db", "completed"), 1);
}

// Bad input: one line on stderr, exit code 2, nothing written.
class BadInput : public ::testing::Test {
 protected:
  void SetUp() override { dir_ = MakeTempDir("mle-bad"); }
  void ExpectRejected(const std::vector<std::string>& args, const std::string& needle) {
    auto r = Engine(args, dir_);
    EXPECT_EQ(r.exit_code, 2) << r.err;
    EXPECT_EQ(r.err.rfind("error: ", 0), 0u) << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << "one line: " << r.err;
    EXPECT_NE(r.err.find(needle), std::string::npos) << r.err;
    EXPECT_FALSE(fs::exists(dir_ + "/checkpoints")) << "no checkpoint dir left behind";
    EXPECT_FALSE(fs::exists(dir_ + "/runs")) << "no run record left behind";
  }
  // A data dir of links to Fashion-MNIST with `file` replaced by `content`.
  std::string DataDirWith(const std::string& file, const std::string& content) {
    std::string d = dir_ + "/data-" + std::to_string(counter_++);
    fs::create_directories(d);
    for (const char* f : {"train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz",
                          "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"}) {
      if (file != f) fs::create_symlink(kFashion + "/" + f, d + "/" + f);
    }
    if (!content.empty()) {
      EXPECT_TRUE(WriteFileAtomic(d + "/" + file, content).ok());
    }
    return d;
  }
  std::string dir_;
  int counter_ = 0;
};

TEST_F(BadInput, MissingDataDirectory) {
  ExpectRejected({"train", "cnn_mnist", "--data", dir_ + "/nope"}, "does not exist");
}

TEST_F(BadInput, WrongIdxMagic) {
  ExpectRejected({"train", "cnn_mnist", "--data",
                  DataDirWith("train-images-idx3-ubyte.gz",
                              std::string("\x12\x34\x08\x03", 4) + std::string(100, '\0'))},
                 "bad magic");
}

TEST_F(BadInput, TruncatedFiles) {
  auto gz = ReadFile(kFashion + "/train-labels-idx1-ubyte.gz");
  ExpectRejected({"train", "cnn_mnist", "--data",
                  DataDirWith("train-labels-idx1-ubyte.gz", gz->substr(0, gz->size() / 2))},
                 "truncated");
  std::string header("\0\0\x08\x01\0\0\xea\x60", 8);  // 60000 labels promised, 10 given
  ExpectRejected({"train", "cnn_mnist", "--data",
                  DataDirWith("train-labels-idx1-ubyte.gz", header + std::string(10, '\1'))},
                 "truncated");
}

TEST_F(BadInput, ImageLabelCountMismatch) {
  auto labels = ReadFile(kFashion + "/t10k-labels-idx1-ubyte.gz");
  ExpectRejected(
      {"train", "cnn_mnist", "--data", DataDirWith("train-labels-idx1-ubyte.gz", *labels)},
      "60000 images but");
}

TEST_F(BadInput, UnknownModel) {
  ExpectRejected({"train", "resnet50"}, "unknown model 'resnet50'");
}

TEST_F(BadInput, BadHyperparameters) {
  ExpectRejected({"train", "cnn_mnist", "--epochs", "0"}, "'train.epochs' must be >= 1");
  ExpectRejected({"train", "cnn_mnist", "--epochs", "-3"}, "train.epochs");
  ExpectRejected({"train", "cnn_mnist", "--batch-size", "0"}, "train.batch_size");
  ExpectRejected({"train", "cnn_mnist", "--lr", "0"}, "'train.lr' must be > 0");
  ExpectRejected({"train", "cnn_mnist", "--lr", "-0.1"}, "train.lr");
  ExpectRejected({"train", "cnn_mnist", "--optimizer", "rmsprop"}, "must be one of sgd, adam");
}

TEST_F(BadInput, BadConfigFile) {
  std::ofstream(dir_ + "/wrong-type.json") << R"({"train": {"epochs": "three"}})";
  std::ofstream(dir_ + "/unknown-key.json") << R"({"train": {"epoch": 3}})";
  ExpectRejected({"--config", dir_ + "/wrong-type.json", "train", "cnn_mnist"},
                 "'train.epochs' must be an integer");
  ExpectRejected({"--config", dir_ + "/unknown-key.json", "train", "cnn_mnist"},
                 "unknown key 'train.epoch'");
  ExpectRejected({"--config", dir_ + "/missing.json", "train", "cnn_mnist"}, "does not exist");
}

TEST_F(BadInput, CorruptCheckpointOnResumeChangesNothing) {
  fs::create_directories(dir_ + "/ck");
  const std::string garbage("MLECKPT\0 truncated garbage", 26);
  ASSERT_TRUE(WriteFileAtomic(dir_ + "/ck/last.ckpt", garbage).ok());
  auto r = Engine({"train", "cnn_mnist", "--resume", "--ckpt-dir", dir_ + "/ck"}, dir_);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("corrupt"), std::string::npos) << r.err;
  EXPECT_EQ(*ReadFile(dir_ + "/ck/last.ckpt"), garbage);
  EXPECT_FALSE(fs::exists(dir_ + "/runs"));
  auto none = Engine({"train", "cnn_mnist", "--resume", "--ckpt-dir", dir_ + "/empty"}, dir_);
  EXPECT_EQ(none.exit_code, 2);
  EXPECT_NE(none.err.find("nothing to resume"), std::string::npos) << none.err;
}

TEST_F(BadInput, PredictInputs) {
  ExpectRejected({"predict", "cnn_mnist", "--ckpt", dir_ + "/none.ckpt", "--input",
                  kFashion + "/t10k-images-idx3-ubyte.gz"},
                 "no such file");
  ASSERT_TRUE(WriteFileAtomic(dir_ + "/text.txt", "not an image").ok());
  ExpectRejected(
      {"predict", "cnn_mnist", "--ckpt", dir_ + "/none.ckpt", "--input", dir_ + "/text.txt"},
      "not a PNG, PGM, IDX or CSV");
}

}  // namespace
}  // namespace mle
