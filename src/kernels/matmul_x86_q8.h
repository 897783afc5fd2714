// x86 kernels for the 32-element block types (Q4_0, Q4_1, Q5_0, Q5_1, Q8_0) against kQ8_32
// activations, for the float types against F32 activations, and the kQ8_32 / kQ8_K activation
// converters. A tile keeps RM x RN float accumulators; each weight block is decoded once and
// used for RN tokens, each activation block loaded once for RM rows. Integer products per block
// are exact (u8 x s8 pairs, or VNNI dpbusd with kVnni); the block scales are applied in float.
#pragma once

#include "kernels/float_convert.h"
#include "kernels/matmul_x86_common.h"
#include "kernels/quant_blocks.h"

namespace mle::kernels::internal::MLE_X86_NS {

// ---- Weight block decoders: codes as 32 bytes in element order -----------------------------

// Low nibbles of the 16 bytes in the low lane, high nibbles in the high lane.
inline __m256i Nibbles(const uint8_t* qs) {
  const __m256i v =
      _mm256_broadcastsi128_si256(_mm_loadu_si128(reinterpret_cast<const __m128i*>(qs)));
  return _mm256_and_si256(_mm256_srlv_epi64(v, _mm256_setr_epi64x(0, 0, 4, 4)),
                          _mm256_set1_epi8(0x0F));
}

// 0x10 in byte i where bit i of the 32-bit qh is set.
inline __m256i HighBits(const uint8_t* qh_bytes) {
  uint32_t qh;
  std::memcpy(&qh, qh_bytes, 4);
  const __m256i spread =
      _mm256_shuffle_epi8(_mm256_set1_epi32(static_cast<int>(qh)),
                          _mm256_setr_epi8(0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 2,
                                           2, 2, 2, 2, 2, 3, 3, 3, 3, 3, 3, 3, 3));
  const __m256i bit = _mm256_set1_epi64x(0x8040201008040201LL);
  const __m256i set = _mm256_cmpeq_epi8(_mm256_and_si256(spread, bit), bit);
  return _mm256_and_si256(set, _mm256_set1_epi8(0x10));
}

// kOffset: codes are unsigned with value (q - kOffset); kMin: value d * q + m; kSigned: Q8_0.
struct WQ4_0 {
  using Block = BlockQ4_0;
  static constexpr int kOffset = 8;
  static constexpr bool kMin = false, kSigned = false;
  static __m256i Codes(const Block& b) { return Nibbles(b.qs); }
  static float Min(const Block&) { return 0; }
};
struct WQ4_1 {
  using Block = BlockQ4_1;
  static constexpr int kOffset = 0;
  static constexpr bool kMin = true, kSigned = false;
  static __m256i Codes(const Block& b) { return Nibbles(b.qs); }
  static float Min(const Block& b) { return HalfToFloat(b.m); }
};
struct WQ5_0 {
  using Block = BlockQ5_0;
  static constexpr int kOffset = 16;
  static constexpr bool kMin = false, kSigned = false;
  static __m256i Codes(const Block& b) { return _mm256_or_si256(Nibbles(b.qs), HighBits(b.qh)); }
  static float Min(const Block&) { return 0; }
};
struct WQ5_1 {
  using Block = BlockQ5_1;
  static constexpr int kOffset = 0;
  static constexpr bool kMin = true, kSigned = false;
  static __m256i Codes(const Block& b) { return _mm256_or_si256(Nibbles(b.qs), HighBits(b.qh)); }
  static float Min(const Block& b) { return HalfToFloat(b.m); }
};
struct WQ8_0 {
  using Block = BlockQ8_0;
  static constexpr int kOffset = 0;
  static constexpr bool kMin = false, kSigned = true;
  static __m256i Codes(const Block& b) {
    return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(b.qs));
  }
  static float Min(const Block&) { return 0; }
};

