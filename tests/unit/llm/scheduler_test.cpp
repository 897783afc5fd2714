// Continuous batching: requests served together give the tokens they give alone (greedy), a
// repeated prompt reuses its cached prefix with identical output and only within one tenant,
// cancellation frees the slot at the next step, the queue is bounded, and prompts that do not
// fit are refused with both lengths.
#include "llm/scheduler.h"

#include <gtest/gtest.h>

#include <future>

#include "llm_test_util.h"

namespace mle::llm {
namespace {

using testing::LoadOrDie;
using testing::ModelPath;

struct Outcome {
  Status status;
  GenerateStats stats;
  RequestTimings timings;
  std::string streamed;
};

// Submits a greedy request; the future resolves when it is done.
std::future<Outcome> Submit(Scheduler& s, std::vector<TokenId> prompt, int n_predict,
                            std::string key = "",
                            std::shared_ptr<std::atomic<bool>> cancel = nullptr,
                            std::vector<std::string> stop = {}) {
  auto promise = std::make_shared<std::promise<Outcome>>();
  auto out = std::make_shared<Outcome>();
  auto r = std::make_shared<SeqRequest>();
  r->prompt = std::move(prompt);
  r->gen.n_predict = n_predict;
  r->gen.sampling.temperature = 0;
  r->gen.stop = std::move(stop);
  r->cache_key = std::move(key);
  if (cancel) r->cancel = cancel;
  r->on_piece = [out](std::string_view piece) {
    out->streamed += piece;
    return true;
  };
  r->on_done = [promise, out](const Status& st, const GenerateStats& stats,
                              const RequestTimings& t) {
    out->status = st;
    out->stats = stats;
    out->timings = t;
    promise->set_value(*out);
  };
  Status st = s.Submit(r);
  if (!st.ok()) {
    Outcome o;
    o.status = st;
    promise->set_value(o);
  }
  return promise->get_future();
}

std::vector<TokenId> Prompt(const Model& m, const std::string& text) {
  return m.tokenizer().Tokenize(text, true, false);
}

class SchedulerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    model_ = LoadOrDie(ModelPath("tiny-llama-spm-Q8_0.gguf"));
    ASSERT_NE(model_, nullptr);
  }
  std::unique_ptr<Scheduler> Make(int slots, int n_ctx = 256, size_t max_queued = 64,
                                  int n_batch = 64) {
    SchedulerOptions o;
    o.n_slots = slots;
    o.n_ctx = n_ctx;
    o.n_threads = 2;
    o.n_batch = n_batch;
    o.max_queued = max_queued;
    auto s = Scheduler::Create(*model_, o);
    EXPECT_TRUE(s.ok()) << s.status().ToString();
    return s.ok() ? std::move(s).value() : nullptr;
  }
  std::unique_ptr<Model> model_;
};

TEST_F(SchedulerTest, ConcurrentRequestsGiveTheirSoloTokens) {
  const std::vector<std::string> texts = {"Once upon a time", "The capital of France is",
                                          "1, 2, 3, 4,", "In a hole in the ground there lived"};
  // Alone, one at a time, through the plain Generator.
  std::vector<std::vector<TokenId>> solo;
  for (const auto& t : texts) {
    auto ctx = testing::MakeContext(*model_);
    Generator g(*ctx);
    GenerateOptions o;
    o.n_predict = 24;
    o.sampling.temperature = 0;
    auto r = g.Generate(Prompt(*model_, t), o, nullptr);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    solo.push_back(r->tokens);
  }
  // Together, in one scheduler with a small batch so prefill chunks mix with decodes.
  auto s = Make(4, 256, 64, /*n_batch=*/8);
  std::vector<std::future<Outcome>> futures;
  for (const auto& t : texts) futures.push_back(Submit(*s, Prompt(*model_, t), 24));
  for (size_t i = 0; i < texts.size(); ++i) {
    Outcome o = futures[i].get();
    ASSERT_TRUE(o.status.ok()) << o.status.ToString();
    EXPECT_EQ(o.stats.tokens, solo[i]) << texts[i];
    EXPECT_EQ(o.streamed, o.stats.text);
    EXPECT_EQ(o.stats.stop_reason, StopReason::kMaxTokens);
    EXPECT_GT(o.timings.ttft_ms, 0);
  }
  const auto st = s->stats();
  EXPECT_EQ(st.tokens_generated, 4 * 24);
  EXPECT_LT(st.steps, 4 * 24) << "requests must share forward passes";
  EXPECT_EQ(st.active, 0);
}

