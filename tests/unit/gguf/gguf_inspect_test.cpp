// `gguf inspect` reports: the summary numbers, the text layout (shortened arrays, type table,
// hyperparameters, chat template) and the JSON object, on the shared models. When the
// ml-engine binary is built beside the tests, also its exit codes on good and bad files.
#include "gguf/gguf_inspect.h"

#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdlib>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <set>

#include "gguf_test_util.h"

namespace mle::gguf {
namespace {

using testing::ModelPath;

std::unique_ptr<GgufFile> Open(const std::string& name) {
  auto r = GgufFile::Open(ModelPath(name));
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return r.ok() ? std::move(r).value() : nullptr;
}

bool Contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

TEST(GgufInspectTest, SummaryOfQ4KM) {
  auto f = Open("tiny-llama-spm-Q4_K_M.gguf");
  ASSERT_NE(f, nullptr);
  GgufSummary s = Summarize(*f);
  EXPECT_EQ(s.architecture, "llama");
  std::set<std::string> names;
  uint64_t n_tensors = 0, bytes = 0;
  for (const TensorTypeStats& t : s.types) {
    names.insert(std::string(TensorTypeName(t.type)));
    n_tensors += t.n_tensors;
    bytes += t.size_bytes;
  }
  EXPECT_EQ(names, (std::set<std::string>{"Q4_K", "Q6_K", "Q5_0", "Q8_0", "F32"}));
  EXPECT_EQ(n_tensors, 38u);
  EXPECT_EQ(bytes, s.tensor_bytes);
  for (size_t i = 1; i < s.types.size(); ++i) {
    EXPECT_GE(s.types[i - 1].size_bytes, s.types[i].size_bytes);
  }
  // Q4_K is 4.5 bits, Q6_K 6.56; the mix lands between them, F32 norms add a little.
  EXPECT_GT(s.bits_per_weight, 4.5);
  EXPECT_LT(s.bits_per_weight, 7.0);
  EXPECT_LE(f->data_offset() + s.tensor_bytes, f->file_size());
  ASSERT_GE(s.hyperparameters.size(), 7u);
  EXPECT_EQ(s.hyperparameters[0].first, "context_length");
}

TEST(GgufInspectTest, TextReport) {
  auto f = Open("tiny-llama-spm-F16.gguf");
  ASSERT_NE(f, nullptr);
  std::string text = FormatInspectText(*f);
  EXPECT_TRUE(Contains(text, "  version        3\n")) << text;
  EXPECT_TRUE(Contains(text, "  tensors        38\n"));
  EXPECT_TRUE(Contains(text, "\"llama\"\n"));
  EXPECT_TRUE(Contains(text, "array[string]   [\"<unk>\", \"<s>\", \"</s>\", "));
  EXPECT_TRUE(Contains(text, ", ... (32000 items)]\n"));
  EXPECT_TRUE(Contains(text, "\n  F16 "));
  EXPECT_TRUE(Contains(text, "\n  F32 "));
  EXPECT_TRUE(Contains(text, "\n  total          38 "));
  EXPECT_TRUE(Contains(text, "bits per weight  16.0"));
  EXPECT_TRUE(Contains(text, "\narchitecture llama:\n"));
  EXPECT_TRUE(Contains(text, "  block_count                        4\n"));
  EXPECT_TRUE(Contains(text, "  attention.head_count_kv            4\n"));
  EXPECT_TRUE(Contains(text, "  rope.freq_base                     10000\n"));
  EXPECT_TRUE(Contains(text, "\nchat template"));
  EXPECT_FALSE(Contains(text, "\ntensors:\n"));
  InspectOptions with_tensors;
  with_tensors.list_tensors = true;
  std::string listed = FormatInspectText(*f, with_tensors);
  EXPECT_TRUE(Contains(listed, "\ntensors:\n"));
  EXPECT_TRUE(Contains(listed, "blk.3.ffn_up.weight"));
  EXPECT_TRUE(Contains(listed, "[256, 704]"));
}

TEST(GgufInspectTest, JsonReport) {
  auto f = Open("tiny-qwen2-bpe-Q8_0.gguf");
  ASSERT_NE(f, nullptr);
  auto j = nlohmann::json::parse(FormatInspectJson(*f));
  EXPECT_EQ(j["version"], 3);
  EXPECT_EQ(j["n_tensors"], 26);
  EXPECT_EQ(j["architecture"], "qwen2");
  EXPECT_EQ(j["hyperparameters"]["block_count"], 2);
  EXPECT_EQ(j["hyperparameters"]["embedding_length"], 64);
  EXPECT_EQ(j["hyperparameters"]["rope.freq_base"], 1e6);
  EXPECT_EQ(j["metadata"].size(), f->metadata().size());
  bool saw_tokens = false;
  for (const auto& kv : j["metadata"]) {
    if (kv["key"] != "tokenizer.ggml.tokens") continue;
    saw_tokens = true;
    EXPECT_EQ(kv["type"], "array");
    EXPECT_EQ(kv["elem_type"], "string");
    EXPECT_EQ(kv["n_items"], 151936);
    EXPECT_EQ(kv["truncated"], true);
    EXPECT_EQ(kv["value"].size(), 8u);
  }
  EXPECT_TRUE(saw_tokens);
  uint64_t bytes = 0;
  for (const auto& t : j["tensor_types"]) bytes += t["size_bytes"].get<uint64_t>();
  EXPECT_EQ(bytes, j["tensor_bytes"].get<uint64_t>());
  EXPECT_TRUE(j["chat_template"].is_string() || j["chat_template"].is_null());
  EXPECT_GT(j["bits_per_weight"].get<double>(), 8.0);
}

// Runs the built ml-engine (if any) and returns its exit code.
int RunCli(const std::string& args) {
  std::string bin = std::string(MLE_BINARY_DIR) + "/bin/ml-engine";
  std::string cmd = bin + " " + args + " >/dev/null 2>&1";
  int rc = std::system(cmd.c_str());
  return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

TEST(GgufInspectTest, CliExitCodes) {
  if (!std::filesystem::exists(std::string(MLE_BINARY_DIR) + "/bin/ml-engine")) {
    GTEST_SKIP() << "ml-engine is not built in this build directory";
  }
  EXPECT_EQ(RunCli("gguf inspect " + ModelPath("tiny-phi3-Q8_0.gguf")), 0);
  EXPECT_EQ(RunCli("gguf inspect --json " + ModelPath("tiny-phi3-Q8_0.gguf")), 0);
  EXPECT_EQ(RunCli("gguf inspect /nonexistent.gguf"), 2);
  EXPECT_EQ(RunCli("gguf inspect " + testing::VocabPath("seedtext.inp")), 2);
}

}  // namespace
}  // namespace mle::gguf
