// Streaming-read bandwidth (see bandwidth.h). Each thread first writes its own share (so the
// pages are faulted in, and on NUMA machines placed near it), then all threads read their
// shares at once, summing 64-bit words in eight independent lanes that the compiler
// vectorizes; the pass takes the time of the slowest thread.
#include "llm/bandwidth.h"

#include <algorithm>
#include <chrono>
#include <cstring>
#include <memory>
#include <new>
#include <string>
#include <thread>
#include <vector>

namespace mle::llm {
namespace {

uint64_t SumWords(const uint64_t* p, size_t n) {
  uint64_t lane[8] = {};
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    for (int k = 0; k < 8; ++k) lane[k] += p[i + k];
  }
  for (; i < n; ++i) lane[0] += p[i];
  uint64_t s = 0;
  for (uint64_t v : lane) s += v;
  return s;
}

// Runs fn(thread_index) on n threads (the caller is the last) and returns the wall seconds.
template <typename Fn>
double RunOnThreads(int n, Fn fn) {
  const auto t0 = std::chrono::steady_clock::now();
  std::vector<std::thread> threads;
  for (int t = 0; t + 1 < n; ++t) threads.emplace_back(fn, t);
  fn(n - 1);
  for (std::thread& th : threads) th.join();
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace

Result<BandwidthResult> MeasureReadBandwidth(const BandwidthOptions& options) {
  if (options.buffer_bytes < (1u << 20) || options.n_threads < 1 || options.n_runs < 1) {
    return InvalidArgument("bandwidth: buffer >= 1 MiB, threads >= 1 and runs >= 1 required");
  }
  const size_t n_words = options.buffer_bytes / sizeof(uint64_t);
  std::unique_ptr<uint64_t[]> buf(new (std::nothrow) uint64_t[n_words]);
  if (!buf) {
    return ResourceExhausted("bandwidth: cannot allocate " +
                             std::to_string(options.buffer_bytes >> 20) + " MiB");
  }
  const int n = options.n_threads;
  auto share = [&](int t) {
    const size_t begin = n_words * t / n, end = n_words * (t + 1) / n;
    return std::pair<size_t, size_t>(begin, end);
  };
  RunOnThreads(n, [&](int t) {
    auto [begin, end] = share(t);
    for (size_t i = begin; i < end; ++i) buf[i] = i * 0x9E3779B97F4A7C15ull;
  });
  std::vector<uint64_t> sums(n);
  auto read_pass = [&] {
    return RunOnThreads(n, [&](int t) {
      auto [begin, end] = share(t);
      sums[t] += SumWords(buf.get() + begin, end - begin);
    });
  };
  read_pass();  // warm: TLB, frequency
  BandwidthResult r;
  double total = 0;
  for (int run = 0; run < options.n_runs; ++run) {
    const double gbps = static_cast<double>(n_words * sizeof(uint64_t)) / read_pass() / 1e9;
    r.best_gb_per_s = std::max(r.best_gb_per_s, gbps);
    total += gbps;
  }
  r.mean_gb_per_s = total / options.n_runs;
  for (uint64_t s : sums) r.checksum ^= s;
  return r;
}

}  // namespace mle::llm
