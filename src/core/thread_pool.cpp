#include "core/thread_pool.h"

#include <algorithm>
#include <chrono>
#include <string>
#include <system_error>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define MLE_CPU_RELAX() _mm_pause()
#else
#define MLE_CPU_RELAX() std::this_thread::yield()
#endif

namespace mle {
namespace {

// How long a thread spins waiting before it sleeps. Long enough to bridge the gap between two
// kernels of one forward pass, short enough that an idle pool stops burning a core at once.
constexpr auto kSpinTime = std::chrono::microseconds(300);

// Spins until `pred` holds or kSpinTime passes; returns pred().
template <typename Pred>
bool SpinUntil(Pred pred) {
  if (pred()) return true;
  const auto deadline = std::chrono::steady_clock::now() + kSpinTime;
  for (;;) {
    for (int i = 0; i < 64; ++i) {
      if (pred()) return true;
      MLE_CPU_RELAX();
    }
    // Give the core away between rounds: when there are more runnable threads than cores
    // (a busy machine, parallel tests), the thread we wait for may need this very core.
    std::this_thread::yield();
    if (std::chrono::steady_clock::now() >= deadline) return pred();
  }
}

}  // namespace

ThreadPool::ThreadPool(int n_threads) : n_threads_(std::max(1, n_threads)) {
  try {
    workers_.reserve(n_threads_ - 1);
    for (int i = 1; i < n_threads_; ++i) workers_.emplace_back([this, i] { WorkerLoop(i); });
  } catch (...) {
    StopWorkers();  // a joinable std::thread left to its destructor would terminate the process
    throw;
  }
}

Result<std::unique_ptr<ThreadPool>> ThreadPool::Create(int n_threads) {
  try {
    return std::make_unique<ThreadPool>(n_threads);
  } catch (const std::system_error& e) {
    return ResourceExhausted("cannot start " + std::to_string(n_threads) + " threads: " + e.what() +
                             " (use fewer threads)");
  }
}

ThreadPool::~ThreadPool() {
  StopWorkers();
}

void ThreadPool::StopWorkers() {
  stop_.store(true, std::memory_order_release);
  generation_.fetch_add(1, std::memory_order_acq_rel);
  generation_.notify_all();
  for (auto& t : workers_) t.join();
  workers_.clear();
}

void ThreadPool::WorkerLoop(int ith) {
  uint32_t seen = 0;
  for (;;) {
    if (!SpinUntil([&] { return generation_.load(std::memory_order_acquire) != seen; })) {
      generation_.wait(seen, std::memory_order_acquire);
      continue;  // re-check (spurious wake-ups are allowed)
    }
    seen = generation_.load(std::memory_order_acquire);
    if (stop_.load(std::memory_order_acquire)) return;
    (*job_)(ith, n_threads_);
    if (pending_.fetch_sub(1, std::memory_order_acq_rel) == 1) pending_.notify_one();
  }
}

void ThreadPool::Run(const std::function<void(int, int)>& fn) {
  if (n_threads_ == 1) {
    fn(0, 1);
    return;
  }
  job_ = &fn;
  pending_.store(n_threads_ - 1, std::memory_order_relaxed);
  generation_.fetch_add(1, std::memory_order_acq_rel);
  generation_.notify_all();
  fn(0, n_threads_);
  for (;;) {
    if (SpinUntil([&] { return pending_.load(std::memory_order_acquire) == 0; })) break;
    const int left = pending_.load(std::memory_order_acquire);
    if (left == 0) break;
    pending_.wait(left, std::memory_order_acquire);
  }
  job_ = nullptr;
}

void ThreadPool::ParallelFor(int64_t n, const std::function<void(int64_t, int64_t)>& fn) {
  if (n <= 0) return;
  Run([&](int ith, int nth) {
    const int64_t chunk = (n + nth - 1) / nth;
    const int64_t begin = std::min<int64_t>(n, chunk * ith);
    const int64_t end = std::min<int64_t>(n, begin + chunk);
    if (begin < end) fn(begin, end);
  });
}

}  // namespace mle