// Per block and pair (r, j), with f the 8 int32 partial sums of codes x activations:
//   offset types: acc += dw * (dx * f - s * offset / 8)   (the 8 lanes add up the offset term)
//   min types:    acc += dw * dx * f + (m / 8) * s
//   Q8_0:         acc += (dw * dx) * f, f from |w| x sign(x, w) (maddubs needs one unsigned side)
template <typename W, bool kVnni>
struct GemmQ8_32 {
  template <int RM, int RN>
  static void Run(const Tile& t) {
    using Block = typename W::Block;
    const int64_t nb = t.n / 32;
    const Block* wb[RM];
    for (int r = 0; r < RM; ++r) wb[r] = reinterpret_cast<const Block*>(t.w + r * t.w_row_bytes);
    Q8Row xa[RN];
    for (int j = 0; j < RN; ++j) xa[j] = Q8_32View(t.a + j * t.a_row_bytes, t.n);
    __m256 acc[RM][RN];
    for (auto& row : acc)
      for (auto& v : row) v = _mm256_setzero_ps();
    // Decode (one token) streams each weight once and is bound by memory: the next tile's rows
    // follow this tile's in memory, so request them one tile ahead (hardware prefetchers ramp
    // up too slowly on rows of only ~1 KiB read four at a time).
    const char* ahead = reinterpret_cast<const char*>(t.w) + RM * t.w_row_bytes;
    constexpr size_t kAheadStep = RM * sizeof(Block);
    for (int64_t b = 0; b < nb; ++b) {
      if constexpr (RN == 1) {
        _mm_prefetch(ahead + b * kAheadStep, _MM_HINT_T0);
        if constexpr (kAheadStep > 64) _mm_prefetch(ahead + b * kAheadStep + 64, _MM_HINT_T0);
      }
      __m256i wq[RM], wa[RM];
      __m256 dw[RM], mw[RM];
      for (int r = 0; r < RM; ++r) {
        const Block& blk = wb[r][b];
        wq[r] = W::Codes(blk);
        if constexpr (W::kSigned) wa[r] = _mm256_sign_epi8(wq[r], wq[r]);
        dw[r] = BroadcastHalf(blk.d);
        if constexpr (W::kMin) mw[r] = _mm256_set1_ps(W::Min(blk) * 0.125f);
      }
      for (int j = 0; j < RN; ++j) {
        const __m256i xq = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(xa[j].q + 32 * b));
        const __m256 dx = _mm256_set1_ps(xa[j].d[b]);
        __m256 sx = _mm256_setzero_ps();
        if constexpr (W::kMin) sx = _mm256_set1_ps(xa[j].s[b]);
        if constexpr (W::kOffset != 0) sx = _mm256_set1_ps(xa[j].s[b] * (-W::kOffset / 8.0f));
        for (int r = 0; r < RM; ++r) {
          if constexpr (W::kSigned) {
            const __m256i p = DotU8S8<kVnni>(wa[r], _mm256_sign_epi8(xq, wq[r]));
            acc[r][j] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(p), _mm256_mul_ps(dw[r], dx), acc[r][j]);
          } else if constexpr (W::kMin) {
            const __m256 f = _mm256_cvtepi32_ps(DotU8S8<kVnni>(wq[r], xq));
            acc[r][j] = _mm256_fmadd_ps(dw[r], _mm256_mul_ps(dx, f), acc[r][j]);
            acc[r][j] = _mm256_fmadd_ps(mw[r], sx, acc[r][j]);
          } else {
            const __m256 f = _mm256_cvtepi32_ps(DotU8S8<kVnni>(wq[r], xq));
            acc[r][j] = _mm256_fmadd_ps(dw[r], _mm256_fmadd_ps(dx, f, sx), acc[r][j]);
          }
        }
      }
    }
    StoreTile<RM, RN>(t, acc);
  }
};

// ---- Q4_0 repacked 8 rows at a time (WeightLayout::kQ4_0x8) -------------------------------

// An 8-row group x RN tokens: per block the 8 scales and 8 step vectors are decoded once, then
// each token costs 8 integer dot steps, one conversion and two FMAs for all 8 rows:
//   acc += dw * (dx * sum(q x) - 8 * s)   with s = dx * sum(x), the Q4_0 offset of 8.
// Step vectors: v = 0..3 low nibbles are steps 0..3 (elements 4v..), high nibbles steps 4..7.
template <bool kVnni>
struct GemmQ4_0x8 {
  template <int RN>
  static void Run(const Tile& t) {
    const int64_t nb = t.n / 32;
    Q8Row xa[RN];
    for (int j = 0; j < RN; ++j) xa[j] = Q8_32View(t.a + j * t.a_row_bytes, t.n);
    __m256 acc[RN];
    for (auto& v : acc) v = _mm256_setzero_ps();
    const __m256i low4 = _mm256_set1_epi8(0x0F);
    for (int64_t b = 0; b < nb; ++b) {
      const uint8_t* blk = t.w + b * kQ4_0x8BlockBytes;
      if constexpr (RN == 1) PrefetchStream<kQ4_0x8BlockBytes>(blk);  // decode
      const __m256 dw = _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(blk)));
      __m256i w[8];
      for (int v = 0; v < 4; ++v) {
        const __m256i raw = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(blk + 16 + 32 * v));
        w[v] = _mm256_and_si256(raw, low4);
        w[v + 4] = _mm256_and_si256(_mm256_srli_epi16(raw, 4), low4);
      }
      for (int j = 0; j < RN; ++j) {
        const __m256 f = _mm256_cvtepi32_ps(GroupDot<kVnni>(w, xa[j].q + 32 * b));
        const __m256 off = _mm256_set1_ps(-8.0f * xa[j].s[b]);
        acc[j] = _mm256_fmadd_ps(dw, _mm256_fmadd_ps(_mm256_set1_ps(xa[j].d[b]), f, off), acc[j]);
      }
    }
    StoreGroup<RN>(t, acc);
  }
};

