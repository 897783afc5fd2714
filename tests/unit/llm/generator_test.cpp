// Generator, stop strings, chat sessions and synthetic models on the shared tiny models: greedy
// generation equals llama.cpp's greedy tokens, a later prompt reuses the cached prefix with
// the same result, stop strings are never emitted, and a synthesized model loads and runs.
#include "llm/generator.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>

#include "llm/chat_session.h"
#include "llm/synth.h"
#include "llm_test_util.h"

namespace mle::llm {
namespace {

using testing::LoadOrDie;
using testing::MakeContext;
using testing::ModelPath;
using testing::SharedPath;

TEST(StopStringFilter, HoldsBackPossibleStartsAndNeverEmitsTheStop) {
  StopStringFilter f({"</end>", "STOP"});
  bool stopped = false;
  EXPECT_EQ(f.Push("Hello <", &stopped), "Hello ");
  EXPECT_FALSE(stopped);
  EXPECT_EQ(f.Push("b>ST", &stopped), "<b>");
  EXPECT_EQ(f.Push("OP more", &stopped), "");
  EXPECT_TRUE(stopped);
  EXPECT_EQ(f.Push("later", &stopped), "");
  EXPECT_EQ(f.Flush(), "");

  StopStringFilter g({"xyz"});
  EXPECT_EQ(g.Push("abcxy", &stopped), "abc");
  EXPECT_EQ(g.Flush(), "xy");  // the end came before the stop was complete
}

struct RefCase {
  std::vector<TokenId> prompt, greedy;
  std::vector<float> margin;
};

RefCase ReadRef(const std::string& name, int index) {
  std::ifstream in(SharedPath("llamacpp-ref/" + name + ".json"));
  nlohmann::json j = nlohmann::json::parse(in);
  const auto& c = j["cases"][index];
  return {c["prompt_tokens"].get<std::vector<TokenId>>(), c["greedy"].get<std::vector<TokenId>>(),
          c["greedy_margin"].get<std::vector<float>>()};
}

// Greedy tokens must equal the reference up to the first step with a margin below 0.1.
size_t CheckedSteps(const RefCase& ref) {
  size_t n = 0;
  while (n < ref.margin.size() && ref.margin[n] >= 0.1f) ++n;
  return n;
}

TEST(Generator, GreedyMatchesLlamaCppAndReusesThePrefix) {
  auto model = LoadOrDie(ModelPath("tiny-llama-spm-F16.gguf"));
  ASSERT_TRUE(model);
  auto ctx = MakeContext(*model);
  Generator gen(*ctx);
  GenerateOptions o;
  o.sampling.temperature = 0;
  o.n_predict = 8;
  for (int c = 0; c < 3; ++c) {
    const RefCase ref = ReadRef("tiny-llama-spm-F16", c);
    auto st = gen.Generate(ref.prompt, o, nullptr);
    ASSERT_TRUE(st.ok()) << st.status().ToString();
    const size_t n = std::min<size_t>(CheckedSteps(ref), st->tokens.size());
    for (size_t i = 0; i < n; ++i) EXPECT_EQ(st->tokens[i], ref.greedy[i]) << "case " << c;
    // The same prompt again: all but the last prompt token come from the cache.
    auto again = gen.Generate(ref.prompt, o, nullptr);
    ASSERT_TRUE(again.ok());
    EXPECT_EQ(again->n_prompt_reused, static_cast<int32_t>(ref.prompt.size()) - 1);
    EXPECT_EQ(again->tokens, st->tokens);
  }
}

TEST(Generator, StopsAtStopStringsLimitsAndCancellation) {
  auto model = LoadOrDie(ModelPath("tiny-llama-spm-F16.gguf"));
  ASSERT_TRUE(model);
  auto ctx = MakeContext(*model);
  Generator gen(*ctx);
  const std::vector<TokenId> prompt = ReadRef("tiny-llama-spm-F16", 0).prompt;
  GenerateOptions o;
  o.sampling.temperature = 0;
  o.n_predict = 12;
  auto full = gen.Generate(prompt, o, nullptr);
  ASSERT_TRUE(full.ok());
  EXPECT_EQ(full->stop_reason, StopReason::kMaxTokens);
  EXPECT_EQ(full->n_generated, 12);
  ASSERT_GT(full->text.size(), 6u);
  // Stop at a piece of the greedy text: everything before it is streamed, nothing after.
  o.stop = {full->text.substr(4, 3)};
  std::string streamed;
  auto stopped = gen.Generate(prompt, o, [&](std::string_view p) {
    streamed += p;
    return true;
  });
  ASSERT_TRUE(stopped.ok());
  EXPECT_EQ(stopped->stop_reason, StopReason::kStopString);
  EXPECT_EQ(streamed, full->text.substr(0, full->text.find(o.stop[0])));
  o.stop.clear();
  auto cancelled = gen.Generate(prompt, o, [](std::string_view) { return false; });
  ASSERT_TRUE(cancelled.ok());
  EXPECT_EQ(cancelled->stop_reason, StopReason::kCancelled);
}

TEST(Generator, RejectsPromptsLongerThanTheContext) {
  auto model = LoadOrDie(ModelPath("tiny-llama-spm-F16.gguf"));
  ASSERT_TRUE(model);
  ContextOptions co;
  co.n_ctx = 16;
  auto ctx = MakeContext(*model, co);
  Generator gen(*ctx);
  auto r = gen.Generate(std::vector<TokenId>(17, 100), GenerateOptions{}, nullptr);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("17 tokens but the context holds 16"), std::string::npos);
  EXPECT_FALSE(gen.Generate({}, GenerateOptions{}, nullptr).ok());
  GenerateOptions bad;
  bad.sampling.top_p = 0;
  EXPECT_FALSE(gen.Generate({1, 2}, bad, nullptr).ok());
}

TEST(ChatSession, RendersTheTemplateAndNeedsOne) {
  auto qwen = LoadOrDie(ModelPath("tiny-qwen2-bpe-Q8_0.gguf"));
  ASSERT_TRUE(qwen);
  auto chat = ChatSession::Create(*qwen, "Be brief");
  ASSERT_TRUE(chat.ok()) << chat.status().ToString();
  auto ids = chat->PromptWithUser("Hi");
  ASSERT_TRUE(ids.ok());
  const std::string text = qwen->tokenizer().Detokenize(*ids, false, true);
  EXPECT_EQ(text,
            "<|im_start|>system\nBe brief<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n"
            "<|im_start|>assistant\n");
  auto llama = LoadOrDie(ModelPath("tiny-llama-spm-F16.gguf"));
  ASSERT_TRUE(llama);
  EXPECT_FALSE(ChatSession::Create(*llama, "").ok());
}

TEST(Synth, TinyShapeLoadsAndGenerates) {
  const std::string dir = ::testing::TempDir();
  SynthOptions o;
  o.shape = "tiny";
  o.type = "Q8_0";
  o.vocab_path = SharedPath("vocab/ggml-vocab-llama-spm.gguf");
  o.out_path = dir + "/synth-tiny.gguf";
  auto s = SynthesizeModel(o);
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ(s->shape.n_vocab, 32000);
  auto model = LoadOrDie(o.out_path);
  ASSERT_TRUE(model);
  auto ctx = MakeContext(*model);
  Generator gen(*ctx);
  GenerateOptions g;
  g.n_predict = 4;
  g.sampling.seed = 5;
  auto r = gen.Generate(model->tokenizer().Tokenize("Hello", true, false), g, nullptr);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->n_generated, 4);
  // The same seed writes the same bytes with any thread count.
  o.n_threads = 1;
  o.out_path = dir + "/synth-tiny-1.gguf";
  ASSERT_TRUE(SynthesizeModel(o).ok());
  EXPECT_EQ(std::filesystem::file_size(o.out_path),
            std::filesystem::file_size(dir + "/synth-tiny.gguf"));
  std::ifstream a(dir + "/synth-tiny.gguf", std::ios::binary), b(o.out_path, std::ios::binary);
  EXPECT_TRUE(std::equal(std::istreambuf_iterator<char>(a), {}, std::istreambuf_iterator<char>(b)));
  std::filesystem::remove(o.out_path);
  std::filesystem::remove(dir + "/synth-tiny.gguf");
}

TEST(Synth, BadInputIsOneClearError) {
  SynthOptions o;
  o.shape = "tinyllama-1.1b";
  o.vocab_path = SharedPath("vocab/ggml-vocab-qwen2.gguf");
  o.out_path = ::testing::TempDir() + "/never.gguf";
  o.type = "Q4_0";
  auto r = SynthesizeModel(o);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("ggml-vocab-llama-spm.gguf"), std::string::npos);
  o.shape = "nope";
  EXPECT_EQ(SynthesizeModel(o).status().code(), StatusCode::kNotFound);
  o.shape = "tiny";
  o.type = "Q5_9";
  EXPECT_FALSE(SynthesizeModel(o).ok());
  o.type = "Q4_0";
  o.arch = "qwen2";
  EXPECT_FALSE(SynthesizeModel(o).ok());
  EXPECT_FALSE(std::filesystem::exists(o.out_path));
}

}  // namespace
}  // namespace mle::llm
