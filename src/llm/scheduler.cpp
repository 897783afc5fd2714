#include "llm/scheduler.h"

#include <algorithm>

namespace mle::llm {
namespace {

using Clock = std::chrono::steady_clock;

double MsBetween(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double, std::milli>(b - a).count();
}

}  // namespace

struct Scheduler::Slot {
  int32_t id = 0;
  // What the slot's KV cache holds (kept after a request ends, for prefix reuse).
  std::vector<TokenId> cached;
  std::string cache_key;
  Clock::time_point last_used;

  // The request being served (null: free).
  std::shared_ptr<SeqRequest> req;
  size_t n_prompt_done = 0;  // prompt tokens in the cache
  bool decoding = false;     // the prompt is in; `pending` is the next token to decode
  TokenId pending = 0;
  std::unique_ptr<Sampler> sampler;
  std::unique_ptr<text::StreamDetokenizer> detok;
  std::unique_ptr<StopStringFilter> filter;
  GenerateStats st;
  RequestTimings timings;
  Clock::time_point submitted, admitted, first_token;
};

Result<std::unique_ptr<Scheduler>> Scheduler::Create(const Model& model, SchedulerOptions o) {
  if (o.n_slots < 1 || o.n_slots > 256) {
    return InvalidArgument("n_slots must be 1..256, got " + std::to_string(o.n_slots));
  }
  ContextOptions co;
  co.n_ctx = o.n_ctx;
  co.n_seq_max = o.n_slots;
  co.n_batch = std::max(1, o.n_batch);
  co.n_threads = o.n_threads;
  co.kv_type = o.kv_type;
  MLE_ASSIGN_OR_RETURN(auto ctx, Context::Create(model, co));
  return std::unique_ptr<Scheduler>(new Scheduler(model, o, std::move(ctx)));
}

Scheduler::Scheduler(const Model& model, SchedulerOptions options, std::unique_ptr<Context> ctx)
    : model_(model), options_(options), ctx_(std::move(ctx)), n_ctx_(ctx_->n_ctx()) {
  for (int32_t i = 0; i < options_.n_slots; ++i) {
    auto s = std::make_unique<Slot>();
    s->id = i;
    slots_.push_back(std::move(s));
  }
  stats_.n_slots = options_.n_slots;
  stats_.kv_capacity = static_cast<int64_t>(options_.n_slots) * n_ctx_;
  thread_ = std::thread([this] { Loop(); });
}

Scheduler::~Scheduler() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

uint64_t Scheduler::kv_bytes() const {
  return ctx_->kv_bytes();
}

Scheduler::Stats Scheduler::stats() const {
  std::lock_guard<std::mutex> lock(mu_);
  Stats s = stats_;
  s.queued = static_cast<int64_t>(queue_.size());
  return s;
}

Status Scheduler::Submit(std::shared_ptr<SeqRequest> r) {
  MLE_RETURN_IF_ERROR(ValidateSamplingParams(r->gen.sampling));
  if (r->prompt.empty()) return InvalidArgument("the prompt is empty (give some text)");
  const int32_t n_vocab = model_.hparams().n_vocab;
  for (TokenId t : r->prompt) {
    if (t < 0 || t >= n_vocab) {
      return InvalidArgument("token id " + std::to_string(t) + " is outside the vocabulary (0.." +
                             std::to_string(n_vocab - 1) + ")");
    }
  }
  if (r->prompt.size() > static_cast<size_t>(n_ctx_)) {
    return InvalidArgument(
        "the prompt has " + std::to_string(r->prompt.size()) + " tokens but the context holds " +
        std::to_string(n_ctx_) + " (n_prompt_tokens=" + std::to_string(r->prompt.size()) +
        ", n_ctx=" + std::to_string(n_ctx_) + "; shorten the prompt or raise the context size)");
  }
  if (r->gen.n_predict < -1) {
    return InvalidArgument("max_tokens must be >= -1, got " + std::to_string(r->gen.n_predict));
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_) return Unavailable("the model is being unloaded; retry");
    if (queue_.size() >= options_.max_queued) {
      return Unavailable(std::to_string(queue_.size()) +
                         " requests are already waiting for this model; retry shortly");
    }
    queue_.push_back({std::move(r), Clock::now()});
  }
  cv_.notify_one();
  return Status::Ok();
}

