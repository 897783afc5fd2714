// LibTorch process settings, behind a header that does not include torch (so cli/ stays
// fast to build). LibTorch picks one thread by default on some machines: we always set it.
#pragma once

#include <string>

namespace mle::train {

// "1.13.0" style version of the linked LibTorch.
std::string TorchVersion();
// Sets intra-op and BLAS threads to `n` (and inter-op to 1, once per process).
void SetTorchThreads(int n);
// Only LibTorch's intra-op (OpenMP) threads: element-wise ops, reductions, oneDNN. BLAS keeps
// its own count. With few cores, idle OpenMP workers spin and take cores from BLAS's threads,
// so fp32 training can be faster with one intra-op thread (lm pretrain measures it).
void SetIntraOpThreads(int n);
// BLAS (OpenBLAS) threads, when the BLAS behind LibTorch lets them be set; 0 = unknown.
void SetBlasThreads(int n);
int BlasThreads();
// "intra-op 2, inter-op 1, MKL-DNN yes" for `ml-engine version`.
std::string TorchParallelInfo(int threads);

}  // namespace mle::train
