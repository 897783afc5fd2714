// `ml-engine lm tokenizer` and `ml-engine lm data` through the real binary (both work in a
// build without LibTorch): one good run writes TOK_DIR and DATA_DIR with the reports on
// stdout; bad inputs give one `error:` line and exit code 2 and leave nothing behind.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "common/subprocess.h"

namespace mle {
namespace {

namespace fs = std::filesystem;
using testing::EngineBinary;
using testing::RunProcess;

testing::ProcessResult Engine(std::vector<std::string> args) {
  args.insert(args.begin(), EngineBinary());
  args.push_back("--threads");
  args.push_back("2");
  return RunProcess(args);
}

std::string Slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// A corpus of real text: a few fortune files when installed, else C headers; plus a binary.
std::string MakeCorpus(const std::string& dir) {
  fs::create_directories(dir + "/corpus");
  std::vector<std::string> sources;
  for (const char* f : {"/usr/share/games/fortunes/computers", "/usr/share/games/fortunes/linux",
                        "/usr/share/games/fortunes/science"}) {
    if (fs::exists(f)) sources.push_back(f);
  }
  for (const char* f : {"/usr/include/stdio.h", "/usr/include/stdlib.h", "/usr/include/string.h",
                        "/usr/include/unistd.h", "/usr/include/fcntl.h"}) {
    if (fs::exists(f)) sources.push_back(f);
  }
  for (const std::string& s : sources) {
    fs::copy_file(s, dir + "/corpus/" + fs::path(s).filename().string());
  }
  std::ofstream(dir + "/corpus/blob.bin", std::ios::binary) << std::string("\0\1\2\3\4", 5);
  return dir + "/corpus";
}

class CliLmData : public ::testing::Test {
 protected:
  void SetUp() override { dir_ = testing::MakeTempDir("cli-lm-data"); }
  void TearDown() override { fs::remove_all(dir_); }
  std::string dir_;
};

TEST_F(CliLmData, TokenizerThenDataWritesShards) {
  const std::string corpus = MakeCorpus(dir_);
  auto t = Engine({"lm", "tokenizer", "--input", corpus, "--vocab-size", "800", "-o", dir_ + "/tok",
                   "--max-sentences", "20000"});
  ASSERT_EQ(t.exit_code, 0) << t.err;
  EXPECT_NE(t.out.find("wrote " + dir_ + "/tok: 800 tokens"), std::string::npos) << t.out;
  EXPECT_NE(t.out.find("(1 skipped: binary or invalid UTF-8)"), std::string::npos) << t.out;
  ASSERT_TRUE(fs::exists(dir_ + "/tok/tokenizer.model"));
  const nlohmann::json tj = nlohmann::json::parse(Slurp(dir_ + "/tok/tokenizer.json"));
  EXPECT_EQ(tj["vocab_size"], 800);

  auto d = Engine({"lm", "data", "--input", corpus, "--tokenizer", dir_ + "/tok", "-o",
                   dir_ + "/data", "--val-fraction", "0.1", "--json", "--quiet"});
  ASSERT_EQ(d.exit_code, 0) << d.err;
  const nlohmann::json r = nlohmann::json::parse(d.out);
  EXPECT_GT(r["tokens_train"].get<uint64_t>(), 10000u);
  EXPECT_GT(r["documents_val"].get<int64_t>(), 0);
  EXPECT_EQ(r["dtype"], "uint16");
  const nlohmann::json index = nlohmann::json::parse(Slurp(dir_ + "/data/index.json"));
  EXPECT_EQ(index["vocab_size"], 800);
  EXPECT_EQ(index["tokenizer"]["dir"], dir_ + "/tok");
  EXPECT_EQ(index["cleaning"]["files_skipped_binary"], 1);
  EXPECT_EQ(fs::file_size(dir_ + "/data/train-00000.bin"),
            2 * index["splits"]["train"]["shards"][0]["n_tokens"].get<uint64_t>());

  // The human-readable report.
  auto h = Engine({"lm", "data", "--input", corpus, "--tokenizer", dir_ + "/tok", "-o",
                   dir_ + "/data2", "--quiet"});
  ASSERT_EQ(h.exit_code, 0) << h.err;
  EXPECT_NE(h.out.find("documents: "), std::string::npos) << h.out;
  EXPECT_NE(h.out.find("pii scrubbed: "), std::string::npos) << h.out;
}

TEST_F(CliLmData, BadInputsExitTwoWithOneLine) {
  const std::string corpus = MakeCorpus(dir_);
  // A missing input.
  auto r = Engine(
      {"lm", "tokenizer", "--input", dir_ + "/nope", "--vocab-size", "500", "-o", dir_ + "/tok"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err, "error: input '" + dir_ + "/nope' does not exist (give a text file or a " +
                       "directory)\n");
  EXPECT_FALSE(fs::exists(dir_ + "/tok"));
  // A tokenizer directory that is not there.
  r = Engine(
      {"lm", "data", "--input", corpus, "--tokenizer", dir_ + "/no-tok", "-o", dir_ + "/data"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err.rfind("error: tokenizer directory '" + dir_ + "/no-tok' does not exist", 0), 0u)
      << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1);
  // A validation fraction out of range.
  r = Engine({"lm", "data", "--input", corpus, "--tokenizer", dir_ + "/no-tok", "-o",
              dir_ + "/data", "--val-fraction", "0.7"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("--val-fraction must be in [0, 0.5]"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(dir_ + "/data"));
  // Nothing else left beside the corpus.
  int n = 0;
  for (const auto& e : fs::directory_iterator(dir_)) n += e.path().filename() != "corpus";
  EXPECT_EQ(n, 0);
}

}  // namespace
}  // namespace mle
