// Per-client token buckets: `rpm` requests per minute refill, up to `burst` at once. A request
// that finds the bucket empty is refused with the seconds until a token is back (for
// Retry-After). Thread-safe. Buckets idle long enough to be full again are dropped.
#pragma once

#include <chrono>
#include <mutex>
#include <string>
#include <unordered_map>

namespace mle::server {

class RateLimiter {
 public:
  using Clock = std::chrono::steady_clock;
  // rpm <= 0 disables limiting. burst < 1 is treated as 1.
  RateLimiter(double rpm, int burst);

  struct Decision {
    bool allowed = true;
    int retry_after_s = 0;
  };
  Decision Take(const std::string& client, Clock::time_point now = Clock::now());
  bool enabled() const { return rpm_ > 0; }

 private:
  struct Bucket {
    double tokens;
    Clock::time_point last;
  };
  double rpm_;
  double burst_;
  std::mutex mu_;
  std::unordered_map<std::string, Bucket> buckets_;
  Clock::time_point last_sweep_{};
};

}  // namespace mle::server
