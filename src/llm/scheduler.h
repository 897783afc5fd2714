// Scheduler: continuous batching for one loaded model. One thread owns a Context with n_slots
// sequences. Each step it admits queued requests into free slots, builds ONE batch from every
// active slot (a prompt chunk for slots still prefilling, one token for slots decoding), runs
// one forward pass, samples each slot's next token, streams its text and retires finished or
// cancelled requests. A finished slot keeps its KV cache: a later request of the same cache
// key (tenant) whose prompt starts with the same tokens reuses it (prefix cache; the least
// recently used slot is overwritten first). Thread-safe: Submit from any thread; callbacks
// run on the scheduler thread and must be quick.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "core/status.h"
#include "llm/generator.h"
#include "llm/model.h"

namespace mle::llm {

struct SchedulerOptions {
  int32_t n_slots = 4;    // sequences decoded together
  int32_t n_ctx = 0;      // tokens per slot; 0 = min(n_ctx_train, 4096)
  int32_t n_batch = 512;  // tokens per forward pass
  int32_t n_threads = 0;  // 0 = hardware threads
  KvType kv_type = KvType::kF16;
  size_t max_queued = 64;  // waiting requests beyond this: Unavailable (HTTP 503)
};

struct RequestTimings {
  double queue_ms = 0;   // submit -> admitted into a slot
  double ttft_ms = 0;    // submit -> first token sampled
  double prompt_ms = 0;  // admitted -> first token (prefill of the uncached part)
  double gen_ms = 0;     // first token -> done
};

struct SeqRequest {
  std::vector<TokenId> prompt;
  GenerateOptions gen;    // n_predict, stop, sampling, render_special (gen.cancel unused)
  std::string cache_key;  // prefix-cache tenant: slots are reused only within one key
  std::shared_ptr<std::atomic<bool>> cancel = std::make_shared<std::atomic<bool>>(false);
  // Queued longer than this: DeadlineExceeded. Zero = no limit.
  std::chrono::milliseconds queue_timeout{0};
  // Each newly completed piece of text and the token that completed it; false cancels.
  std::function<bool(std::string_view piece)> on_piece;
  // With gen.n_logprobs >= 0: each generated token's log-probabilities, before its piece.
  std::function<void(const TokenLogprob& lp)> on_logprob;
  // Exactly once: OK with the stats (stop_reason says why it ended), or the error.
  std::function<void(const Status& status, const GenerateStats& stats,
                     const RequestTimings& timings)>
      on_done;
};

class Scheduler {
 public:
  // Errors: the Context's (n_ctx above the model's, memory).
  static Result<std::unique_ptr<Scheduler>> Create(const Model& model, SchedulerOptions options);
  // Finishes queued requests with Unavailable and active ones as cancelled, joins the thread.
  ~Scheduler();
  Scheduler(const Scheduler&) = delete;
  Scheduler& operator=(const Scheduler&) = delete;

  // Queues a request. Errors (on_done is then NOT called): InvalidArgument for an empty
  // prompt, a prompt that does not fit the context (names n_prompt_tokens and n_ctx), bad
  // sampling parameters; Unavailable when the queue is full or the scheduler is stopping.
  Status Submit(std::shared_ptr<SeqRequest> request);

  struct Stats {
    int64_t queued = 0;
    int64_t active = 0;
    int32_t n_slots = 0;
    int64_t kv_tokens = 0;        // positions held in the KV cache, over all slots
    int64_t kv_capacity = 0;      // n_slots * n_ctx
    int64_t prefix_lookups = 0;   // admitted requests
    int64_t prefix_hits = 0;      // of which reused a cached prefix
    int64_t tokens_cached = 0;    // prompt tokens served from the cache
    int64_t tokens_prompted = 0;  // prompt tokens prefilled
    int64_t tokens_generated = 0;
    int64_t steps = 0;  // forward passes
  };
  Stats stats() const;
  const Model& model() const { return model_; }
  int32_t n_ctx() const { return n_ctx_; }
  uint64_t kv_bytes() const;

 private:
  struct Slot;
  Scheduler(const Model& model, SchedulerOptions options, std::unique_ptr<Context> ctx);
  void Loop();
  void Admit(std::unique_lock<std::mutex>& lock);
  bool Step();  // one forward pass over the active slots; false when none was active
  void Sample(Slot& slot, const float* logits);
  void Finish(Slot& slot, Status status, StopReason reason);

  const Model& model_;
  SchedulerOptions options_;
  std::unique_ptr<Context> ctx_;
  int32_t n_ctx_;
  std::vector<std::unique_ptr<Slot>> slots_;  // touched by the scheduler thread only

  mutable std::mutex mu_;
  std::condition_variable cv_;
  struct Queued {
    std::shared_ptr<SeqRequest> request;
    std::chrono::steady_clock::time_point submitted;
  };
  std::deque<Queued> queue_;
  bool stopping_ = false;
  Stats stats_;  // guarded by mu_
  std::thread thread_;
};

}  // namespace mle::llm
