// Bad input gives one clear Status and no crash: truncated file, unknown architecture, missing
// or mis-shaped tensor, n_ctx beyond training, bad batches (position beyond n_ctx, token or
// sequence id out of range, gaps) that leave the cache untouched. Also the resident-memory
// bound: load + decode costs at most file size + KV cache + 64 MiB.
#include <gtest/gtest.h>

#include <fstream>

#include "llm_test_util.h"

namespace mle::llm {
namespace {

using testing::ModelPath;

const std::string kF16 = "tiny-llama-spm-F16.gguf";

// Copies `src` with `edit` applied to the writer (metadata) and tensors filtered / replaced.
Status WriteModified(const gguf::GgufFile& src, const std::string& dst,
                     const std::function<void(gguf::GgufWriter&)>& edit_meta,
                     const std::function<bool(const gguf::TensorInfo&)>& keep,
                     const std::string& swap_from = "", const std::string& swap_into = "") {
  gguf::GgufWriter w;
  for (const gguf::KeyValue& kv : src.metadata()) w.Set(kv.key, kv.value);
  edit_meta(w);
  for (const gguf::TensorInfo& t : src.tensors()) {
    if (!keep(t)) continue;
    const gguf::TensorInfo* data = t.name == swap_into ? src.FindTensor(swap_from) : &t;
    MLE_RETURN_IF_ERROR(
        w.AddTensor(t.name, data->dims, data->type, src.TensorData(*data), data->size_bytes));
  }
  return w.WriteFile(dst);
}

class ModelErrorsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto f = gguf::GgufFile::Open(ModelPath(kF16));
    ASSERT_TRUE(f.ok()) << f.status().ToString();
    src_ = std::move(f).value();
  }
  std::string LoadError(const std::string& path) {
    auto m = Model::Load(path, LoadOptions{});
    EXPECT_FALSE(m.ok());
    return m.ok() ? "" : m.status().message();
  }
  std::unique_ptr<gguf::GgufFile> src_;
  testing::TempDir dir_;
};

TEST_F(ModelErrorsTest, TruncatedFile) {
  std::ifstream in(ModelPath(kF16), std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), {});
  const std::string path = dir_.File("trunc.gguf");
  std::ofstream(path, std::ios::binary).write(bytes.data(), bytes.size() / 2);
  const std::string msg = LoadError(path);
  EXPECT_NE(msg.find("trunc.gguf"), std::string::npos) << msg;
}

TEST_F(ModelErrorsTest, MissingFile) {
  EXPECT_FALSE(LoadError(dir_.File("nope.gguf")).empty());
}

TEST_F(ModelErrorsTest, UnknownArchitectureNamesItAndTheSupportedOnes) {
  const std::string path = dir_.File("arch.gguf");
  ASSERT_TRUE(WriteModified(
                  *src_, path,
                  [](gguf::GgufWriter& w) { w.SetString("general.architecture", "mamba"); },
                  [](const gguf::TensorInfo&) { return true; })
                  .ok());
  const std::string msg = LoadError(path);
  EXPECT_NE(msg.find("unsupported architecture 'mamba'"), std::string::npos) << msg;
  EXPECT_NE(msg.find("llama, qwen2, phi3, gemma3"), std::string::npos) << msg;
}

TEST_F(ModelErrorsTest, MissingTensorIsNamed) {
  const std::string path = dir_.File("missing.gguf");
  ASSERT_TRUE(WriteModified(
                  *src_, path, [](gguf::GgufWriter&) {},
                  [](const gguf::TensorInfo& t) { return t.name != "blk.1.ffn_down.weight"; })
                  .ok());
  const std::string msg = LoadError(path);
  EXPECT_NE(msg.find("'blk.1.ffn_down.weight' is missing"), std::string::npos) << msg;
}

TEST_F(ModelErrorsTest, WrongShapeIsNamed) {
  const std::string path = dir_.File("shape.gguf");
  ASSERT_TRUE(WriteModified(
                  *src_, path, [](gguf::GgufWriter&) {},
                  [](const gguf::TensorInfo&) { return true; }, "blk.2.attn_q.weight",
                  "blk.2.attn_k.weight")
                  .ok());
  const std::string msg = LoadError(path);
  EXPECT_NE(msg.find("'blk.2.attn_k.weight' has shape [256, 256], expected [256, 128]"),
            std::string::npos)
      << msg;
}

TEST_F(ModelErrorsTest, MissingHyperparameterIsNamed) {
  const std::string path = dir_.File("hp.gguf");
  ASSERT_TRUE(WriteModified(
                  *src_, path, [](gguf::GgufWriter& w) { w.Remove("llama.block_count"); },
                  [](const gguf::TensorInfo&) { return true; })
                  .ok());
  const std::string msg = LoadError(path);
  EXPECT_NE(msg.find("llama.block_count"), std::string::npos) << msg;
}

