// LibTorch process settings (see torch_env.h).
#include "train/torch_env.h"

#include <ATen/Parallel.h>
#include <ATen/Version.h>
#include <torch/version.h>

#include <dlfcn.h>

#include <mutex>

namespace mle::train {

std::string TorchVersion() {
  return TORCH_VERSION;
}

void SetBlasThreads(int n) {
  // LibTorch reaches BLAS through libblas.so.3; with Debian's OpenBLAS behind it, GEMMs run on
  // OpenBLAS's own threads (all cores unless told), not on LibTorch's intra-op threads.
  using SetFn = void (*)(int);
  static auto set = reinterpret_cast<SetFn>(dlsym(RTLD_DEFAULT, "openblas_set_num_threads"));
  if (set) set(n > 0 ? n : 1);
}

int BlasThreads() {
  using GetFn = int (*)();
  static auto get = reinterpret_cast<GetFn>(dlsym(RTLD_DEFAULT, "openblas_get_num_threads"));
  return get ? get() : 0;
}

void SetIntraOpThreads(int n) {
  at::set_num_threads(n > 0 ? n : 1);
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
  SetBlasThreads(n);
}

std::string TorchParallelInfo(int threads) {
  SetTorchThreads(threads);
  return "intra-op threads " + std::to_string(at::get_num_threads()) + ", inter-op " +
         std::to_string(at::get_num_interop_threads()) + ", BLAS " +
         (BlasThreads() > 0 ? std::to_string(BlasThreads()) : std::string("?")) + ", MKL-DNN " +
         (at::hasMKLDNN() ? "yes" : "no");
}

}  // namespace mle::train
