// Streaming-read bandwidth (see bandwidth.h). Each thread first writes its own share (so the
// pages are faulted in, and on NUMA machines placed near it), then all threads read their
// shares at once (the buffer in huge pages, as the weights), summing 64-bit words in eight
// independent lanes that the compiler vectorizes; the pass takes the time of the slowest thread.
#include "llm/bandwidth.h"

#include <algorithm>
#include <chrono>
#include <cstring>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "core/huge_pages.h"

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

struct ReadBandwidthProbe::Buffer {
  std::unique_ptr<uint64_t, FreeDeleter> words;
  size_t n_words = 0;
  int n_threads = 1;
  std::vector<uint64_t> sums;

  std::pair<size_t, size_t> Share(int t) const {
    return {n_words * t / n_threads, n_words * (t + 1) / n_threads};
  }
};

ReadBandwidthProbe::~ReadBandwidthProbe() = default;

Result<std::unique_ptr<ReadBandwidthProbe>> ReadBandwidthProbe::Create(
    const BandwidthOptions& options) {
  if (options.buffer_bytes < (1u << 20) || options.n_threads < 1 || options.n_runs < 1) {
    return InvalidArgument("bandwidth: buffer >= 1 MiB, threads >= 1 and runs >= 1 required");
  }
  auto b = std::make_unique<Buffer>();
  b->n_words = options.buffer_bytes / sizeof(uint64_t);
  b->n_threads = options.n_threads;
  b->sums.assign(options.n_threads, 0);
  // In huge pages, as the repacked weights are (core/huge_pages.h): the probe and the decode
  // stream then pay the same TLB cost.
  b->words.reset(static_cast<uint64_t*>(AllocHugePages(b->n_words * sizeof(uint64_t))));
  if (!b->words) {
    return ResourceExhausted("bandwidth: cannot allocate " +
                             std::to_string(options.buffer_bytes >> 20) + " MiB");
  }
  RunOnThreads(b->n_threads, [&](int t) {
    auto [begin, end] = b->Share(t);
    uint64_t* w = b->words.get();
    for (size_t i = begin; i < end; ++i) w[i] = i * 0x9E3779B97F4A7C15ull;
  });
  std::unique_ptr<ReadBandwidthProbe> probe(new ReadBandwidthProbe());
  probe->buf_ = std::move(b);
  probe->Pass();  // warm: TLB, frequency
  return probe;
}

double ReadBandwidthProbe::Pass() {
  Buffer& b = *buf_;
  const double secs = RunOnThreads(b.n_threads, [&](int t) {
    auto [begin, end] = b.Share(t);
    b.sums[t] += SumWords(b.words.get() + begin, end - begin);
  });
  return static_cast<double>(b.n_words * sizeof(uint64_t)) / secs / 1e9;
}

uint64_t ReadBandwidthProbe::checksum() const {
  uint64_t c = 0;
  for (uint64_t s : buf_->sums) c ^= s;
  return c;
}

Result<BandwidthResult> MeasureReadBandwidth(const BandwidthOptions& options) {
  MLE_ASSIGN_OR_RETURN(std::unique_ptr<ReadBandwidthProbe> probe,
                       ReadBandwidthProbe::Create(options));
  BandwidthResult r;
  double total = 0;
  for (int run = 0; run < options.n_runs; ++run) {
    const double gbps = probe->Pass();
    r.best_gb_per_s = std::max(r.best_gb_per_s, gbps);
    total += gbps;
  }
  r.mean_gb_per_s = total / options.n_runs;
  r.checksum = probe->checksum();
  return r;
}

}  // namespace mle::llm
