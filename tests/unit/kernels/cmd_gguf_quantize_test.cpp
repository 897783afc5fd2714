// End-to-end test of `ml-engine gguf quantize`: runs the built binary on the shared F16 model
// and checks the output file, the exit codes, and the one-line errors for a bad type, a missing
// input and a non-GGUF input (none of which may leave an output file).
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

#include "kernels_test_util.h"

namespace mle::kernels {
namespace {

namespace fs = std::filesystem;

struct RunResult {
  int exit_code = -1;
  std::string out, err;
};

std::string Slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

class GgufQuantizeCliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("mle-quantize-cli-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    ASSERT_TRUE(fs::exists(Binary())) << Binary() << " is missing: build the ml-engine target";
  }
  void TearDown() override { fs::remove_all(dir_); }

  static std::string Binary() { return std::string(MLE_BINARY_DIR) + "/bin/ml-engine"; }
  std::string Path(const std::string& name) const { return (dir_ / name).string(); }

  // Runs `ml-engine gguf quantize ARGS` with stdout and stderr captured to files.
  RunResult Run(const std::string& args) const {
    const std::string cmd = "'" + Binary() + "' gguf quantize " + args + " >'" + Path("stdout") +
                            "' 2>'" + Path("stderr") + "'";
    RunResult r;
    const int status = std::system(cmd.c_str());
    r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    r.out = Slurp(Path("stdout"));
    r.err = Slurp(Path("stderr"));
    return r;
  }

  fs::path dir_;
};

size_t Lines(const std::string& s) {
  return std::count(s.begin(), s.end(), '\n');
}

TEST_F(GgufQuantizeCliTest, QuantizesSharedModelToQ4_K_M) {
  const std::string in = testing::ModelPath("tiny-llama-spm-F16.gguf");
  const RunResult r = Run("'" + in + "' '" + Path("out.gguf") + "' q4_k_m");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.err, "");
  EXPECT_NE(r.out.find("blk.3.attn_v.weight"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("wrote "), std::string::npos) << r.out;
  auto out = testing::OpenOrDie(Path("out.gguf"));
  auto ref = testing::OpenOrDie(testing::ModelPath("tiny-llama-spm-Q4_K_M.gguf"));
  ASSERT_TRUE(out && ref);
  ASSERT_EQ(out->tensors().size(), ref->tensors().size());
  for (size_t i = 0; i < ref->tensors().size(); ++i) {
    EXPECT_EQ(out->tensors()[i].name, ref->tensors()[i].name);
    EXPECT_EQ(out->tensors()[i].type, ref->tensors()[i].type) << ref->tensors()[i].name;
  }
  EXPECT_EQ(out->GetUint("general.file_type").value(), 15u);
}

TEST_F(GgufQuantizeCliTest, UnknownTypeIsOneLineListingTheTypes) {
  const std::string in = testing::ModelPath("tiny-llama-spm-F16.gguf");
  const RunResult r = Run("'" + in + "' '" + Path("out.gguf") + "' Q3_K_M");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(Lines(r.err), 1u) << r.err;
  EXPECT_NE(r.err.find("Q8_0, Q4_0, Q4_K_M, Q6_K, F16, BF16"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(Path("out.gguf")));
}

TEST_F(GgufQuantizeCliTest, BadInputsAreOneLineErrors) {
  RunResult r = Run("'" + Path("missing.gguf") + "' '" + Path("out.gguf") + "' Q8_0");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(Lines(r.err), 1u) << r.err;
  EXPECT_NE(r.err.find("missing.gguf"), std::string::npos) << r.err;
  std::ofstream(Path("notes.txt")) << "not a model";
  r = Run("'" + Path("notes.txt") + "' '" + Path("out.gguf") + "' Q8_0");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(Lines(r.err), 1u) << r.err;
  EXPECT_FALSE(fs::exists(Path("out.gguf")));
  r = Run("'" + Path("notes.txt") + "'");  // missing arguments: usage error
  EXPECT_EQ(r.exit_code, 2);
}

}  // namespace
}  // namespace mle::kernels