#if defined(__AVX512VNNI__) && defined(__AVX512VL__)
// Q8_0 repacked 8 rows at a time (WeightLayout::kQ8_0x8), AVX512-VNNI only: the codes are
// stored + 128 so that dpbusd (unsigned x signed bytes) takes them as they are, and the bias
// comes back out through the activation sums: acc += dw * (dx * sum((q + 128) x) - 128 * s).
struct GemmQ8_0x8 {
  template <int RN>
  static void Run(const Tile& t) {
    const int64_t nb = t.n / 32;
    Q8Row xa[RN];
    for (int j = 0; j < RN; ++j) xa[j] = Q8_32View(t.a + j * t.a_row_bytes, t.n);
    __m256 acc[RN];
    for (auto& v : acc) v = _mm256_setzero_ps();
    for (int64_t b = 0; b < nb; ++b) {
      const uint8_t* blk = t.w + b * kQ8_0x8BlockBytes;
      if constexpr (RN == 1) PrefetchStream<kQ8_0x8BlockBytes>(blk);  // decode
      const __m256 dw = _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(blk)));
      __m256i w[8];
      for (int k = 0; k < 8; ++k) {
        w[k] = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(blk + 16 + 32 * k));
      }
      for (int j = 0; j < RN; ++j) {
        const __m256 f = _mm256_cvtepi32_ps(GroupDot<true>(w, xa[j].q + 32 * b));
        const __m256 off = _mm256_set1_ps(-128.0f * xa[j].s[b]);
        acc[j] = _mm256_fmadd_ps(dw, _mm256_fmadd_ps(_mm256_set1_ps(xa[j].d[b]), f, off), acc[j]);
      }
    }
    StoreGroup<RN>(t, acc);
  }
};
#endif

// ---- Float weights (F32, F16, BF16) against F32 activations ---------------------------------

struct WF32 {
  using Elem = float;
  static __m256 Load8(const float* p) { return _mm256_loadu_ps(p); }
  static float One(float v) { return v; }
};
struct WF16 {
  using Elem = uint16_t;
  static __m256 Load8(const uint16_t* p) {
    return _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
  }
  static float One(uint16_t v) { return HalfToFloat(v); }
};
struct WBF16 {
  using Elem = uint16_t;
  static __m256 Load8(const uint16_t* p) {
    const __m256i w = _mm256_cvtepu16_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
    return _mm256_castsi256_ps(_mm256_slli_epi32(w, 16));
  }
  static float One(uint16_t v) { return Bf16ToFp32(v); }
};

template <typename W>
struct GemmFloat {
  template <int RM, int RN>
  static void Run(const Tile& t) {
    using E = typename W::Elem;
    const E* wr[RM];
    for (int r = 0; r < RM; ++r) wr[r] = reinterpret_cast<const E*>(t.w + r * t.w_row_bytes);
    const float* xr[RN];
    for (int j = 0; j < RN; ++j) xr[j] = reinterpret_cast<const float*>(t.a + j * t.a_row_bytes);
    __m256 acc[RM][RN];
    for (auto& row : acc)
      for (auto& v : row) v = _mm256_setzero_ps();
    const int64_t n8 = t.n & ~int64_t{7};
    for (int64_t c = 0; c < n8; c += 8) {
      __m256 w[RM];
      for (int r = 0; r < RM; ++r) w[r] = W::Load8(wr[r] + c);
      for (int j = 0; j < RN; ++j) {
        const __m256 x = _mm256_loadu_ps(xr[j] + c);
        for (int r = 0; r < RM; ++r) acc[r][j] = _mm256_fmadd_ps(w[r], x, acc[r][j]);
      }
    }
    for (int r = 0; r < RM; ++r) {
      for (int j = 0; j < RN; ++j) {
        float s = Hsum(acc[r][j]);
        for (int64_t c = n8; c < t.n; ++c) s += W::One(wr[r][c]) * xr[j][c];
        t.y[j * t.y_stride + r] = s;
      }
    }
  }
};

// ---- Activation converters (bit-exact with ConvertScalar) ------------------------------------

