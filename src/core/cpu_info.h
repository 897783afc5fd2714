// What the CPU offers, read once at run time (kernels choose their code path from it).
#pragma once

#include <cstdint>
#include <string>

namespace mle {

struct CpuInfo {
  std::string model_name;
  int n_hw_threads = 1;
  bool sse42 = false, avx = false, avx2 = false, fma = false, f16c = false;
  bool avx512f = false, avx512bw = false, avx512vl = false, avx512vnni = false;
  bool avx512bf16 = false, avxvnni = false;
  // The largest cache of cpu0 (sysfs), 0 when unknown: data that fits is not read from memory.
  uint64_t cache_bytes = 0;

  // "AVX2 FMA F16C AVX512F ..." for logs and `ml-engine version`.
  std::string FeatureString() const;
};

const CpuInfo& GetCpuInfo();

}  // namespace mle
