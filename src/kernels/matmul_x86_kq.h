// x86 kernels for the K-quants Q4_K, Q5_K and Q6_K against kQ8_K activations. Per super-block
// of 256 each (row, token) pair sums code x activation products with the group scales applied
// in int32 (maddubs + madd, exact: at most ~33M per lane), then adds d * dx times that sum in
// float. Offsets (Q4_K/Q5_K mins, Q6_K's -32) come from the activation group sums (bsums).
// Weights are decoded one row at a time and used for RN tokens before the next row.
#pragma once

#include "kernels/float_convert.h"
#include "kernels/matmul_x86_common.h"
#include "kernels/quant_blocks.h"

namespace mle::kernels::internal::MLE_X86_NS {

// The 8 six-bit scales (bytes 0..7) and mins (bytes 8..15) of a Q4_K / Q5_K super-block.
inline __m128i UnpackScalesK4(const uint8_t* packed) {
  constexpr uint32_t kLow6 = 0x3f3f3f3f, kLow4 = 0x0f0f0f0f, kLow2 = 0x03030303;
  uint32_t u[4];
  std::memcpy(u, packed, 12);
  u[3] = ((u[2] >> 4) & kLow4) | (((u[1] >> 6) & kLow2) << 4);  // mins 4..7
  const uint32_t mins_lo = u[1] & kLow6;                        // mins 0..3
  u[1] = (u[2] & kLow4) | (((u[0] >> 6) & kLow2) << 4);         // scales 4..7
  u[2] = mins_lo;
  u[0] &= kLow6;  // scales 0..3
  return _mm_loadu_si128(reinterpret_cast<const __m128i*>(u));
}

template <bool kFive>
struct GemmQ45_K {
  using Block = std::conditional_t<kFive, BlockQ5_K, BlockQ4_K>;

  template <int RM, int RN>
  static void Run(const Tile& t) {
    const int64_t nb = t.n / 256;
    const Block* wb[RM];
    for (int r = 0; r < RM; ++r) wb[r] = reinterpret_cast<const Block*>(t.w + r * t.w_row_bytes);
    Q8KRow xa[RN];
    for (int j = 0; j < RN; ++j) xa[j] = Q8_KView(t.a + j * t.a_row_bytes, t.n);
    const __m256i m4 = _mm256_set1_epi8(0x0F);
    __m256 acc[RM][RN];
    for (auto& row : acc)
      for (auto& v : row) v = _mm256_setzero_ps();
    // Decode: fetch the next tile's rows one tile ahead (see GemmQ8_32).
    const char* ahead = reinterpret_cast<const char*>(t.w) + RM * t.w_row_bytes;
    constexpr size_t kAheadStep = RM * sizeof(Block);
    for (int64_t b = 0; b < nb; ++b) {
      if constexpr (RN == 1) {
        for (size_t k = 0; k < kAheadStep; k += 64) {
          _mm_prefetch(ahead + b * kAheadStep + k, _MM_HINT_T0);
        }
      }
      alignas(16) uint8_t sc[RM][16];  // scales 0..7, mins 8..15
      __m256i isum[RM][RN];
      for (int r = 0; r < RM; ++r) {
        const Block& blk = wb[r][b];
        const __m128i s = UnpackScalesK4(blk.scales);
        _mm_store_si128(reinterpret_cast<__m128i*>(sc[r]), s);
        const __m128i mins = _mm_cvtepu8_epi16(_mm_unpackhi_epi64(s, s));
        const __m256 dmin = _mm256_set1_ps(HalfToFloat(blk.dmin));
        for (int j = 0; j < RN; ++j) {
          const __m128i* bs = reinterpret_cast<const __m128i*>(xa[j].bsums + 16 * b);
          const __m128i bs32 = _mm_hadd_epi16(_mm_loadu_si128(bs), _mm_loadu_si128(bs + 1));
          const __m128i msum = _mm_madd_epi16(mins, bs32);
          const __m256 dxm = _mm256_mul_ps(dmin, _mm256_set1_ps(xa[j].d[b]));
          acc[r][j] =
              _mm256_fnmadd_ps(_mm256_cvtepi32_ps(_mm256_zextsi128_si256(msum)), dxm, acc[r][j]);
          isum[r][j] = _mm256_setzero_si256();
        }
      }
      for (int c = 0; c < 4; ++c) {
        for (int r = 0; r < RM; ++r) {
          const Block& blk = wb[r][b];
          const __m256i q = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(blk.qs + 32 * c));
          __m256i lo = _mm256_and_si256(q, m4);
          __m256i hi = _mm256_and_si256(_mm256_srli_epi16(q, 4), m4);
          if constexpr (kFive) {
            const __m256i h = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(blk.qh));
            const __m256i one = _mm256_set1_epi8(1);
            lo = _mm256_or_si256(
                lo, _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(h, 2 * c), one), 4));
            hi = _mm256_or_si256(
                hi, _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(h, 2 * c + 1), one), 4));
          }
          const __m256i sl = _mm256_set1_epi16(sc[r][2 * c]);
          const __m256i sh = _mm256_set1_epi16(sc[r][2 * c + 1]);
          for (int j = 0; j < RN; ++j) {
            const auto* x = reinterpret_cast<const __m256i*>(xa[j].q + 256 * b + 64 * c);
            const __m256i pl =
                _mm256_madd_epi16(_mm256_maddubs_epi16(lo, _mm256_loadu_si256(x)), sl);
            const __m256i ph =
                _mm256_madd_epi16(_mm256_maddubs_epi16(hi, _mm256_loadu_si256(x + 1)), sh);
            isum[r][j] = _mm256_add_epi32(isum[r][j], _mm256_add_epi32(pl, ph));
          }
        }
      }
      for (int r = 0; r < RM; ++r) {
        const __m256 d = _mm256_set1_ps(HalfToFloat(wb[r][b].d));
        for (int j = 0; j < RN; ++j) {
          const __m256 dd = _mm256_mul_ps(d, _mm256_set1_ps(xa[j].d[b]));
          acc[r][j] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(isum[r][j]), dd, acc[r][j]);
        }
      }
    }
    StoreTile<RM, RN>(t, acc);
  }
};