void Scheduler::Admit(std::unique_lock<std::mutex>& lock) {
  const auto now = Clock::now();
  // Requests that waited too long or were cancelled while queued leave the queue first.
  for (auto it = queue_.begin(); it != queue_.end();) {
    SeqRequest& r = *it->request;
    const bool expired = r.queue_timeout.count() > 0 && now - it->submitted > r.queue_timeout;
    if (!expired && !r.cancel->load()) {
      ++it;
      continue;
    }
    auto req = it->request;
    const double waited = MsBetween(it->submitted, now);
    it = queue_.erase(it);
    lock.unlock();
    GenerateStats st;
    st.stop_reason = StopReason::kCancelled;
    RequestTimings t;
    t.queue_ms = waited;
    if (req->on_done) {
      req->on_done(expired ? DeadlineExceeded("waited " + std::to_string(static_cast<int>(waited)) +
                                              " ms in the queue for a free slot; retry later")
                           : Status::Ok(),
                   st, t);
    }
    lock.lock();
  }
  while (!queue_.empty()) {
    // A free slot: the one sharing the longest prefix with the prompt (same tenant), else
    // the least recently used.
    Slot* best = nullptr;
    size_t best_common = 0;
    const auto& prompt = queue_.front().request->prompt;
    const std::string& key = queue_.front().request->cache_key;
    for (auto& s : slots_) {
      if (s->req) continue;
      size_t common = 0;
      if (s->cache_key == key) {
        while (common < s->cached.size() && common < prompt.size() &&
               s->cached[common] == prompt[common]) {
          ++common;
        }
      }
      if (!best || common > best_common ||
          (common == best_common && s->last_used < best->last_used)) {
        best = s.get();
        best_common = common;
      }
    }
    if (!best) return;
    Queued q = std::move(queue_.front());
    queue_.pop_front();
    Slot& s = *best;
    // At least the last prompt token is decoded again, for its logits.
    const size_t n_common = std::min(best_common, q.request->prompt.size() - 1);
    ctx_->SeqTruncate(s.id, static_cast<int32_t>(n_common));
    s.cached.resize(n_common);
    s.cache_key = key;
    s.req = q.request;
    s.n_prompt_done = n_common;
    s.decoding = false;
    s.sampler = std::make_unique<Sampler>(s.req->gen.sampling, n_ctx_);
    for (TokenId t : s.req->prompt) s.sampler->Accept(t);
    s.detok = std::make_unique<text::StreamDetokenizer>(model_.tokenizer(),
                                                        s.req->gen.render_special, false);
    s.filter = std::make_unique<StopStringFilter>(s.req->gen.stop);
    s.st = GenerateStats{};
    s.st.n_prompt_tokens = static_cast<int32_t>(s.req->prompt.size());
    s.st.n_prompt_reused = static_cast<int32_t>(n_common);
    s.st.seed = s.sampler->seed();
    s.timings = RequestTimings{};
    s.submitted = q.submitted;
    s.admitted = Clock::now();
    s.timings.queue_ms = MsBetween(s.submitted, s.admitted);
    ++stats_.active;
    ++stats_.prefix_lookups;
    if (n_common > 0) ++stats_.prefix_hits;
    stats_.tokens_cached += static_cast<int64_t>(n_common);
  }
}

void Scheduler::Loop() {
  std::unique_lock<std::mutex> lock(mu_);
  for (;;) {
    cv_.wait(lock, [this] { return stopping_ || !queue_.empty() || stats_.active > 0; });
    if (stopping_) break;
    Admit(lock);
    lock.unlock();
    Step();
    lock.lock();
  }
  // Stopping: queued requests are refused, active ones end as cancelled.
  std::deque<Queued> queued;
  queued.swap(queue_);
  lock.unlock();
  for (auto& q : queued) {
    if (q.request->on_done) {
      q.request->on_done(Unavailable("the model was unloaded before the request started"), {}, {});
    }
  }
  for (auto& s : slots_) {
    if (s->req) Finish(*s, Status::Ok(), StopReason::kCancelled);
  }
}

