// The own-LLM loop end to end at toy size, through the real commands: train a tokenizer on
// fortunes and C headers, prepare shards, pretrain a tiny model, resume it exactly, evaluate,
// export to GGUF, and check the exported model in the native engine: F32 logits equal the
// LibTorch forward pass within 1e-3, greedy continuations are identical, the Q8_0 export keeps
// perplexity within 1% of F32, and the server answers a chat completion with it.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include <nlohmann/json.hpp>

#include "common/http_test_client.h"
#include "common/serve_process.h"
#include "common/subprocess.h"
#include "llm/model.h"
#include "llm/perplexity.h"
#include "lm/lm.h"

namespace mle {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;
using testing::EngineBinary;
using testing::ProcessResult;
using testing::RunProcess;

ProcessResult Engine(std::vector<std::string> args) {
  args.insert(args.begin(), EngineBinary());
  args.push_back("--threads");
  args.push_back("2");
  return RunProcess(args);
}

std::vector<int> ParseIds(const std::string& line) {
  std::vector<int> ids;
  std::istringstream in(line);
  for (int id; in >> id;) ids.push_back(id);
  return ids;
}

std::vector<std::string> MetricLosses(const std::string& path) {
  std::vector<std::string> out;
  std::ifstream in(path);
  for (std::string line; std::getline(in, line);) {
    json j = json::parse(line);
    if (j["type"] == "step")
      out.push_back(std::to_string(j["step"].get<int>()) + ":" + j["loss"].dump());
  }
  return out;
}

const char* kSize = R"({"dim":64,"n_layers":2,"n_heads":4,"n_kv_heads":2,"context":64})";

class LmPipeline : public ::testing::Test {
 protected:
  // The reference run: 40 fp32 steps, every loss logged.
  static std::vector<std::string> PretrainArgs(const std::string& run) {
    return {"lm",           "pretrain",
            "--data",       *dir_ + "/data",
            "--size",       kSize,
            "--steps",      "40",
            "--batch-size", "8",
            "--lr",         "3e-3",
            "--log-every",  "1",
            "--eval-every", "20",
            "--precision",  "fp32",
            "-o",           run,
            "--runs-dir",   *dir_ + "/runs",
            "--quiet"};
  }
  static void SetUpTestSuite() {
    dir_ = new std::string(testing::MakeTempDir("lm-pipeline"));
    const std::string corpus = *dir_ + "/corpus";
    fs::create_directories(corpus);
    // English prose and C code, as the demo model mixes them.
    for (const char* f : {"fortunes", "computers", "science", "wisdom"}) {
      const fs::path p = fs::path("/usr/share/games/fortunes") / f;
      if (fs::exists(p)) fs::copy_file(p, fs::path(corpus) / f);
    }
    for (const char* f : {"stdio.h", "stdlib.h", "string.h", "unistd.h", "fcntl.h"}) {
      const fs::path p = fs::path("/usr/include") / f;
      if (fs::exists(p)) fs::copy_file(p, fs::path(corpus) / f);
    }
    ProcessResult r =
        Engine({"lm", "tokenizer", "--input", corpus, "--vocab-size", "512", "-o", *dir_ + "/tok"});
    ASSERT_EQ(r.exit_code, 0) << r.err << r.out;
    r = Engine({"lm", "data", "--input", corpus, "--tokenizer", *dir_ + "/tok", "-o",
                *dir_ + "/data", "--val-fraction", "0.1"});
    ASSERT_EQ(r.exit_code, 0) << r.err << r.out;
    r = Engine(PretrainArgs(*dir_ + "/run"));
    ASSERT_EQ(r.exit_code, 0) << r.err << r.out;
    pretrain_out_ = new std::string(r.out);
    r = Engine({"lm", "export", "--run", *dir_ + "/run", "--type", "F32", "-o",
                *dir_ + "/models/toy-F32.gguf"});
    ASSERT_EQ(r.exit_code, 0) << r.err << r.out;
    r = Engine({"lm", "export", "--run", *dir_ + "/run", "--type", "Q8_0", "-o",
                *dir_ + "/q8/toy-Q8_0.gguf"});
    ASSERT_EQ(r.exit_code, 0) << r.err << r.out;
    for (const char* type : {"F16", "Q4_0"}) {
      r = Engine({"lm", "export", "--run", *dir_ + "/run", "--type", type, "-o",
                  *dir_ + "/more/toy-" + type + ".gguf"});
      ASSERT_EQ(r.exit_code, 0) << r.err << r.out;
    }
  }
  static void TearDownTestSuite() {
    if (dir_) fs::remove_all(*dir_);
    delete dir_;
    delete pretrain_out_;
    dir_ = nullptr;
  }
  void SetUp() override {
    if (!fs::exists(*dir_ + "/models/toy-F32.gguf")) GTEST_SKIP() << "pipeline set-up failed";
  }

