// Helpers shared by the x86 kernel headers (matmul_x86_q8.h, matmul_x86_kq.h). Included only
// by matmul_avx2.cpp and matmul_avx512.cpp, which define MLE_X86_NS (a namespace per ISA, so
// that the same templates compiled with different -m flags never meet at link time).
#pragma once

#include <immintrin.h>

#include <array>
#include <cstdint>
#include <cstring>
#include <utility>

#include "kernels/matmul_isa.h"

namespace mle::kernels::internal::MLE_X86_NS {

inline float Hsum(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

inline int HsumI32(__m256i v) {
  __m128i s = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
  s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0x4e));
  s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0xb1));
  return _mm_cvtsi128_si32(s);
}

// F16 bits -> float through F16C.
inline float HalfToFloat(uint16_t h) {
  return _cvtsh_ss(h);
}
// F16 bits -> 8 lanes of its float value (broadcast, then one conversion).
inline __m256 BroadcastHalf(uint16_t h) {
  return _mm256_cvtph_ps(_mm_set1_epi16(static_cast<short>(h)));
}

// Sum of the products of unsigned bytes u (each <= 127 when kVnni is false, or small enough
// that pairs do not saturate int16) with signed bytes s, as 8 int32 lanes.
template <bool kVnni>
inline __m256i DotU8S8(__m256i u, __m256i s) {
#if defined(__AVX512VNNI__) && defined(__AVX512VL__)
  if constexpr (kVnni) return _mm256_dpbusd_epi32(_mm256_setzero_si256(), u, s);
#endif
  return _mm256_madd_epi16(_mm256_maddubs_epi16(u, s), _mm256_set1_epi16(1));
}

// Decode streams each group of a repacked layout once, front to back: while reading one block,
// ask for the bytes kStreamAhead further on. The hardware prefetchers alone keep too few lines
// in flight for one core to reach the memory's bandwidth. Of 1, 2, 4 and 8 KiB ahead, 2 KiB was
// best or level for all four layouts (decode of the whole model 5-15% faster than ~1 KiB).
inline constexpr size_t kStreamAhead = 2048;
template <size_t kBlockBytes>
inline void PrefetchStream(const uint8_t* blk) {
  const char* p = reinterpret_cast<const char*>(blk) + kStreamAhead;
  for (size_t k = 0; k < kBlockBytes; k += 64) _mm_prefetch(p + k, _MM_HINT_T0);
}

// 4 activation bytes broadcast to every 32-bit lane.
inline __m256i Broadcast4(const int8_t* p) {
  int32_t v;
  std::memcpy(&v, p, 4);
  return _mm256_set1_epi32(v);
}

// Lane i = the integer dot of row i's 32 codes (0..15) of one block with the 32 activations
// at xq, from 8 step vectors w of a repacked layout (step k: elements 4k..4k+3 of all 8 rows).
// Without VNNI the pair sums stay in int16 across the 8 steps: |sum| <= 8 * 2 * 15 * 127 < 2^15.
template <bool kVnni>
inline __m256i GroupDot(const __m256i (&w)[8], const int8_t* xq) {
  static constexpr int kElem[8] = {0, 4, 8, 12, 16, 20, 24, 28};
#if defined(__AVX512VNNI__) && defined(__AVX512VL__)
  if constexpr (kVnni) {
    __m256i s0 = _mm256_dpbusd_epi32(_mm256_setzero_si256(), w[0], Broadcast4(xq + kElem[0]));
    __m256i s1 = _mm256_dpbusd_epi32(_mm256_setzero_si256(), w[1], Broadcast4(xq + kElem[1]));
    for (int k = 2; k < 8; k += 2) {
      s0 = _mm256_dpbusd_epi32(s0, w[k], Broadcast4(xq + kElem[k]));
      s1 = _mm256_dpbusd_epi32(s1, w[k + 1], Broadcast4(xq + kElem[k + 1]));
    }
    return _mm256_add_epi32(s0, s1);
  }
#endif
  __m256i s0 = _mm256_maddubs_epi16(w[0], Broadcast4(xq + kElem[0]));
  __m256i s1 = _mm256_maddubs_epi16(w[1], Broadcast4(xq + kElem[1]));
  for (int k = 2; k < 8; k += 2) {
    s0 = _mm256_add_epi16(s0, _mm256_maddubs_epi16(w[k], Broadcast4(xq + kElem[k])));
    s1 = _mm256_add_epi16(s1, _mm256_maddubs_epi16(w[k + 1], Broadcast4(xq + kElem[k + 1])));
  }
  return _mm256_madd_epi16(_mm256_add_epi16(s0, s1), _mm256_set1_epi16(1));
}

// Writes the RM x RN tile sums: y[j * y_stride + r] = Hsum(acc[r][j]) + tail[r][j].
template <int RM, int RN>
inline void StoreTile(const Tile& t, const __m256 (&acc)[RM][RN]) {
  for (int r = 0; r < RM; ++r) {
    for (int j = 0; j < RN; ++j) t.y[j * t.y_stride + r] = Hsum(acc[r][j]);
  }
}

// Calls Kern::Run<nr, nt>(tile) for the tile's run-time shape (nr <= MR, nt <= NR).
template <typename Kern, int MR, int NR>
void DispatchTile(const Tile& t) {
  static constexpr auto kTable = [] {
    std::array<TileFn, MR * NR> a{};
    [&]<int... I>(std::integer_sequence<int, I...>) {
      ((a[I] = &Kern::template Run<I / NR + 1, I % NR + 1>), ...);
    }
    (std::make_integer_sequence<int, MR * NR>{});
    return a;
  }();
  kTable[(t.nr - 1) * NR + (t.nt - 1)](t);
}

// Writes a repacked layout's tile: lane i of acc[j] is row i's sum for token j.
template <int RN>
inline void StoreGroup(const Tile& t, const __m256 (&acc)[RN]) {
  for (int j = 0; j < RN; ++j) _mm256_storeu_ps(t.y + j * t.y_stride, acc[j]);
}

// Calls Kern::Run<nt>(tile) for a repacked layout's tile (whole row groups, nt <= NR).
template <typename Kern, int NR>
void DispatchGroupTile(const Tile& t) {
  static constexpr auto kTable = [] {
    std::array<TileFn, NR> a{};
    [&]<int... I>(std::integer_sequence<int, I...>) {
      ((a[I] = &Kern::template Run<I + 1>), ...);
    }
    (std::make_integer_sequence<int, NR>{});
    return a;
  }();
  kTable[t.nt - 1](t);
}

}  // namespace mle::kernels::internal::MLE_X86_NS