TEST_F(ModelErrorsTest, ContextLargerThanTrainingIsRejected) {
  auto model = testing::LoadOrDie(ModelPath(kF16));
  ASSERT_NE(model, nullptr);
  auto c = Context::Create(*model, ContextOptions{.n_ctx = 1024});
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(c.status().message().find("exceeds the model's training context of 512"),
            std::string::npos)
      << c.status().message();
  EXPECT_FALSE(Context::Create(*model, ContextOptions{.n_seq_max = 0}).ok());
  EXPECT_FALSE(Context::Create(*model, ContextOptions{.n_batch = -1}).ok());
}

TEST_F(ModelErrorsTest, BadBatchesAreRejectedAndLeaveTheCacheUntouched) {
  auto model = testing::LoadOrDie(ModelPath(kF16));
  ASSERT_NE(model, nullptr);
  auto ctx =
      testing::MakeContext(*model, ContextOptions{.n_ctx = 16, .n_seq_max = 2, .n_batch = 8});
  const std::vector<TokenId> prompt = {1, 450, 4996, 17354, 1701};
  const auto ref = testing::RunPrompt(*ctx, prompt);
  ctx->SeqTruncate(0, 3);
  const int32_t V = model->hparams().n_vocab;
  auto expect_bad = [&](Batch b, const std::string& what) {
    const Status s = ctx->Decode(b);
    EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << what;
    EXPECT_NE(s.message().find(what), std::string::npos) << s.message();
    EXPECT_EQ(ctx->SeqLength(0), 3);
    EXPECT_EQ(ctx->SeqLength(1), 0);
  };
  // Each bad batch starts with a valid entry, which must not be stored either.
  auto with = [&](TokenId t, int32_t p, int32_t s) {
    Batch b;
    b.Add(prompt[3], 3, 0, true);
    b.Add(t, p, s, true);
    return b;
  };
  expect_bad(with(V, 4, 0), "token id 32000 is outside the vocabulary");
  expect_bad(with(-1, 4, 0), "token id -1");
  expect_bad(with(5, 0, 2), "sequence id 2 is outside [0, 2)");
  expect_bad(with(5, 0, -1), "sequence id -1");
  expect_bad(with(5, 5, 0), "position 5 of sequence 0 is not the next one (expected 4)");
  expect_bad(with(5, 16, 0), "position 16 is beyond the context of 16 tokens");
  expect_bad(Batch{}, "empty batch");
  Batch big;
  for (int i = 0; i < 9; ++i) big.Add(5, i, 1, false);
  expect_bad(big, "exceeds n_batch 8");
  // The cache still holds positions [0, 3): decoding the rest reproduces the logits.
  const auto again = testing::RunPrompt(*ctx, {prompt.begin() + 3, prompt.end()});
  EXPECT_LE(testing::MaxDiffOverRms({ref.begin() + 3, ref.end()}, again), 1e-3);
  // Filling the context exactly works; one more position does not.
  ctx->SeqTruncate(0, 0);
  std::vector<TokenId> full(16, 450);
  testing::RunPrompt(*ctx, full, 0, 8);
  EXPECT_EQ(ctx->SeqLength(0), 16);
  Batch over;
  over.Add(450, 16, 0, true);
  EXPECT_FALSE(ctx->Decode(over).ok());
}

long VmRssKiB() {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6));
  }
  return -1;
}

TEST(ModelMemoryTest, ResidentSizeWithinFilePlusKvPlus64MiB) {
  const long before = VmRssKiB();
  ASSERT_GT(before, 0);
  auto model = testing::LoadOrDie(ModelPath(kF16));
  ASSERT_NE(model, nullptr);
  auto ctx = testing::MakeContext(*model, ContextOptions{.n_ctx = 512, .n_batch = 512});
  std::vector<TokenId> prompt(200, 450);
  Batch b;
  for (int i = 0; i < 200; ++i) b.Add(prompt[i], i, 0, i == 199);
  ASSERT_TRUE(ctx->Decode(b).ok());
  const long after = VmRssKiB();
  const long bound =
      static_cast<long>((model->file().file_size() + ctx->kv_bytes()) >> 10) + 64 * 1024;
  std::printf("[mem] resident growth %ld KiB (file %lu KiB, KV %lu KiB, bound %ld KiB)\n",
              after - before, static_cast<unsigned long>(model->file().file_size() >> 10),
              static_cast<unsigned long>(ctx->kv_bytes() >> 10), bound);
  EXPECT_LE(after - before, bound);
}

}  // namespace
}  // namespace mle::llm