  static std::string* dir_;
  static std::string* pretrain_out_;
};
std::string* LmPipeline::dir_ = nullptr;
std::string* LmPipeline::pretrain_out_ = nullptr;

TEST_F(LmPipeline, PretrainLearnsAndRecordsTheRun) {
  EXPECT_NE(pretrain_out_->find("[step 20] val_loss="), std::string::npos) << *pretrain_out_;
  EXPECT_NE(pretrain_out_->find("[step 40] val_loss="), std::string::npos) << *pretrain_out_;
  const std::vector<std::string> losses = MetricLosses(*dir_ + "/run/metrics.jsonl");
  ASSERT_EQ(losses.size(), 40u);
  std::ifstream in(*dir_ + "/run/metrics.jsonl");
  double first = -1, last = -1;
  for (std::string line; std::getline(in, line);) {
    json j = json::parse(line);
    if (j["type"] != "step") continue;
    if (first < 0) first = j["loss"].get<double>();
    last = j["loss"].get<double>();
  }
  EXPECT_LT(last, first - 0.5) << "loss did not fall: " << first << " -> " << last;
  EXPECT_GT(first, std::log(512.0) - 1.0);  // starts near uniform over the vocabulary
  for (const char* f : {"config.json", "last.ckpt", "best.ckpt", "tokenizer/tokenizer.model"}) {
    EXPECT_TRUE(fs::exists(*dir_ + "/run/" + f)) << f;
  }
  EXPECT_TRUE(fs::exists(*dir_ + "/runs/ml-engine.db"));
}

TEST_F(LmPipeline, ResumeContinuesWithIdenticalLosses) {
  const std::string run = *dir_ + "/run-split";
  const std::vector<std::string> common = PretrainArgs(run);
  std::vector<std::string> first = common;
  first.insert(first.end(), {"--stop-at", "13"});
  ProcessResult r = Engine(first);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(MetricLosses(run + "/metrics.jsonl").size(), 13u);
  std::vector<std::string> second = common;
  second.push_back("--resume");
  r = Engine(second);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("resumed at step 13"), std::string::npos) << r.err;
  EXPECT_EQ(MetricLosses(run + "/metrics.jsonl"), MetricLosses(*dir_ + "/run/metrics.jsonl"));
}

TEST_F(LmPipeline, Bf16RunsResumeExactlyToo) {
  auto args = [&](const std::string& run) {
    return std::vector<std::string>{"lm",           "pretrain",
                                    "--data",       *dir_ + "/data",
                                    "--size",       kSize,
                                    "--steps",      "16",
                                    "--batch-size", "2",
                                    "--grad-accum", "2",
                                    "--log-every",  "1",
                                    "--eval-every", "8",
                                    "--precision",  "bf16",
                                    "-o",           run,
                                    "--runs-dir",   *dir_ + "/runs",
                                    "--quiet"};
  };
  ProcessResult r = Engine(args(*dir_ + "/bf16-full"));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::vector<std::string> first = args(*dir_ + "/bf16-split");
  first.insert(first.end(), {"--stop-at", "5"});
  ASSERT_EQ(Engine(first).exit_code, 0);
  std::vector<std::string> second = args(*dir_ + "/bf16-split");
  second.push_back("--resume");
  r = Engine(second);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto full = MetricLosses(*dir_ + "/bf16-full/metrics.jsonl");
  EXPECT_EQ(full.size(), 16u);
  EXPECT_EQ(MetricLosses(*dir_ + "/bf16-split/metrics.jsonl"), full);
  json cfg = json::parse(std::ifstream(*dir_ + "/bf16-full/config.json"));
  EXPECT_EQ(cfg["precision"], "bf16");
}

