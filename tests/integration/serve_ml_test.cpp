// The training and prediction routes of `ml-engine serve`, as a client uses them: the real
// server on a free loopback port, real training on Fashion-MNIST (small limits), the real
// SQLite run database. Job lifecycle (queued -> running -> completed), ?wait=true, SSE events,
// cancel, restart recovery after a crash, shutdown during a job, path confinement, predict
// with pixel arrays and base64 images, and the 400s of bad bodies.
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <thread>

#include <nlohmann/json.hpp>

#include "common/http_test_client.h"
#include "common/serve_process.h"
#include "common/subprocess.h"

namespace mle {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using testing::HttpCall;
using testing::HttpResult;
using testing::ServeProcess;

class ServeMlTest : public ::testing::Test {
 protected:
  void SetUp() override { dir_ = testing::MakeTempDir("serve-ml"); }
  void TearDown() override { fs::remove_all(dir_); }

  HttpResult Post(const ServeProcess& s, const std::string& target, const json& body) {
    return HttpCall(s.port(), "POST", target, {{"Content-Type", "application/json"}}, body.dump());
  }
  json Get(const ServeProcess& s, const std::string& target, int want = 200) {
    HttpResult r = HttpCall(s.port(), "GET", target);
    EXPECT_EQ(r.status, want) << target << ": " << r.body;
    return json::parse(r.body, nullptr, false);
  }
  // Polls the job until `pred` holds or 120 s pass; returns the last state.
  template <typename Pred>
  json PollJob(const ServeProcess& s, const std::string& id, Pred pred) {
    json j;
    for (int i = 0; i < 1200; ++i) {
      j = Get(s, "/ml/jobs/" + id);
      if (pred(j)) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return j;
  }
  static bool Finished(const json& j) {
    const std::string st = j.value("status", "");
    return st == "completed" || st == "failed" || st == "cancelled";
  }
  // A small, quick job: 1000 training and 200 validation images.
  static json SmallJob(const std::string& model, int epochs) {
    return {{"model", model}, {"epochs", epochs}, {"limit_train", 1000}, {"limit_val", 200}};
  }
  // A job long enough to cancel or interrupt.
  static json LongJob() { return {{"model", "cnn_mnist"}, {"epochs", 200}}; }

  std::string dir_;
};

TEST_F(ServeMlTest, ModelsComeFromTheRegistry) {
  ServeProcess s(dir_, {});
  ASSERT_TRUE(s.WaitHealthy()) << s.Err();
  json m = Get(s, "/ml/models");
  ASSERT_TRUE(m["models"].is_array());
  EXPECT_NE(std::find(m["models"].begin(), m["models"].end(), "cnn_mnist"), m["models"].end());
  EXPECT_NE(std::find(m["models"].begin(), m["models"].end(), "mlp_mnist"), m["models"].end());
  EXPECT_GT(m["details"][0]["n_params"].get<int64_t>(), 0);
}

TEST_F(ServeMlTest, JobRunsToCompletionWithEventsMetricsAndCheckpoints) {
  ServeProcess s(dir_, {});
  ASSERT_TRUE(s.WaitHealthy()) << s.Err();
  HttpResult r = Post(s, "/ml/train", SmallJob("mlp_mnist", 2));
  ASSERT_EQ(r.status, 202) << r.body;
  json job = json::parse(r.body);
  const std::string id = job["id"];
  EXPECT_EQ(r.headers["location"], "/ml/jobs/" + id);
  EXPECT_TRUE(job["status"] == "queued" || job["status"] == "running") << job;

  // The event stream follows the job and ends when it does.
  testing::HttpConnection c("127.0.0.1", s.port(), 120000);
  HttpResult ev = c.Request("GET", "/ml/jobs/" + id + "/events");
  ASSERT_EQ(ev.status, 200) << ev.body;
  EXPECT_EQ(ev.headers["content-type"], "text/event-stream");
  EXPECT_NE(ev.body.find("event: status"), std::string::npos);
  EXPECT_NE(ev.body.find("event: epoch"), std::string::npos) << ev.body;
  EXPECT_NE(ev.body.find("\"status\":\"completed\""), std::string::npos) << ev.body;

  json done = PollJob(s, id, Finished);
  ASSERT_EQ(done["status"], "completed") << done;
  EXPECT_EQ(done["metrics"]["epochs"].size(), 2u);
  EXPECT_DOUBLE_EQ(done["progress"]["fraction"].get<double>(), 1.0);
  EXPECT_GT(done["metrics"]["best_val_acc"].get<double>(), 0.3);
  EXPECT_TRUE(fs::exists(dir_ + "/" + done["checkpoint"]["last"].get<std::string>()));
  EXPECT_TRUE(fs::exists(dir_ + "/runs/ml-engine.db"));

  // A finished job's stream is its final state, at once.
  HttpResult again = HttpCall(s.port(), "GET", "/ml/jobs/" + id + "/events");
  EXPECT_NE(again.body.find("\"status\":\"completed\""), std::string::npos);

  json list = Get(s, "/ml/jobs?status=completed&limit=5");
  ASSERT_EQ(list["jobs"].size(), 1u);
  EXPECT_EQ(list["jobs"][0]["id"], id);
  EXPECT_EQ(Get(s, "/ml/jobs?status=failed")["jobs"].size(), 0u);
  Get(s, "/ml/jobs?limit=0", 400);
  Get(s, "/ml/jobs?status=bogus", 400);
  Get(s, "/ml/jobs/no-such-job", 404);

  // Prediction with the job's checkpoint: pixel arrays (28x28 and flat) and base64 PGM.
  json img = json::array();
  for (int y = 0; y < 28; ++y) img.push_back(std::vector<int>(28, y * 9));
  r = Post(s, "/ml/predict",
           {{"model", "mlp_mnist"}, {"inputs", {img, std::vector<int>(784, 200)}}});
  ASSERT_EQ(r.status, 200) << r.body;
  json p = json::parse(r.body);
  ASSERT_EQ(p["predictions"].size(), 2u);
  double sum = 0;
  for (double v : p["predictions"][0]["probabilities"]) sum += v;
  EXPECT_NEAR(sum, 1.0, 1e-4);
  EXPECT_EQ(p["predictions"][0]["probabilities"].size(), 10u);

  std::string pgm = "P5\n28 28\n255\n" + std::string(784, '\x40');
  static const char* kB64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string b64;
  for (size_t i = 0; i < pgm.size(); i += 3) {
    uint32_t v = static_cast<uint8_t>(pgm[i]) << 16;
    if (i + 1 < pgm.size()) v |= static_cast<uint8_t>(pgm[i + 1]) << 8;
    if (i + 2 < pgm.size()) v |= static_cast<uint8_t>(pgm[i + 2]);
    b64 += kB64[(v >> 18) & 63];
    b64 += kB64[(v >> 12) & 63];
    b64 += i + 1 < pgm.size() ? kB64[(v >> 6) & 63] : '=';
    b64 += i + 2 < pgm.size() ? kB64[v & 63] : '=';
  }
  r = Post(s, "/ml/predict", {{"model", "mlp_mnist"}, {"job_id", id}, {"images", {b64}}});
  ASSERT_EQ(r.status, 200) << r.body;
  const json from_image = json::parse(r.body)["predictions"];
  ASSERT_EQ(from_image.size(), 1u);
  // The same image as pixels gives the same answer.
  r = Post(s, "/ml/predict", {{"model", "mlp_mnist"}, {"inputs", {std::vector<int>(784, 64)}}});
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(json::parse(r.body)["predictions"][0]["class"], from_image[0]["class"]);

  // Prediction errors name the field.
  EXPECT_EQ(Post(s, "/ml/predict", {{"model", "mlp_mnist"}, {"images", {"%%%"}}}).status, 400);
  EXPECT_EQ(Post(s, "/ml/predict", {{"model", "mlp_mnist"}, {"inputs", {{1, 2, 3}}}}).status, 400);
  EXPECT_EQ(
      Post(s, "/ml/predict", {{"model", "mlp_mnist"}, {"inputs", {std::vector<int>(784, 300)}}})
          .status,
      400);
  EXPECT_EQ(Post(s, "/ml/predict", {{"model", "mlp_mnist"}}).status, 400);
  r = Post(s, "/ml/predict",
           {{"model", "mlp_mnist"}, {"ckpt", "../../etc/passwd"}, {"inputs", {img}}});
  EXPECT_EQ(r.status, 400) << r.body;
  r = Post(s, "/ml/predict", {{"model", "cnn_mnist"}, {"inputs", {img}}});
  EXPECT_EQ(r.status, 404) << "no cnn_mnist trained yet: " << r.body;
  EXPECT_NE(r.body.find("POST /ml/train"), std::string::npos) << r.body;
  EXPECT_EQ(s.Terminate(), 0);
}

TEST_F(ServeMlTest, WaitTrueKeepsTheSynchronousAnswer) {
  ServeProcess s(dir_, {});
  ASSERT_TRUE(s.WaitHealthy()) << s.Err();
  testing::HttpConnection c("127.0.0.1", s.port(), 180000);
  HttpResult r = c.Request("POST", "/ml/train?wait=true", {}, SmallJob("mlp_mnist", 1).dump());
  ASSERT_EQ(r.status, 200) << r.body;
  json j = json::parse(r.body);
  EXPECT_EQ(j["model"], "mlp_mnist");
  EXPECT_EQ(j["status"], "ok");
  EXPECT_FALSE(j["job_id"].get<std::string>().empty());

  json all = SmallJob("", 1);
  all.erase("model");
  r = c.Request("POST", "/ml/train-all?wait=true", {}, all.dump());
  ASSERT_EQ(r.status, 200) << r.body;
  j = json::parse(r.body);
  EXPECT_EQ(j["status"], "ok");
  ASSERT_EQ(j["results"].size(), 2u);
  for (const auto& res : j["results"]) EXPECT_EQ(res["status"], "ok") << res;
  EXPECT_TRUE(fs::exists(dir_ + "/checkpoints/cnn_mnist/last.ckpt"));
  EXPECT_TRUE(fs::exists(dir_ + "/checkpoints/mlp_mnist/last.ckpt"));
  EXPECT_EQ(HttpCall(s.port(), "POST", "/ml/train?wait=maybe", {}, "{}").status, 400);
}

TEST_F(ServeMlTest, BadBodiesAndPathsAre400NamingTheField) {
  ServeProcess s(dir_, {});
  ASSERT_TRUE(s.WaitHealthy()) << s.Err();
  struct Case {
    json body;
    std::string field;
  };
  const std::vector<Case> cases = {
      {{{"epochs", 1}}, "model"},
      {{{"model", "resnet"}}, "model"},
      {{{"model", 7}}, "model"},
      {{{"model", "cnn_mnist"}, {"epochs", "3"}}, "epochs"},
      {{{"model", "cnn_mnist"}, {"epochs", 0}}, "epochs"},
      {{{"model", "cnn_mnist"}, {"epochs", 1e300}}, "epochs"},
      {{{"model", "cnn_mnist"}, {"lr", -1}}, "lr"},
      {{{"model", "cnn_mnist"}, {"optimizer", "lbfgs"}}, "optimizer"},
      {{{"model", "cnn_mnist"}, {"batch_size", 1.5}}, "batch_size"},
      {{{"model", "cnn_mnist"}, {"resume", "yes"}}, "resume"},
      {{{"model", "cnn_mnist"}, {"epoch", 3}}, "epoch"},
      {{{"model", "cnn_mnist"}, {"ckpt_dir", "../outside"}}, "ckpt_dir"},
      {{{"model", "cnn_mnist"}, {"ckpt_dir", "/etc"}}, "ckpt_dir"},
      {{{"model", "cnn_mnist"}, {"dataset_root", "/etc"}}, "dataset_root"},
      {{{"model", "cnn_mnist"}, {"dataset_root", "no-such-dir"}}, "dataset_root"},
      {{{"model", "cnn_mnist"}, {"llama_exec_path", "/bin/sh"}}, "llama_exec_path"},
  };
  for (const auto& c : cases) {
    HttpResult r = Post(s, "/ml/train", c.body);
    EXPECT_EQ(r.status, 400) << c.body << " -> " << r.body;
    EXPECT_NE(r.body.find(c.field), std::string::npos) << c.body << " -> " << r.body;
    json e = json::parse(r.body, nullptr, false);
    EXPECT_TRUE(e.contains("error") && e["error"].contains("type")) << r.body;
  }
  HttpResult r = Post(s, "/ml/train", {{"model", "cnn_mnist"}, {"resume", true}});
  EXPECT_EQ(r.status, 409) << "nothing to resume: " << r.body;
  EXPECT_NE(r.body.find("last.ckpt"), std::string::npos) << r.body;
  EXPECT_EQ(HttpCall(s.port(), "POST", "/ml/train", {}, "{not json").status, 400);
  EXPECT_EQ(HttpCall(s.port(), "POST", "/ml/train", {}, "[1]").status, 400);
  EXPECT_EQ(Post(s, "/ml/train-all", {{"models", {"cnn_mnist", "nope"}}}).status, 400);
  // Nothing was queued or written by any of them.
  EXPECT_EQ(Get(s, "/ml/jobs")["jobs"].size(), 0u);
  EXPECT_FALSE(fs::exists(dir_ + "/checkpoints"));
}

TEST_F(ServeMlTest, CancelQueuedAndRunningJobs) {
  ServeProcess s(dir_, {});
  ASSERT_TRUE(s.WaitHealthy()) << s.Err();
  const std::string running = json::parse(Post(s, "/ml/train", LongJob()).body)["id"];
  const std::string queued = json::parse(Post(s, "/ml/train", LongJob()).body)["id"];
  PollJob(s, running, [](const json& j) { return j["status"] == "running"; });

  HttpResult r = HttpCall(s.port(), "DELETE", "/ml/jobs/" + queued);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(json::parse(r.body)["status"], "cancelled");
  r = HttpCall(s.port(), "DELETE", "/ml/jobs/" + running);
  ASSERT_EQ(r.status, 202) << r.body;
  EXPECT_TRUE(json::parse(r.body)["cancel_requested"].get<bool>());
  json j = PollJob(s, running, Finished);
  EXPECT_EQ(j["status"], "cancelled") << j;
  // Finished jobs cannot be cancelled again; unknown ones are 404.
  EXPECT_EQ(HttpCall(s.port(), "DELETE", "/ml/jobs/" + running).status, 409);
  EXPECT_EQ(HttpCall(s.port(), "DELETE", "/ml/jobs/nope").status, 404);
  // The record is written before the job manager counts it: allow it a moment.
  HttpResult m;
  for (int i = 0; i < 50; ++i) {
    m = HttpCall(s.port(), "GET", "/metrics");
    if (m.body.find("mle_jobs_running 0") != std::string::npos) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_NE(m.body.find("mle_jobs_finished_total{status=\"cancelled\"} 2"), std::string::npos)
      << m.body;
}

TEST_F(ServeMlTest, CrashDuringAJobMarksItFailedAfterRestart) {
  std::string id;
  {
    ServeProcess s(dir_, {});
    ASSERT_TRUE(s.WaitHealthy()) << s.Err();
    id = json::parse(Post(s, "/ml/train", LongJob()).body)["id"];
    PollJob(s, id, [](const json& j) { return j["status"] == "running"; });
    s.Kill();
  }
  ServeProcess s(dir_, {});
  ASSERT_TRUE(s.WaitHealthy()) << s.Err();
  json j = Get(s, "/ml/jobs/" + id);
  EXPECT_EQ(j["status"], "failed") << j;
  EXPECT_NE(j.value("error", "").find("server stopped"), std::string::npos) << j;
}

TEST_F(ServeMlTest, SigtermDuringAJobExitsCleanlyAndRecordsIt) {
  ServeProcess s(dir_, {});
  ASSERT_TRUE(s.WaitHealthy()) << s.Err();
  const std::string id = json::parse(Post(s, "/ml/train", LongJob()).body)["id"];
  PollJob(s, id, [](const json& j) { return j["status"] == "running"; });
  const auto t0 = std::chrono::steady_clock::now();
  EXPECT_EQ(s.Terminate(), 0);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(20));
  ServeProcess again(dir_, {});
  ASSERT_TRUE(again.WaitHealthy()) << again.Err();
  EXPECT_EQ(Get(again, "/ml/jobs/" + id)["status"], "cancelled");
}

// `make run` ends with the server printing curl lines; each must work as printed.
TEST_F(ServeMlTest, TheBannersCurlExamplesWork) {
  ServeProcess s(dir_, {"--api-key", "banner-key-123"});
  ASSERT_TRUE(s.WaitHealthy()) << s.Err();
  // The predict example uses the newest cnn_mnist run, as after `ml-engine quickstart`.
  testing::HttpConnection c("127.0.0.1", s.port(), 180000);
  HttpResult r = c.Request("POST", "/ml/train?wait=true", {{"X-Api-Key", "banner-key-123"}},
                           SmallJob("cnn_mnist", 1).dump());
  ASSERT_EQ(r.status, 200) << r.body;
  const std::string job = json::parse(r.body)["job_id"];
  std::vector<std::string> lines;
  std::string out = s.Out();
  for (size_t pos = 0; (pos = out.find("\n  curl ", pos)) != std::string::npos;) {
    const size_t end = out.find('\n', pos + 1);
    lines.push_back(out.substr(pos + 3, end - pos - 3));
    pos = end;
  }
  ASSERT_GE(lines.size(), 7u) << out;
  for (std::string line : lines) {
    if (const size_t at = line.find("<id>"); at != std::string::npos) line.replace(at, 4, job);
    line.replace(0, 4, "curl -sS --fail --max-time 60");
    auto p = testing::RunProcess({"/bin/bash", "-c", line}, {{"API_KEY", "banner-key-123"}});
    EXPECT_EQ(p.exit_code, 0) << line << "\n" << p.out << p.err;
  }
  EXPECT_EQ(s.Terminate(), 0);
}

// Own-LLM pretraining as a server job: token shards made by the CLI under the data directory,
// "model": "gpt", progress and eval events, the synchronous answer with the validation loss.
TEST_F(ServeMlTest, GptPretrainingJobRunsOnTokenShards) {
  const std::string data = dir_ + "/data";
  fs::create_directories(data + "/corpus");
  fs::copy_file("/usr/include/stdio.h", data + "/corpus/stdio.h");
  fs::copy_file("/usr/include/stdlib.h", data + "/corpus/stdlib.h");
  auto run = [](std::vector<std::string> args) {
    args.insert(args.begin(), testing::EngineBinary());
    return testing::RunProcess(args);
  };
  auto r0 = run(
      {"lm", "tokenizer", "--input", data + "/corpus", "--vocab-size", "400", "-o", data + "/tok"});
  ASSERT_EQ(r0.exit_code, 0) << r0.err;
  r0 = run({"lm", "data", "--input", data + "/corpus", "--tokenizer", data + "/tok", "-o",
            data + "/shards", "--val-fraction", "0.2"});
  ASSERT_EQ(r0.exit_code, 0) << r0.err;

  ServeProcess s(dir_, {"--data", data});
  ASSERT_TRUE(s.WaitHealthy()) << s.Err();
  json m = Get(s, "/ml/models");
  EXPECT_NE(std::find(m["models"].begin(), m["models"].end(), "gpt"), m["models"].end());
  const json job = {{"model", "gpt"},
                    {"data", "shards"},
                    {"size", R"({"dim":32,"n_layers":1,"n_heads":2,"context":32})"},
                    {"steps", 6},
                    {"batch_size", 2},
                    {"eval_every", 3},
                    {"precision", "fp32"}};
  HttpResult r = Post(s, "/ml/train?wait=true", job);
  ASSERT_EQ(r.status, 200) << r.body;
  json done = json::parse(r.body);
  EXPECT_EQ(done["model"], "gpt");
  EXPECT_GT(done["val_loss"].get<double>(), 0.0);
  const fs::path ckpt = done["checkpoint"].get<std::string>();  // relative to the server's dir
  EXPECT_TRUE(fs::exists(ckpt.is_absolute() ? ckpt : fs::path(dir_) / ckpt)) << ckpt;
  json j = Get(s, "/ml/jobs/" + done["job_id"].get<std::string>());
  EXPECT_EQ(j["status"], "completed");
  EXPECT_EQ(j["progress"]["fraction"].get<double>(), 1.0);
  EXPECT_EQ(j["progress"]["steps"].get<int>(), 6);

  // Bad requests: shards outside the data directory, a directory without shards, a bad size.
  json bad = job;
  bad["data"] = "../../etc";
  EXPECT_EQ(Post(s, "/ml/train", bad).status, 400);
  bad["data"] = "corpus";
  r = Post(s, "/ml/train", bad);
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(r.body.find("lm data"), std::string::npos) << r.body;
  bad = job;
  bad["size"] = "huge";
  EXPECT_EQ(Post(s, "/ml/train", bad).status, 400);
  bad = job;
  bad["epochs"] = 3;  // a field of the image classifiers
  EXPECT_EQ(Post(s, "/ml/train", bad).status, 400);
}

}  // namespace
}  // namespace mle
