// LibTorch process settings, behind a header that does not include torch (so cli/ stays
// fast to build). LibTorch picks one thread by default on some machines: we always set it.
#pragma once

#include <string>

namespace mle::train {

// "1.13.0" style version of the linked LibTorch.
std::string TorchVersion();
// Sets intra-op threads to `n` (and inter-op to 1, once per process).
void SetTorchThreads(int n);
// "intra-op 2, inter-op 1, MKL-DNN yes" for `ml-engine version`.
std::string TorchParallelInfo(int threads);

}  // namespace mle::train
