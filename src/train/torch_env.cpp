// LibTorch process settings (see torch_env.h).
#include "train/torch_env.h"

#include <ATen/Parallel.h>
#include <ATen/Version.h>
#include <torch/version.h>

#include <mutex>

namespace mle::train {

std::string TorchVersion() {
  return TORCH_VERSION;
}

void SetTorchThreads(int n) {
  // Inter-op threads may be set only once, before any inter-op work starts.
  static std::once_flag once;
  std::call_once(once, [] {
    try {
      at::set_num_interop_threads(1);
    } catch (...) {
    }
  });
  at::set_num_threads(n > 0 ? n : 1);
}

std::string TorchParallelInfo(int threads) {
  SetTorchThreads(threads);
  return "intra-op threads " + std::to_string(at::get_num_threads()) + ", inter-op " +
         std::to_string(at::get_num_interop_threads()) + ", MKL-DNN " +
         (at::hasMKLDNN() ? "yes" : "no");
}

}  // namespace mle::train
