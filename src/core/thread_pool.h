// A persistent pool of worker threads for the compute kernels. Run() hands the same function
// to every thread (the caller is thread 0) and returns when all of them have returned; the
// workers spin briefly between jobs (a decode step issues hundreds of small jobs) and then
// sleep on a futex, so an idle pool costs no CPU.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <thread>
#include <vector>

#include "core/status.h"

namespace mle {

class ThreadPool {
 public:
  // n_threads: total threads including the caller (>= 1). Throws std::system_error, with no
  // thread left running, when the system cannot start them all.
  explicit ThreadPool(int n_threads);
  // The same without the exception: ResourceExhausted naming the count when the threads cannot
  // be started (a per-user process limit, a huge --threads).
  static Result<std::unique_ptr<ThreadPool>> Create(int n_threads);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  int size() const { return n_threads_; }

  // Calls fn(ith, nth) once on each of nth = size() threads, ith = 0 on the caller.
  // Not reentrant: fn must not call Run on the same pool. Only one caller at a time.
  void Run(const std::function<void(int ith, int nth)>& fn);

  // Splits [0, n) into size() contiguous ranges and calls fn(begin, end) on each non-empty one.
  void ParallelFor(int64_t n, const std::function<void(int64_t begin, int64_t end)>& fn);

 private:
  void WorkerLoop(int ith);
  void StopWorkers();

  int n_threads_;
  std::vector<std::thread> workers_;
  std::atomic<uint32_t> generation_{0};
  std::atomic<int> pending_{0};
  std::atomic<bool> stop_{false};
  const std::function<void(int, int)>* job_ = nullptr;
};

}  // namespace mle