// Q6_K codes are q in 0..63 with value q - 32; the -32 is applied through the bsums.
struct GemmQ6_K {
  // Scales of groups (2k, 2k+1) of a half, as 8 + 8 int16 lanes.
  static __m256i PairScales(__m128i sc8, int g) {
    const __m128i idx = _mm_setr_epi8(g, g, g, g, g, g, g, g, g + 1, g + 1, g + 1, g + 1, g + 1,
                                      g + 1, g + 1, g + 1);
    return _mm256_cvtepi8_epi16(_mm_shuffle_epi8(sc8, idx));
  }

  template <int RM, int RN>
  static void Run(const Tile& t) {
    const int64_t nb = t.n / 256;
    const BlockQ6_K* wb[RM];
    for (int r = 0; r < RM; ++r) {
      wb[r] = reinterpret_cast<const BlockQ6_K*>(t.w + r * t.w_row_bytes);
    }
    Q8KRow xa[RN];
    for (int j = 0; j < RN; ++j) xa[j] = Q8_KView(t.a + j * t.a_row_bytes, t.n);
    const __m256i m4 = _mm256_set1_epi8(0x0F);
    __m256 acc[RM][RN];
    for (auto& row : acc)
      for (auto& v : row) v = _mm256_setzero_ps();
    for (int64_t b = 0; b < nb; ++b) {
      __m256i isum[RM][RN];
      for (int r = 0; r < RM; ++r) {
        // Decode: fetch the same block of the next tile's rows (see GemmQ8_32).
        if constexpr (RN == 1) {
          const char* next = reinterpret_cast<const char*>(wb[r] + b) + RM * t.w_row_bytes;
          for (int k = 0; k < 4; ++k) _mm_prefetch(next + 64 * k, _MM_HINT_T0);
        }
        const __m128i sc8 = _mm_loadu_si128(reinterpret_cast<const __m128i*>(wb[r][b].scales));
        const __m256i sc16 = _mm256_cvtepi8_epi16(sc8);
        for (int j = 0; j < RN; ++j) {
          const auto* bs = reinterpret_cast<const __m256i*>(xa[j].bsums + 16 * b);
          const __m256i off = _mm256_madd_epi16(sc16, _mm256_loadu_si256(bs));
          isum[r][j] = _mm256_sub_epi32(_mm256_setzero_si256(), _mm256_slli_epi32(off, 5));
        }
      }
      for (int h = 0; h < 2; ++h) {
        for (int r = 0; r < RM; ++r) {
          const BlockQ6_K& blk = wb[r][b];
          const auto* ql = reinterpret_cast<const __m256i*>(blk.ql + 64 * h);
          const __m256i l0 = _mm256_loadu_si256(ql), l1 = _mm256_loadu_si256(ql + 1);
          const __m256i qh = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(blk.qh + 32 * h));
          __m256i q[4];
          q[0] =
              _mm256_or_si256(_mm256_and_si256(l0, m4),
                              _mm256_slli_epi16(_mm256_and_si256(qh, _mm256_set1_epi8(0x03)), 4));
          q[1] =
              _mm256_or_si256(_mm256_and_si256(l1, m4),
                              _mm256_slli_epi16(_mm256_and_si256(qh, _mm256_set1_epi8(0x0C)), 2));
          q[2] = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(l0, 4), m4),
                                 _mm256_and_si256(qh, _mm256_set1_epi8(0x30)));
          q[3] = _mm256_or_si256(
              _mm256_and_si256(_mm256_srli_epi16(l1, 4), m4),
              _mm256_srli_epi16(_mm256_and_si256(qh, _mm256_set1_epi8(char(0xC0))), 2));
          const __m128i sc8 = _mm_loadu_si128(reinterpret_cast<const __m128i*>(blk.scales));
          __m256i s[4];
          for (int k = 0; k < 4; ++k) s[k] = PairScales(sc8, 8 * h + 2 * k);
          for (int j = 0; j < RN; ++j) {
            const auto* x = reinterpret_cast<const __m256i*>(xa[j].q + 256 * b + 128 * h);
            __m256i sum = isum[r][j];
            for (int k = 0; k < 4; ++k) {
              const __m256i p = _mm256_maddubs_epi16(q[k], _mm256_loadu_si256(x + k));
              sum = _mm256_add_epi32(sum, _mm256_madd_epi16(p, s[k]));
            }
            isum[r][j] = sum;
          }
        }
      }
      for (int r = 0; r < RM; ++r) {
        const __m256 d = _mm256_set1_ps(HalfToFloat(wb[r][b].d));
        for (int j = 0; j < RN; ++j) {
          const __m256 dd = _mm256_mul_ps(d, _mm256_set1_ps(xa[j].d[b]));
          acc[r][j] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(isum[r][j]), dd, acc[r][j]);
        }
      }
    }
    StoreTile<RM, RN>(t, acc);
  }
};

