#include "server/rate_limiter.h"

#include <algorithm>
#include <cmath>

namespace mle::server {

RateLimiter::RateLimiter(double rpm, int burst) : rpm_(rpm), burst_(std::max(1, burst)) {}

RateLimiter::Decision RateLimiter::Take(const std::string& client, Clock::time_point now) {
  if (rpm_ <= 0) return {};
  const double per_s = rpm_ / 60.0;
  std::lock_guard<std::mutex> lock(mu_);
  // Drop buckets that have refilled completely: they behave exactly like new ones.
  if (now - last_sweep_ > std::chrono::minutes(1)) {
    last_sweep_ = now;
    const double full_s = burst_ / per_s;
    std::erase_if(buckets_, [&](const auto& kv) {
      return std::chrono::duration<double>(now - kv.second.last).count() > full_s;
    });
  }
  auto [it, fresh] = buckets_.try_emplace(client, Bucket{burst_, now});
  Bucket& b = it->second;
  if (!fresh) {
    const double dt = std::chrono::duration<double>(now - b.last).count();
    b.tokens = std::min(burst_, b.tokens + std::max(0.0, dt) * per_s);
    b.last = now;
  }
  if (b.tokens >= 1.0) {
    b.tokens -= 1.0;
    return {};
  }
  return {false, std::max(1, static_cast<int>(std::ceil((1.0 - b.tokens) / per_s)))};
}

}  // namespace mle::server
