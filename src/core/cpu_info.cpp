// CPU feature detection through cpuid (x86) and /proc/cpuinfo for the model name.
#include "core/cpu_info.h"

#include <algorithm>
#include <fstream>
#include <string>
#include <thread>

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#endif

namespace mle {
namespace {

// The largest "size" of /sys/devices/system/cpu/cpu0/cache/index*/ ("32768K", "1M").
uint64_t LargestCacheBytes() {
  uint64_t best = 0;
  for (int i = 0; i < 8; ++i) {
    std::ifstream f("/sys/devices/system/cpu/cpu0/cache/index" + std::to_string(i) + "/size");
    uint64_t n = 0;
    char unit = 0;
    if (!(f >> n)) continue;
    f >> unit;
    const uint64_t bytes = unit == 'K'   ? n << 10
                           : unit == 'M' ? n << 20
                           : unit == 'G' ? n << 30
                                         : n;
    best = std::max(best, bytes);
  }
  return best;
}

CpuInfo Detect() {
  CpuInfo info;
  info.n_hw_threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  info.cache_bytes = LargestCacheBytes();
  std::ifstream in("/proc/cpuinfo");
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("model name", 0) == 0) {
      auto colon = line.find(':');
      if (colon != std::string::npos) info.model_name = line.substr(colon + 2);
      break;
    }
  }
#if defined(__x86_64__) || defined(__i386__)
  unsigned a, b, c, d;
  if (__get_cpuid(1, &a, &b, &c, &d)) {
    info.sse42 = c & bit_SSE4_2;
    info.fma = c & bit_FMA;
    info.f16c = c & bit_F16C;
    bool osxsave = c & bit_OSXSAVE;
    info.avx = (c & bit_AVX) && osxsave;
  }
  // The OS must save the wider registers too (XCR0), or the instructions fault.
  unsigned long long xcr0 = 0;
  if (info.avx) {
    unsigned lo, hi;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    xcr0 = (static_cast<unsigned long long>(hi) << 32) | lo;
  }
  bool ymm_ok = (xcr0 & 0x6) == 0x6;
  bool zmm_ok = (xcr0 & 0xe6) == 0xe6;
  if (__get_cpuid_count(7, 0, &a, &b, &c, &d)) {
    info.avx2 = ymm_ok && (b & bit_AVX2);
    info.avx512f = zmm_ok && (b & bit_AVX512F);
    info.avx512bw = zmm_ok && (b & bit_AVX512BW);
    info.avx512vl = zmm_ok && (b & bit_AVX512VL);
    info.avx512vnni = zmm_ok && (c & bit_AVX512VNNI);
  }
  if (__get_cpuid_count(7, 1, &a, &b, &c, &d)) {
    info.avxvnni = ymm_ok && (a & (1u << 4));
    info.avx512bf16 = zmm_ok && (a & (1u << 5));
  }
  if (!ymm_ok) info.fma = info.f16c = false;
#endif
  return info;
}

}  // namespace

std::string CpuInfo::FeatureString() const {
  std::string s;
  auto add = [&](bool on, const char* name) {
    if (on) s += (s.empty() ? "" : " ") + std::string(name);
  };
  add(sse42, "SSE4.2");
  add(avx, "AVX");
  add(avx2, "AVX2");
  add(fma, "FMA");
  add(f16c, "F16C");
  add(avxvnni, "AVX-VNNI");
  add(avx512f, "AVX512F");
  add(avx512bw, "AVX512BW");
  add(avx512vl, "AVX512VL");
  add(avx512vnni, "AVX512-VNNI");
  add(avx512bf16, "AVX512-BF16");
  return s.empty() ? "none" : s;
}

const CpuInfo& GetCpuInfo() {
  static const CpuInfo info = Detect();
  return info;
}

}  // namespace mle
