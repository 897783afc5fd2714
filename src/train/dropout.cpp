// Dropout through a counter-based mask (see dropout.h).
#include "train/dropout.h"

#include <ATen/CPUGeneratorImpl.h>
#include <ATen/Parallel.h>

#include <cmath>
#include <cstdint>
#include <mutex>

#include "core/splitmix.h"

namespace mle::train {
namespace {

uint64_t DrawSeed() {
  at::Generator gen = at::detail::getDefaultCPUGenerator();
  std::lock_guard<std::mutex> lock(gen.mutex());
  return at::check_generator<at::CPUGeneratorImpl>(gen)->random64();
}

}  // namespace

torch::Tensor Dropout(const torch::Tensor& x, double p, bool training) {
  TORCH_CHECK(p >= 0 && p < 1, "dropout probability has to be in [0, 1), but got ", p);
  if (!training || p == 0) return x;
  if (x.scalar_type() != torch::kFloat32) return torch::dropout(x, p, training);
  const uint64_t seed = DrawSeed();
  // Element i is kept when the i-th 32-bit word of the hash stream is >= p * 2^32.
  const auto threshold = static_cast<uint64_t>(std::llround(p * 4294967296.0));
  const float scale = static_cast<float>(1.0 / (1.0 - p));
  torch::Tensor mask = torch::empty(x.sizes(), x.options().requires_grad(false));
  float* m = mask.data_ptr<float>();
  const int64_t n = mask.numel();
  at::parallel_for(0, (n + 1) / 2, 8192, [&](int64_t begin, int64_t end) {
    for (int64_t k = begin; k < end; ++k) {
      const uint64_t h = SplitMixHash(seed + static_cast<uint64_t>(k) * kSplitMixGamma);
      m[2 * k] = (h & 0xFFFFFFFFu) >= threshold ? scale : 0.0f;
      if (2 * k + 1 < n) m[2 * k + 1] = (h >> 32) >= threshold ? scale : 0.0f;
    }
  });
  return x * mask;
}

}  // namespace mle::train