// Q4_K repacked 8 rows at a time (WeightLayout::kQ4_Kx8, offsets in matmul_isa.h). Per group
// of 32 the 8 step vectors give each row's code sum in its own lane, scaled by the group's
// 6-bit scales in int32; the mins term pairs the rows' mins (int16 pairs of groups 2k, 2k+1)
// with the activation sums of those groups in one madd per pair.
template <bool kVnni>
struct GemmQ4_Kx8 {
#if defined(__AVX512F__)
  static constexpr bool kAvx512Regs = true;  // 32 vector registers
#else
  static constexpr bool kAvx512Regs = false;
#endif
  template <int RN>
  static void Run(const Tile& t) {
    const int64_t nb = t.n / 256;
    Q8KRow xa[RN];
    for (int j = 0; j < RN; ++j) xa[j] = Q8_KView(t.a + j * t.a_row_bytes, t.n);
    __m256 acc[RN];
    for (auto& v : acc) v = _mm256_setzero_ps();
    const __m256i low4 = _mm256_set1_epi8(0x0F);
    for (int64_t b = 0; b < nb; ++b) {
      const uint8_t* blk = t.w + b * kQ4_Kx8BlockBytes;
      // Decode: the stream ahead is asked for in step with the reading (the header here, each
      // 256 code bytes below) rather than all 18 lines of the block at once: whole-model Q4_K_M
      // decode +2% on average over seven one-process alternations (+0.1 to +4.1%).
      if constexpr (RN == 1) PrefetchStream<kQ4_Kx8Codes>(blk);
      alignas(32) uint8_t u[128];  // unpacked scales and mins (matmul_isa.h)
      {
        const __m256i l0 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(blk + kQ4_Kx8Low));
        const __m256i l1 =
            _mm256_loadu_si256(reinterpret_cast<const __m256i*>(blk + kQ4_Kx8Low + 32));
        const __m256i h = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(blk + kQ4_Kx8High));
        const __m256i top = _mm256_set1_epi8(0x30);
        auto* out = reinterpret_cast<__m256i*>(u);
        _mm256_store_si256(out, _mm256_or_si256(_mm256_and_si256(l0, low4),
                                                _mm256_and_si256(_mm256_slli_epi16(h, 4), top)));
        _mm256_store_si256(out + 1,
                           _mm256_or_si256(_mm256_and_si256(l1, low4),
                                           _mm256_and_si256(_mm256_slli_epi16(h, 2), top)));
        _mm256_store_si256(out + 2,
                           _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(l0, 4), low4),
                                           _mm256_and_si256(h, top)));
        _mm256_store_si256(out + 3,
                           _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(l1, 4), low4),
                                           _mm256_and_si256(_mm256_srli_epi16(h, 2), top)));
      }
      __m256i isum[RN];
      for (auto& v : isum) v = _mm256_setzero_si256();
      if constexpr (!kAvx512Regs) {
        // AVX2 (16 registers) would spill the paired loop's 16 code vectors: one group at a
        // time (the odd group re-reads its code bytes from L1).
        for (int g = 0; g < 8; ++g) {
          const uint8_t* codes = blk + kQ4_Kx8Codes + 256 * (g / 2);
          if (RN == 1 && g % 2 == 0) PrefetchStream<256>(codes);
          __m256i w[8];
          for (int k = 0; k < 8; ++k) {
            const __m256i raw =
                _mm256_loadu_si256(reinterpret_cast<const __m256i*>(codes + 32 * k));
            w[k] = _mm256_and_si256(g % 2 ? _mm256_srli_epi16(raw, 4) : raw, low4);
          }
          const __m256i sc =
              _mm256_cvtepu8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(u + 8 * g)));
          for (int j = 0; j < RN; ++j) {
            const __m256i p = GroupDot<kVnni>(w, xa[j].q + 256 * b + 32 * g);
            isum[j] = _mm256_add_epi32(isum[j], _mm256_mullo_epi32(p, sc));
          }
        }
      } else {
        // Groups in pairs (2c: low nibbles, 2c + 1: high nibbles of the same 8 code vectors)
        // so each code vector is loaded and split once for all RN tokens. Decode too: with
        // the weights in huge pages it measured +3% on average in one-process alternation
        // (+4-6% while the host's bandwidth was high, level while it was low).
#pragma GCC unroll 4
        for (int c = 0; c < 4; ++c) {
          const uint8_t* codes = blk + kQ4_Kx8Codes + 256 * c;
          if constexpr (RN == 1) PrefetchStream<256>(codes);
          __m256i lo[8], hi[8];
          for (int k = 0; k < 8; ++k) {
            const __m256i raw =
                _mm256_loadu_si256(reinterpret_cast<const __m256i*>(codes + 32 * k));
            lo[k] = _mm256_and_si256(raw, low4);
            hi[k] = _mm256_and_si256(_mm256_srli_epi16(raw, 4), low4);
          }
          const __m256i sc_lo =
              _mm256_cvtepu8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(u + 16 * c)));
          const __m256i sc_hi = _mm256_cvtepu8_epi32(
              _mm_loadl_epi64(reinterpret_cast<const __m128i*>(u + 16 * c + 8)));
          for (int j = 0; j < RN; ++j) {
            const int8_t* xq = xa[j].q + 256 * b + 64 * c;
            const __m256i p_lo = _mm256_mullo_epi32(GroupDot<kVnni>(lo, xq), sc_lo);
            const __m256i p_hi = _mm256_mullo_epi32(GroupDot<kVnni>(hi, xq + 32), sc_hi);
            isum[j] = _mm256_add_epi32(isum[j], _mm256_add_epi32(p_lo, p_hi));
          }
        }
      }
      __m256i mins[4];
      for (int k = 0; k < 4; ++k) {
        mins[k] = _mm256_cvtepu8_epi16(
            _mm_load_si128(reinterpret_cast<const __m128i*>(u + kQ4_Kx8Mins + 16 * k)));
      }
      const __m256 d =
          _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(blk + kQ4_Kx8D)));
      const __m256 dmin =
          _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(blk + kQ4_Kx8Dmin)));
      for (int j = 0; j < RN; ++j) {
        // Activation sums of the 8 groups (pairs of the 16-element bsums), as int16 pairs.
        const auto* bs = reinterpret_cast<const __m128i*>(xa[j].bsums + 16 * b);
        const __m256i g8 = _mm256_broadcastsi128_si256(
            _mm_hadd_epi16(_mm_loadu_si128(bs), _mm_loadu_si128(bs + 1)));
        __m256i msum = _mm256_madd_epi16(mins[0], _mm256_shuffle_epi32(g8, 0x00));
        msum = _mm256_add_epi32(msum, _mm256_madd_epi16(mins[1], _mm256_shuffle_epi32(g8, 0x55)));
        msum = _mm256_add_epi32(msum, _mm256_madd_epi16(mins[2], _mm256_shuffle_epi32(g8, 0xAA)));
        msum = _mm256_add_epi32(msum, _mm256_madd_epi16(mins[3], _mm256_shuffle_epi32(g8, 0xFF)));
        const __m256 dx = _mm256_set1_ps(xa[j].d[b]);
        acc[j] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(isum[j]), _mm256_mul_ps(d, dx), acc[j]);
        acc[j] = _mm256_fnmadd_ps(_mm256_cvtepi32_ps(msum), _mm256_mul_ps(dmin, dx), acc[j]);
      }
    }
    StoreGroup<RN>(t, acc);
  }
};

