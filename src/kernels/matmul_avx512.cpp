// The AVX-512 kernel table (this file alone is compiled with the AVX-512 flags; the driver uses
// it only when GetCpuInfo() reports AVX512F/BW/VL). Block-quant dot products use VNNI dpbusd on
// 256-bit vectors where the CPU has AVX512-VNNI; float weights use 512-bit FMA; BF16 weights
// use dpbf16ps with BF16 activations where the CPU has AVX512-BF16. K-quants share the AVX2
// code (recompiled here). Absent on other architectures (Avx512Table() returns nullptr).
#include "kernels/matmul_isa.h"

#if defined(__x86_64__) && defined(__AVX512F__) && defined(__AVX512BW__) && \
    defined(__AVX512VL__) && defined(__AVX512VNNI__) && defined(__AVX512BF16__)

#include "core/cpu_info.h"
#define MLE_X86_NS avx512
#include "kernels/matmul_x86_kq.h"
#include "kernels/matmul_x86_q8.h"

namespace mle::kernels::internal {
namespace avx512 {
namespace {

using gguf::TensorType;

// Through memory: GCC 12's lane-extract intrinsics warn (-Wuninitialized) inside its header.
inline float Hsum512(__m512 v) {
  alignas(64) float s[16];
  _mm512_store_ps(s, v);
  return Hsum(_mm256_add_ps(_mm256_load_ps(s), _mm256_load_ps(s + 8)));
}

// 16 weights of a float type as floats.
struct W16F32 {
  using Elem = float;
  static __m512 Load16(const float* p) { return _mm512_loadu_ps(p); }
  static float One(float v) { return v; }
};
struct W16F16 {
  using Elem = uint16_t;
  static __m512 Load16(const uint16_t* p) {
    return _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)));
  }
  static float One(uint16_t v) { return HalfToFloat(v); }
};
struct W16BF16 {
  using Elem = uint16_t;
  static __m512 Load16(const uint16_t* p) {
    const __m512i w =
        _mm512_cvtepu16_epi32(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)));
    return _mm512_castsi512_ps(_mm512_slli_epi32(w, 16));
  }
  static float One(uint16_t v) { return Bf16ToFp32(v); }
};

template <typename W>
struct GemmFloat512 {
  template <int RM, int RN>
  static void Run(const Tile& t) {
    using E = typename W::Elem;
    const E* wr[RM];
    for (int r = 0; r < RM; ++r) wr[r] = reinterpret_cast<const E*>(t.w + r * t.w_row_bytes);
    const float* xr[RN];
    for (int j = 0; j < RN; ++j) xr[j] = reinterpret_cast<const float*>(t.a + j * t.a_row_bytes);
    __m512 acc[RM][RN];
    for (auto& row : acc)
      for (auto& v : row) v = _mm512_setzero_ps();
    const int64_t n16 = t.n & ~int64_t{15};
    for (int64_t c = 0; c < n16; c += 16) {
      __m512 w[RM];
      for (int r = 0; r < RM; ++r) w[r] = W::Load16(wr[r] + c);
      for (int j = 0; j < RN; ++j) {
        const __m512 x = _mm512_loadu_ps(xr[j] + c);
        for (int r = 0; r < RM; ++r) acc[r][j] = _mm512_fmadd_ps(w[r], x, acc[r][j]);
      }
    }
    for (int r = 0; r < RM; ++r) {
      for (int j = 0; j < RN; ++j) {
        float s = Hsum512(acc[r][j]);
        for (int64_t c = n16; c < t.n; ++c) s += W::One(wr[r][c]) * xr[j][c];
        t.y[j * t.y_stride + r] = s;
      }
    }
  }
};

// BF16 weights x BF16 activations: dpbf16ps multiplies pairs exactly and accumulates in F32.
struct GemmBf16Dp {
  template <int RM, int RN>
  static void Run(const Tile& t) {
    const uint16_t* wr[RM];
    for (int r = 0; r < RM; ++r) wr[r] = reinterpret_cast<const uint16_t*>(t.w + r * t.w_row_bytes);
    const uint16_t* xr[RN];
    for (int j = 0; j < RN; ++j) xr[j] = reinterpret_cast<const uint16_t*>(t.a + j * t.a_row_bytes);
    __m512 acc[RM][RN];
    for (auto& row : acc)
      for (auto& v : row) v = _mm512_setzero_ps();
    const int64_t n32 = t.n & ~int64_t{31};
    for (int64_t c = 0; c < n32; c += 32) {
      __m512bh w[RM];
      for (int r = 0; r < RM; ++r) w[r] = (__m512bh)_mm512_loadu_si512(wr[r] + c);
      for (int j = 0; j < RN; ++j) {
        const __m512bh x = (__m512bh)_mm512_loadu_si512(xr[j] + c);
        for (int r = 0; r < RM; ++r) acc[r][j] = _mm512_dpbf16_ps(acc[r][j], w[r], x);
      }
    }
    for (int r = 0; r < RM; ++r) {
      for (int j = 0; j < RN; ++j) {
        float s = Hsum512(acc[r][j]);
        for (int64_t c = n32; c < t.n; ++c) s += Bf16ToFp32(wr[r][c]) * Bf16ToFp32(xr[j][c]);
        t.y[j * t.y_stride + r] = s;
      }
    }
  }
};

