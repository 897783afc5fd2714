// ModelPool with room for one model: a request for another model waits a little for the loaded
// one to be released (a request that has just answered may still hold it), and answers
// Unavailable when it stays busy past the wait.
#include "server/llm_pool.h"

#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <future>
#include <thread>

#include "common/subprocess.h"

namespace mle::server {
namespace {

namespace fs = std::filesystem;
using std::chrono::milliseconds;

class ModelPoolTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = testing::MakeTempDir("model-pool");
    for (const char* m : {"tiny-llama-spm-Q8_0", "tiny-qwen2-bpe-Q8_0"}) {
      fs::create_symlink(std::string(MLE_SHARED_DIR) + "/testdata/models/" + m + ".gguf",
                         dir_ + "/" + m + ".gguf");
    }
    options_.models_dir = dir_;
    options_.max_loaded = 1;
    options_.scheduler.n_slots = 1;
    options_.scheduler.n_ctx = 64;
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string dir_;
  ModelPoolOptions options_;
};

TEST_F(ModelPoolTest, WaitsForTheLoadedModelToBeReleased) {
  options_.busy_wait = milliseconds(5000);
  ModelPool pool(options_);
  auto a = pool.Acquire("tiny-llama-spm-Q8_0");
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  std::shared_ptr<LoadedModel> held = std::move(*a);  // the only holder
  auto release = std::async(std::launch::async, [&held] {
    std::this_thread::sleep_for(milliseconds(200));
    held.reset();  // the first request finishes
  });
  const auto t0 = std::chrono::steady_clock::now();
  auto b = pool.Acquire("tiny-qwen2-bpe-Q8_0");
  ASSERT_TRUE(b.ok()) << b.status().ToString();
  EXPECT_GE(std::chrono::steady_clock::now() - t0, milliseconds(150)) << "it waited";
  EXPECT_EQ((*b)->name, "tiny-qwen2-bpe-Q8_0");
  ASSERT_EQ(pool.Loaded().size(), 1u);
  EXPECT_EQ(pool.Loaded()[0]->name, "tiny-qwen2-bpe-Q8_0");
  release.get();
}

TEST_F(ModelPoolTest, AModelBusyPastTheWaitIsUnavailable) {
  options_.busy_wait = milliseconds(100);
  ModelPool pool(options_);
  auto a = pool.Acquire("tiny-llama-spm-Q8_0");
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  const auto t0 = std::chrono::steady_clock::now();
  auto b = pool.Acquire("tiny-qwen2-bpe-Q8_0");  // `a` is still held
  ASSERT_FALSE(b.ok());
  EXPECT_EQ(b.status().code(), StatusCode::kUnavailable) << b.status().ToString();
  EXPECT_NE(b.status().message().find("llm.max_loaded_models"), std::string::npos);
  EXPECT_GE(std::chrono::steady_clock::now() - t0, milliseconds(100));
  // The same model is still served at once.
  auto again = pool.Acquire("tiny-llama-spm-Q8_0");
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->get(), a->get());
}

}  // namespace
}  // namespace mle::server