// Q6_K repacked 8 rows at a time (WeightLayout::kQ6_Kx8, offsets in matmul_isa.h). Per group
// of 16 the 4 decoded step vectors (codes 0..63) give each row's sum in its lane, scaled by the
// group's int8 scale in int32; the -32 offset is sum_g scale * 32 * bsum_g, one madd per pair
// of groups. Without VNNI two steps share int16 lanes: 2 * 2 * 63 * 127 < 2^15.
template <bool kVnni>
struct GemmQ6_Kx8 {
  static __m256i Dot4(const __m256i (&w)[4], const int8_t* xq) {
#if defined(__AVX512VNNI__) && defined(__AVX512VL__)
    if constexpr (kVnni) {
      __m256i s = _mm256_dpbusd_epi32(_mm256_setzero_si256(), w[0], Broadcast4(xq));
      s = _mm256_dpbusd_epi32(s, w[1], Broadcast4(xq + 4));
      s = _mm256_dpbusd_epi32(s, w[2], Broadcast4(xq + 8));
      return _mm256_dpbusd_epi32(s, w[3], Broadcast4(xq + 12));
    }
#endif
    const __m256i ones = _mm256_set1_epi16(1);
    const __m256i s01 = _mm256_add_epi16(_mm256_maddubs_epi16(w[0], Broadcast4(xq)),
                                         _mm256_maddubs_epi16(w[1], Broadcast4(xq + 4)));
    const __m256i s23 = _mm256_add_epi16(_mm256_maddubs_epi16(w[2], Broadcast4(xq + 8)),
                                         _mm256_maddubs_epi16(w[3], Broadcast4(xq + 12)));
    return _mm256_add_epi32(_mm256_madd_epi16(s01, ones), _mm256_madd_epi16(s23, ones));
  }