TEST_F(LmPipeline, BadPretrainInputIsOneLineAndWritesNothing) {
  const std::string run = *dir_ + "/run-bad";
  ProcessResult r = Engine({"lm", "pretrain", "--data", *dir_ + "/nope", "-o", run, "--quiet"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err.rfind("error: ", 0), 0u) << r.err;
  EXPECT_FALSE(fs::exists(run));
  r = Engine({"lm", "pretrain", "--data", *dir_ + "/data", "--size", R"({"dim":60,"n_heads":7})",
              "-o", run, "--quiet"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("n_heads"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(run));
  // A model far larger than this machine's memory, refused before anything is allocated.
  r = Engine({"lm", "pretrain", "--data", *dir_ + "/data", "--size",
              R"({"dim":16384,"n_layers":96,"n_heads":128,"context":4096})", "-o", run, "--quiet"});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("available"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(run));
  // Resuming with another shape.
  r = Engine({"lm", "pretrain", "--data", *dir_ + "/data", "--size", "tiny", "-o", *dir_ + "/run",
              "--resume", "--quiet"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("shape"), std::string::npos) << r.err;
  // Resuming in another precision than the run's.
  std::vector<std::string> other_precision = PretrainArgs(*dir_ + "/run");
  other_precision.back() = "--resume";  // in place of --quiet
  for (size_t i = 0; i + 1 < other_precision.size(); ++i) {
    if (other_precision[i] == "--precision") other_precision[i + 1] = "bf16";
  }
  r = Engine(other_precision);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("--precision bf16"), std::string::npos) << r.err;
  // A run directory that already holds a run.
  r = Engine({"lm", "pretrain", "--data", *dir_ + "/data", "--size", kSize, "-o", *dir_ + "/run",
              "--quiet"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("--resume"), std::string::npos) << r.err;
  // A truncated checkpoint.
  fs::create_directories(*dir_ + "/run-trunc");
  for (const char* f : {"config.json", "last.ckpt"}) {
    fs::copy_file(*dir_ + "/run/" + f, *dir_ + "/run-trunc/" + f);
  }
  fs::copy(*dir_ + "/run/tokenizer", *dir_ + "/run-trunc/tokenizer");
  fs::resize_file(*dir_ + "/run-trunc/last.ckpt",
                  fs::file_size(*dir_ + "/run-trunc/last.ckpt") / 2);
  r = Engine({"lm", "export", "--run", *dir_ + "/run-trunc", "-o", *dir_ + "/x.gguf"});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_FALSE(fs::exists(*dir_ + "/x.gguf"));
}

TEST_F(LmPipeline, EvalWritesPerplexityAndQa) {
  ProcessResult r =
      Engine({"lm", "eval", "--run", *dir_ + "/run", "--runs-dir", *dir_ + "/runs", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  json j = json::parse(r.out);
  EXPECT_GT(j["perplexity"].get<double>(), 1.0);
  EXPECT_LT(j["perplexity"].get<double>(), 512.0);
  EXPECT_EQ(j["qa_total"].get<int>(), 16);
  json e = json::parse(std::ifstream(*dir_ + "/run/eval.json"));
  EXPECT_NEAR(e["perplexity"].get<double>(), j["perplexity"].get<double>(), 1e-3);
}

TEST_F(LmPipeline, EngineLogitsOnF32ExportMatchLibTorch) {
  const std::string prompt = "The quick brown fox\n#include <stdio.h>";
  std::vector<int32_t> ids;
  auto torch_logits = lm::PromptLogits(*dir_ + "/run", "", prompt, &ids);
  ASSERT_TRUE(torch_logits.ok()) << torch_logits.status().message();
  auto model = llm::Model::Load(*dir_ + "/models/toy-F32.gguf", llm::LoadOptions{});
  ASSERT_TRUE(model.ok()) << model.status().message();
  const std::vector<text::TokenId> engine_ids = (*model)->tokenizer().Tokenize(prompt, true, false);
  ASSERT_EQ(std::vector<int32_t>(engine_ids.begin(), engine_ids.end()), ids);
  llm::ContextOptions co;
  co.n_ctx = 64;
  co.n_threads = 2;
  co.kv_type = llm::KvType::kF32;
  auto ctx = llm::Context::Create(**model, co);
  ASSERT_TRUE(ctx.ok());
  llm::Batch b;
  for (size_t i = 0; i < ids.size(); ++i) b.Add(ids[i], static_cast<int32_t>(i), 0, true);
  ASSERT_TRUE((*ctx)->Decode(b).ok());
  const int vocab = (*model)->hparams().n_vocab;
  double max_diff = 0;
  for (size_t i = 0; i < ids.size(); ++i) {
    const float* e = (*ctx)->Logits(static_cast<int>(i));
    for (int v = 0; v < vocab; ++v) {
      max_diff = std::max(max_diff, std::abs(double(e[v]) - (*torch_logits)[i * vocab + v]));
    }
  }
  EXPECT_LT(max_diff, 1e-3);
  std::printf("max |engine - libtorch| logit difference: %.3g over %zu positions\n", max_diff,
              ids.size());
}

TEST_F(LmPipeline, GreedyContinuationsAreIdentical) {
  for (const char* prompt : {"The", "int main(void", "A penny saved"}) {
    ProcessResult t = Engine(
        {"lm", "generate", "--run", *dir_ + "/run", "-p", prompt, "-n", "24", "--greedy", "--ids"});
    ASSERT_EQ(t.exit_code, 0) << t.err;
    ProcessResult e = Engine({"generate", "-m", *dir_ + "/models/toy-F32.gguf", "-p", prompt, "-n",
                              "24", "--temp", "0", "--ids"});
    ASSERT_EQ(e.exit_code, 0) << e.err;
    EXPECT_EQ(ParseIds(t.out), ParseIds(e.out)) << prompt;
    // And the text: lm generate and generate print only the generated text on stdout.
    t = Engine({"lm", "generate", "--run", *dir_ + "/run", "-p", prompt, "-n", "24", "--greedy"});
    e = Engine({"generate", "-m", *dir_ + "/models/toy-F32.gguf", "-p", prompt, "-n", "24",
                "--temp", "0"});
    EXPECT_EQ(t.out, e.out) << prompt;
  }
}

TEST_F(LmPipeline, Q8_0ExportKeepsPerplexityWithinOnePercent) {
  // Held-out text: a header the tokenizer and the model never saw.
  std::ifstream in("/usr/include/time.h");
  std::stringstream ss;
  ss << in.rdbuf();
  double ppl[2];
  const std::string files[2] = {*dir_ + "/models/toy-F32.gguf", *dir_ + "/q8/toy-Q8_0.gguf"};
  for (int i = 0; i < 2; ++i) {
    auto model = llm::Model::Load(files[i], llm::LoadOptions{});
    ASSERT_TRUE(model.ok()) << model.status().message();
    std::vector<text::TokenId> ids = (*model)->tokenizer().Tokenize(ss.str(), true, false);
    llm::PerplexityOptions o;
    o.n_ctx = 64;
    o.n_threads = 2;
    o.max_tokens = 4000;
    auto r = llm::Perplexity(**model, ids, o);
    ASSERT_TRUE(r.ok()) << r.status().message();
    ppl[i] = r->perplexity;
  }
  std::printf("perplexity on time.h: F32 %.4f, Q8_0 %.4f (%+.3f%%)\n", ppl[0], ppl[1],
              100.0 * (ppl[1] / ppl[0] - 1));
  EXPECT_LT(std::abs(ppl[1] / ppl[0] - 1), 0.01);
  // The other export types load and run in the engine too (`ml-engine perplexity`).
  std::map<std::string, double> cli;
  for (const std::string& f : {*dir_ + "/models/toy-F32.gguf", *dir_ + "/more/toy-F16.gguf",
                               *dir_ + "/more/toy-Q4_0.gguf"}) {
    ProcessResult r = Engine({"perplexity", "-m", f, "-f", "/usr/include/time.h", "--ctx", "64",
                              "--max-tokens", "2000", "--json"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    cli[f.substr(f.rfind('-') + 1)] = json::parse(r.out)["perplexity"].get<double>();
  }
  std::printf("perplexity, first 2000 tokens: F32 %.4f, F16 %.4f, Q4_0 %.4f\n", cli["F32.gguf"],
              cli["F16.gguf"], cli["Q4_0.gguf"]);
  EXPECT_LT(std::abs(cli["F16.gguf"] / cli["F32.gguf"] - 1), 0.01);
  EXPECT_LT(std::abs(cli["Q4_0.gguf"] / cli["F32.gguf"] - 1), 0.25);
}

TEST_F(LmPipeline, ServerAnswersAChatCompletionWithTheExport) {
  const std::string sdir = *dir_ + "/serve";
  fs::create_directories(sdir);
  testing::ServeProcess s(sdir, {"--models-dir", *dir_ + "/q8"});
  ASSERT_TRUE(s.WaitHealthy()) << s.Err();
  json body = {{"model", "toy-Q8_0"},
               {"messages", {{{"role", "user"}, {"content", "Tell me a fortune."}}}},
               {"max_tokens", 16},
               {"temperature", 0}};
  testing::HttpResult r = testing::HttpCall(s.port(), "POST", "/v1/chat/completions",
                                            {{"Content-Type", "application/json"}}, body.dump());
  ASSERT_EQ(r.status, 200) << r.body;
  json j = json::parse(r.body);
  EXPECT_EQ(j["object"], "chat.completion");
  EXPECT_GT(j["usage"]["completion_tokens"].get<int>(), 0);
  EXPECT_TRUE(j["choices"][0]["message"]["content"].is_string());
}

}  // namespace
}  // namespace mle
