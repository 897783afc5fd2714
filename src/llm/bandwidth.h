// Memory read bandwidth of this machine, measured the way a decode step uses memory: several
// threads each streaming once through their share of a buffer far larger than the caches.
// `bench model` divides the weight bytes a decode step reads by this figure to say how close
// decoding comes to the machine's limit.
#pragma once

#include <cstdint>
#include <memory>

#include "core/status.h"

namespace mle::llm {

struct BandwidthOptions {
  uint64_t buffer_bytes = 1ull << 30;  // 1 GiB: far beyond any L3
  int n_threads = 1;                   // >= 1; use the decode's thread count
  int n_runs = 3;                      // best of n_runs timed passes (after one warm pass)
};

struct BandwidthResult {
  double best_gb_per_s = 0;  // 1e9 bytes per second
  double mean_gb_per_s = 0;
  uint64_t checksum = 0;  // keeps the reads from being optimized away
};

// Errors: ResourceExhausted when the buffer cannot be allocated; InvalidArgument for sizes or
// counts below 1.
Result<BandwidthResult> MeasureReadBandwidth(const BandwidthOptions& options);

// The same measurement one pass at a time, so that passes can be taken between other work
// (`bench model` takes one before and after each decode run: the host's bandwidth drifts,
// and the fraction a decode run reaches is only meaningful against readings beside it).
class ReadBandwidthProbe {
 public:
  // Allocates and writes the buffer, then makes one warm pass. Errors as MeasureReadBandwidth
  // (n_runs is not used).
  static Result<std::unique_ptr<ReadBandwidthProbe>> Create(const BandwidthOptions& options);
  ~ReadBandwidthProbe();

  double Pass();  // one timed pass; 1e9 bytes per second
  uint64_t checksum() const;

 private:
  ReadBandwidthProbe() = default;
  struct Buffer;
  std::unique_ptr<Buffer> buf_;
};

}  // namespace mle::llm