// int32 x 4 vectors (elements 0..31 in order) -> 32 int8 in order.
inline __m256i PackI32ToI8(__m256i i0, __m256i i1, __m256i i2, __m256i i3) {
  const __m256i p = _mm256_packs_epi16(_mm256_packs_epi32(i0, i1), _mm256_packs_epi32(i2, i3));
  return _mm256_permutevar8x32_epi32(p, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
}

inline float AbsMax(const float* x, int n) {
  const __m256 sign = _mm256_set1_ps(-0.0f);
  __m256 m = _mm256_setzero_ps();
  for (int i = 0; i < n; i += 8)
    m = _mm256_max_ps(m, _mm256_andnot_ps(sign, _mm256_loadu_ps(x + i)));
  __m128 s = _mm_max_ps(_mm256_castps256_ps128(m), _mm256_extractf128_ps(m, 1));
  s = _mm_max_ps(s, _mm_movehl_ps(s, s));
  s = _mm_max_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

// std::round: to nearest, ties away from zero.
inline __m256 RoundAway(__m256 p) {
  const __m256 sign = _mm256_set1_ps(-0.0f);
  const __m256 t = _mm256_round_ps(p, _MM_FROUND_TO_ZERO | _MM_FROUND_NO_EXC);
  const __m256 frac = _mm256_andnot_ps(sign, _mm256_sub_ps(p, t));
  const __m256 up = _mm256_cmp_ps(frac, _mm256_set1_ps(0.5f), _CMP_GE_OQ);
  const __m256 one = _mm256_or_ps(_mm256_and_ps(p, sign), _mm256_set1_ps(1.0f));
  return _mm256_add_ps(t, _mm256_and_ps(up, one));
}

inline void ToQ8_32(const float* x, uint8_t* dst, int64_t n) {
  const Q8Row v = Q8_32View(dst, n);
  auto* q = reinterpret_cast<int8_t*>(dst);
  auto* dd = const_cast<float*>(v.d);
  auto* ss = const_cast<float*>(v.s);
  for (int64_t b = 0; b < n / 32; ++b, x += 32) {
    const float d = AbsMax(x, 32) / 127;
    const __m256 id = _mm256_set1_ps(d ? 1.0f / d : 0.0f);
    __m256i i[4];
    for (int k = 0; k < 4; ++k) {
      i[k] = _mm256_cvttps_epi32(RoundAway(_mm256_mul_ps(_mm256_loadu_ps(x + 8 * k), id)));
    }
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(q + 32 * b),
                        PackI32ToI8(i[0], i[1], i[2], i[3]));
    const int sum =
        HsumI32(_mm256_add_epi32(_mm256_add_epi32(i[0], i[1]), _mm256_add_epi32(i[2], i[3])));
    dd[b] = Fp16ToFp32(Fp32ToFp16(d));
    ss[b] = dd[b] * static_cast<float>(sum);
  }
}

inline void ToQ8_K(const float* x, uint8_t* dst, int64_t n) {
  const Q8KRow v = Q8_KView(dst, n);
  auto* q = reinterpret_cast<int8_t*>(dst);
  auto* dd = const_cast<float*>(v.d);
  auto* bsums = const_cast<int16_t*>(v.bsums);
  for (int64_t b = 0; b < n / 256; ++b, x += 256, q += 256, bsums += 16) {
    const float amax = AbsMax(x, 256);
    if (!amax) {
      std::memset(q, 0, 256);
      std::memset(bsums, 0, 32);
      dd[b] = 0;
      continue;
    }
    float max = 0;
    for (int j = 0; j < 256; ++j) {  // the first element of largest magnitude gives the sign
      if (x[j] == amax || x[j] == -amax) {
        max = x[j];
        break;
      }
    }
    const float iscale = -127.f / max;
    const __m256 vs = _mm256_set1_ps(iscale);
    const __m256i lim = _mm256_set1_epi32(127);
    for (int g = 0; g < 8; ++g) {
      __m256i i[4];
      for (int k = 0; k < 4; ++k) {
        const __m256 p = _mm256_mul_ps(_mm256_loadu_ps(x + 32 * g + 8 * k), vs);
        i[k] = _mm256_min_epi32(_mm256_cvtps_epi32(p), lim);  // round half to even
      }
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(q + 32 * g),
                          PackI32ToI8(i[0], i[1], i[2], i[3]));
      bsums[2 * g] = static_cast<int16_t>(HsumI32(_mm256_add_epi32(i[0], i[1])));
      bsums[2 * g + 1] = static_cast<int16_t>(HsumI32(_mm256_add_epi32(i[2], i[3])));
    }
    dd[b] = 1 / iscale;
  }
}

// The activation converter of an ISA table: SIMD for the Q8 formats, scalar for the rest.
inline void ConvertRow(ActFormat f, const float* x, uint8_t* dst, int64_t n) {
  switch (f) {
    case ActFormat::kQ8_32:
      ToQ8_32(x, dst, n);
      break;
    case ActFormat::kQ8_K:
      ToQ8_K(x, dst, n);
      break;
    default:
      ConvertScalar(f, x, dst, n);
      break;
  }
}

}  // namespace mle::kernels::internal::MLE_X86_NS