  template <int RN>
  static void Run(const Tile& t) {
    const int64_t nb = t.n / 256;
    Q8KRow xa[RN];
    for (int j = 0; j < RN; ++j) xa[j] = Q8_KView(t.a + j * t.a_row_bytes, t.n);
    __m256 acc[RN];
    for (auto& v : acc) v = _mm256_setzero_ps();
    const __m256i low4 = _mm256_set1_epi8(0x0F), hi2 = _mm256_set1_epi8(0x30);
    for (int64_t b = 0; b < nb; ++b) {
      const uint8_t* blk = t.w + b * kQ6_Kx8BlockBytes;
      if constexpr (RN == 1) PrefetchStream<kQ6_Kx8BlockBytes>(blk);  // decode
      __m256i isum[RN];
      for (auto& v : isum) v = _mm256_setzero_si256();
      for (int g = 0; g < 16; ++g) {
        const auto* c = reinterpret_cast<const __m256i*>(blk + kQ6_Kx8Codes + 96 * g);
        const __m256i l01 = _mm256_loadu_si256(c), l23 = _mm256_loadu_si256(c + 1);
        const __m256i h = _mm256_loadu_si256(c + 2);
        __m256i w[4];
        w[0] = _mm256_or_si256(_mm256_and_si256(l01, low4),
                               _mm256_and_si256(_mm256_slli_epi16(h, 4), hi2));
        w[1] = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(l01, 4), low4),
                               _mm256_and_si256(_mm256_slli_epi16(h, 2), hi2));
        w[2] = _mm256_or_si256(_mm256_and_si256(l23, low4), _mm256_and_si256(h, hi2));
        w[3] = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(l23, 4), low4),
                               _mm256_and_si256(_mm256_srli_epi16(h, 2), hi2));
        // The 8 rows' scales of group g: int8 at [g / 2][row][g % 2] -> int32 lanes.
        const __m256i pair = _mm256_cvtepi8_epi16(
            _mm_loadu_si128(reinterpret_cast<const __m128i*>(blk + kQ6_Kx8Scales + 16 * (g / 2))));
        const __m256i sc = g % 2 ? _mm256_srai_epi32(pair, 16)
                                 : _mm256_srai_epi32(_mm256_slli_epi32(pair, 16), 16);
        for (int j = 0; j < RN; ++j) {
          const __m256i p = Dot4(w, xa[j].q + 256 * b + 16 * g);
          isum[j] = _mm256_add_epi32(isum[j], _mm256_mullo_epi32(p, sc));
        }
      }
      const __m256 d = _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(blk)));
      for (int j = 0; j < RN; ++j) {
        // sum_g scale * bsum_g: bsums as int16 pairs (groups 2k, 2k+1) broadcast per pair.
        const __m256i bs =
            _mm256_loadu_si256(reinterpret_cast<const __m256i*>(xa[j].bsums + 16 * b));
        __m256i off = _mm256_setzero_si256();
        for (int k = 0; k < 8; ++k) {
          const __m256i pair = _mm256_cvtepi8_epi16(
              _mm_loadu_si128(reinterpret_cast<const __m128i*>(blk + kQ6_Kx8Scales + 16 * k)));
          const __m256i bk = _mm256_permutevar8x32_epi32(bs, _mm256_set1_epi32(k));
          off = _mm256_add_epi32(off, _mm256_madd_epi16(pair, bk));
        }
        const __m256i total = _mm256_sub_epi32(isum[j], _mm256_slli_epi32(off, 5));
        acc[j] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(total),
                                 _mm256_mul_ps(d, _mm256_set1_ps(xa[j].d[b])), acc[j]);
      }
    }
    StoreGroup<RN>(t, acc);
  }
};

}  // namespace mle::kernels::internal::MLE_X86_NS