bool Scheduler::Step() {
  // Cancelled requests leave before any compute is spent on them.
  for (auto& s : slots_) {
    if (s->req && s->req->cancel->load(std::memory_order_relaxed)) {
      Finish(*s, Status::Ok(), StopReason::kCancelled);
    }
  }
  Batch batch;
  std::vector<std::pair<Slot*, size_t>> taken;  // slot, tokens added this step
  std::vector<Slot*> with_logits;
  int32_t budget = ctx_->n_batch();
  for (auto& s : slots_) {  // decoding slots first: one token each keeps latency low
    if (!s->req || !s->decoding || budget == 0) continue;
    batch.Add(s->pending, static_cast<int32_t>(s->cached.size()), s->id, true);
    taken.emplace_back(s.get(), 1);
    with_logits.push_back(s.get());
    --budget;
  }
  for (auto& s : slots_) {
    if (!s->req || s->decoding || budget == 0) continue;
    const auto& prompt = s->req->prompt;
    const size_t n = std::min(prompt.size() - s->n_prompt_done, static_cast<size_t>(budget));
    for (size_t i = 0; i < n; ++i) {
      const size_t idx = s->n_prompt_done + i;
      batch.Add(prompt[idx], static_cast<int32_t>(idx), s->id, idx + 1 == prompt.size());
    }
    if (s->n_prompt_done + n == prompt.size()) with_logits.push_back(s.get());
    taken.emplace_back(s.get(), n);
    budget -= static_cast<int32_t>(n);
  }
  if (batch.size() == 0) return false;
  Status st = ctx_->Decode(batch);
  if (!st.ok()) {
    for (auto& [slot, n] : taken) Finish(*slot, st, StopReason::kCancelled);
    return true;
  }
  int64_t prompted = 0;
  for (auto& [slot, n] : taken) {
    if (slot->decoding) {
      slot->cached.push_back(slot->pending);
      continue;
    }
    const auto& prompt = slot->req->prompt;
    slot->cached.insert(slot->cached.end(), prompt.begin() + slot->n_prompt_done,
                        prompt.begin() + slot->n_prompt_done + n);
    slot->n_prompt_done += n;
    prompted += static_cast<int64_t>(n);
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    ++stats_.steps;
    stats_.tokens_prompted += prompted;
  }
  // Entries that asked for logits are in batch order: decoding slots, then completed prompts.
  for (size_t i = 0; i < with_logits.size(); ++i)
    Sample(*with_logits[i], ctx_->Logits(static_cast<int>(i)));
  {
    std::lock_guard<std::mutex> lock(mu_);
    int64_t kv = 0;
    for (auto& s : slots_) kv += static_cast<int64_t>(s->cached.size());
    stats_.kv_tokens = kv;
  }
  return true;
}

void Scheduler::Sample(Slot& s, const float* logits) {
  const auto now = Clock::now();
  if (!s.decoding) {
    s.decoding = true;
    s.first_token = now;
    s.timings.ttft_ms = MsBetween(s.submitted, now);
    s.timings.prompt_ms = MsBetween(s.admitted, now);
    s.st.t_prompt_ms = s.timings.prompt_ms;
  }
  const TokenId token = s.sampler->Sample(logits, model_.hparams().n_vocab);
  s.sampler->Accept(token);
  s.st.tokens.push_back(token);
  ++s.st.n_generated;
  {
    std::lock_guard<std::mutex> lock(mu_);
    ++stats_.tokens_generated;
  }
  if (!s.req->gen.ignore_eos && model_.tokenizer().IsEog(token)) {
    return Finish(s, Status::Ok(), StopReason::kEog);
  }
  if (s.req->gen.n_logprobs >= 0) {
    s.st.logprobs.push_back(
        ComputeLogprob(logits, model_.hparams().n_vocab, token, s.req->gen.n_logprobs));
    if (s.req->on_logprob) s.req->on_logprob(s.st.logprobs.back());
  }
  bool stopped = false;
  const std::string piece = s.filter->Push(s.detok->Push(token), &stopped);
  if (!piece.empty()) {
    s.st.text += piece;
    if (s.req->on_piece && !s.req->on_piece(piece)) {
      return Finish(s, Status::Ok(), StopReason::kCancelled);
    }
  }
  if (stopped) return Finish(s, Status::Ok(), StopReason::kStopString);
  const int32_t limit = s.req->gen.n_predict;
  if (limit >= 0 && s.st.n_generated >= limit) {
    return Finish(s, Status::Ok(), StopReason::kMaxTokens);
  }
  if (s.cached.size() >= static_cast<size_t>(n_ctx_)) {
    return Finish(s, Status::Ok(), StopReason::kContextFull);
  }
  s.pending = token;
}

void Scheduler::Finish(Slot& s, Status status, StopReason reason) {
  auto req = std::move(s.req);
  s.req.reset();
  s.last_used = Clock::now();
  s.st.stop_reason = reason;
  if (status.ok() && reason != StopReason::kStopString && reason != StopReason::kCancelled) {
    bool stopped = false;
    std::string tail = s.filter->Push(s.detok->Flush(), &stopped);
    if (stopped) s.st.stop_reason = StopReason::kStopString;
    tail += s.filter->Flush();
    if (!tail.empty()) {
      s.st.text += tail;
      if (req->on_piece) req->on_piece(tail);
    }
  }
  if (!status.ok()) {
    // The cache may be partly written: forget it.
    ctx_->SeqTruncate(s.id, 0);
    s.cached.clear();
  }
  if (s.decoding) {
    s.timings.gen_ms = MsBetween(s.first_token, Clock::now());
    s.st.t_gen_ms = s.timings.gen_ms;
  }
  s.st.n_decoded = std::max(0, s.st.n_generated - 1);
  {
    std::lock_guard<std::mutex> lock(mu_);
    --stats_.active;
  }
  if (req->on_done) req->on_done(status, s.st, s.timings);
}

}  // namespace mle::llm