// Tile shapes: as AVX2 (measured there); 32 vector registers leave room for 4 x 4 float tiles.
constexpr int kRows = 4, kTokens = 4, kRowsK = 4, kTokensK = 2;
// Q4_0 / Q4_K in groups of 8 rows: 8 step vectors + 8 accumulators fit the 32 registers.
constexpr int kTokensX8 = 8;
// With VNNI, Q4_0x8, Q8_0x8 and Q4_Kx8 tiles take 16 tokens, so each decoded block serves twice
// the tokens (Q4_0/Q8_0: 16 accumulators + 8 step vectors still fit; Q4_Kx8's group pairs spill
// a little and still gain): prefill pp128 of TinyLlama +2.6% Q4_0, +3.7% Q8_0, +4.0% Q4_K_M in
// one-process alternation. Q6_Kx8 was 2-5% slower at 16 and keeps 8.
constexpr int kTokensX8Vnni = 16;

template <typename Kern, int MR, int NR>
TypeKernel Make(ActFormat act) {
  return {act, &DispatchTile<Kern, MR, NR>, MR, NR};
}

template <bool kVnni>
TypeKernel BlockKernel(TensorType type) {
  switch (type) {
    case TensorType::kQ4_0:
      return Make<GemmQ8_32<WQ4_0, kVnni>, kRows, kTokens>(ActFormat::kQ8_32);
    case TensorType::kQ4_1:
      return Make<GemmQ8_32<WQ4_1, kVnni>, kRows, kTokens>(ActFormat::kQ8_32);
    case TensorType::kQ5_0:
      return Make<GemmQ8_32<WQ5_0, kVnni>, kRows, kTokens>(ActFormat::kQ8_32);
    case TensorType::kQ5_1:
      return Make<GemmQ8_32<WQ5_1, kVnni>, kRows, kTokens>(ActFormat::kQ8_32);
    case TensorType::kQ8_0:
      return Make<GemmQ8_32<WQ8_0, kVnni>, kRows, kTokens>(ActFormat::kQ8_32);
    default:
      return {};
  }
}

TypeKernel Kernel(TensorType type) {
  const CpuInfo& cpu = GetCpuInfo();
  switch (type) {
    case TensorType::kQ4_K:
      return Make<GemmQ45_K<false>, kRowsK, kTokensK>(ActFormat::kQ8_K);
    case TensorType::kQ5_K:
      return Make<GemmQ45_K<true>, kRowsK, kTokensK>(ActFormat::kQ8_K);
    case TensorType::kQ6_K:
      return Make<GemmQ6_K, kRowsK, kTokensK>(ActFormat::kQ8_K);
    case TensorType::kF32:
      return Make<GemmFloat512<W16F32>, kRows, kTokens>(ActFormat::kF32);
    case TensorType::kF16:
      return Make<GemmFloat512<W16F16>, kRows, kTokens>(ActFormat::kF32);
    case TensorType::kBF16:
      if (cpu.avx512bf16) return Make<GemmBf16Dp, kRows, kTokens>(ActFormat::kBf16);
      return Make<GemmFloat512<W16BF16>, kRows, kTokens>(ActFormat::kF32);
    default:
      return cpu.avx512vnni ? BlockKernel<true>(type) : BlockKernel<false>(type);
  }
}

TypeKernel Packed(WeightLayout layout) {
  const bool vnni = GetCpuInfo().avx512vnni;
  switch (layout) {
    case WeightLayout::kQ4_0x8:
      if (vnni) {
        return {ActFormat::kQ8_32, &DispatchGroupTile<GemmQ4_0x8<true>, kTokensX8Vnni>, kQ4_0x8Rows,
                kTokensX8Vnni};
      }
      return {ActFormat::kQ8_32, &DispatchGroupTile<GemmQ4_0x8<false>, kTokensX8>, kQ4_0x8Rows,
              kTokensX8};
    case WeightLayout::kQ4_Kx8:
      if (vnni) {
        return {ActFormat::kQ8_K, &DispatchGroupTile<GemmQ4_Kx8<true>, kTokensX8Vnni>, kQ4_Kx8Rows,
                kTokensX8Vnni};
      }
      return {ActFormat::kQ8_K, &DispatchGroupTile<GemmQ4_Kx8<false>, kTokensX8>, kQ4_Kx8Rows,
              kTokensX8};
    case WeightLayout::kQ6_Kx8:
      if (vnni) {
        return {ActFormat::kQ8_K, &DispatchGroupTile<GemmQ6_Kx8<true>, kTokensX8>, kQ6_Kx8Rows,
                kTokensX8};
      }
      return {ActFormat::kQ8_K, &DispatchGroupTile<GemmQ6_Kx8<false>, kTokensX8>, kQ6_Kx8Rows,
              kTokensX8};
    case WeightLayout::kQ8_0x8:
      if (vnni) {
        return {ActFormat::kQ8_32, &DispatchGroupTile<GemmQ8_0x8, kTokensX8Vnni>, 8, kTokensX8Vnni};
      }
      return {};
    default:
      return {};
  }
}

}  // namespace
}  // namespace avx512

const IsaTable* Avx512Table() {
  static const IsaTable table{Isa::kAvx512, "avx512", avx512::Kernel, avx512::Packed,
                              avx512::ConvertRow};
  return &table;
}

}  // namespace mle::kernels::internal

#else

namespace mle::kernels::internal {
const IsaTable* Avx512Table() {
  return nullptr;
}  // not an x86-64 build
}  // namespace mle::kernels::internal

#endif