TEST_F(SchedulerTest, PrefixCacheReusesOnlyWithinATenantAndKeepsTheOutput) {
  auto s = Make(2);
  const auto prompt = Prompt(*model_, "The quick brown fox jumps over the lazy dog because");
  Outcome first = Submit(*s, prompt, 16, "tenant-a").get();
  ASSERT_TRUE(first.status.ok());
  EXPECT_EQ(first.stats.n_prompt_reused, 0);
  Outcome again = Submit(*s, prompt, 16, "tenant-a").get();
  EXPECT_EQ(again.stats.n_prompt_reused, static_cast<int32_t>(prompt.size()) - 1);
  EXPECT_EQ(again.stats.tokens, first.stats.tokens);
  Outcome other = Submit(*s, prompt, 16, "tenant-b").get();
  EXPECT_EQ(other.stats.n_prompt_reused, 0) << "tenants never share cache";
  EXPECT_EQ(other.stats.tokens, first.stats.tokens);
  const auto st = s->stats();
  EXPECT_EQ(st.prefix_lookups, 3);
  EXPECT_EQ(st.prefix_hits, 1);
}

TEST_F(SchedulerTest, CancelStopsWithinAStepAndFreesTheSlot) {
  auto s = Make(1);
  auto cancel = std::make_shared<std::atomic<bool>>(false);
  auto long_run = Submit(*s, Prompt(*model_, "Count forever:"), -1, "", cancel);
  // Let it start, then cancel; the slot must be free for the next request.
  while (s->stats().tokens_generated < 3) std::this_thread::yield();
  cancel->store(true);
  Outcome o = long_run.get();
  EXPECT_TRUE(o.status.ok());
  EXPECT_EQ(o.stats.stop_reason, StopReason::kCancelled);
  const int64_t at_cancel = s->stats().tokens_generated;
  Outcome next = Submit(*s, Prompt(*model_, "Hello"), 4).get();
  EXPECT_TRUE(next.status.ok());
  EXPECT_EQ(next.stats.n_generated, 4);
  EXPECT_LE(s->stats().tokens_generated, at_cancel + 4);
}

TEST_F(SchedulerTest, TooLongPromptsFullQueuesAndStopsAreReported) {
  auto s = Make(1, /*n_ctx=*/32, /*max_queued=*/1);
  std::vector<TokenId> long_prompt(40, 100);
  Outcome o = Submit(*s, long_prompt, 4).get();
  EXPECT_EQ(o.status.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(o.status.message().find("n_prompt_tokens=40"), std::string::npos);
  EXPECT_NE(o.status.message().find("n_ctx=32"), std::string::npos);
  EXPECT_EQ(Submit(*s, {}, 4).get().status.code(), StatusCode::kInvalidArgument);

  // One running (until cancelled), one queued, the third refused.
  auto cancel = std::make_shared<std::atomic<bool>>(false);
  auto a = Submit(*s, Prompt(*model_, "a"), -1, "", cancel);
  while (s->stats().active == 0) std::this_thread::yield();
  auto b = Submit(*s, Prompt(*model_, "b"), 2);
  Outcome c = Submit(*s, Prompt(*model_, "c"), 2).get();
  EXPECT_EQ(c.status.code(), StatusCode::kUnavailable) << c.status.ToString();
  cancel->store(true);
  EXPECT_TRUE(a.get().status.ok());
  EXPECT_TRUE(b.get().status.ok());

  // A context that fills up ends the request, it does not fail it.
  Outcome full = Submit(*s, Prompt(*model_, "Once upon a time"), -1).get();
  EXPECT_TRUE(full.status.ok());
  EXPECT_EQ(full.stats.stop_reason, StopReason::kContextFull);
}

TEST_F(SchedulerTest, StopStringsEndTheRequestAndAreNotStreamed) {
  auto s = Make(1);
  const auto prompt = Prompt(*model_, "Once upon a time");
  Outcome plain = Submit(*s, prompt, 24).get();
  ASSERT_TRUE(plain.status.ok());
  ASSERT_GE(plain.stats.text.size(), 6u);
  const std::string stop = plain.stats.text.substr(3, 3);
  Outcome o = Submit(*s, prompt, 24, "", nullptr, {stop}).get();
  EXPECT_EQ(o.stats.stop_reason, StopReason::kStopString);
  EXPECT_EQ(o.streamed, plain.stats.text.substr(0, plain.stats.text.find(stop)));
}

}  // namespace
}  // namespace mle::llm
