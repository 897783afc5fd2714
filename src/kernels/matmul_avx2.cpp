// The AVX2 + FMA + F16C kernel table (this file alone is compiled with -mavx2 -mfma -mf16c; the
// driver only uses it when GetCpuInfo() reports all three). On other architectures the table
// is absent (Avx2Table() returns nullptr) and MatMul uses the portable kernels.
#include "kernels/matmul_isa.h"

#if defined(__x86_64__) && defined(__AVX2__) && defined(__FMA__) && defined(__F16C__)

#define MLE_X86_NS avx2
#include "kernels/matmul_x86_kq.h"
#include "kernels/matmul_x86_q8.h"

namespace mle::kernels::internal {
namespace avx2 {
namespace {

using gguf::TensorType;

// Tile shapes (measured on Zen 3, 2048x2048 x 128 tokens): block quants 4 rows x 4 tokens
// (16 accumulators; the decoded weights are reloaded from L1), float types 3 x 4, K-quants
// 4 x 2 (they also hold an int32 sum per pair).
constexpr int kRows = 4, kTokens = 4, kRowsF = 3, kTokensF = 4, kRowsK = 4, kTokensK = 2;
// Q4_0 / Q4_K in groups of 8 rows: 8 step vectors + 4 accumulators + temporaries fill the 16
// registers.
constexpr int kTokensX8 = 4;

template <typename Kern, int MR, int NR>
TypeKernel Make(ActFormat act) {
  return {act, &DispatchTile<Kern, MR, NR>, MR, NR};
}

TypeKernel Kernel(TensorType type) {
  switch (type) {
    case TensorType::kQ4_0:
      return Make<GemmQ8_32<WQ4_0, false>, kRows, kTokens>(ActFormat::kQ8_32);
    case TensorType::kQ4_1:
      return Make<GemmQ8_32<WQ4_1, false>, kRows, kTokens>(ActFormat::kQ8_32);
    case TensorType::kQ5_0:
      return Make<GemmQ8_32<WQ5_0, false>, kRows, kTokens>(ActFormat::kQ8_32);
    case TensorType::kQ5_1:
      return Make<GemmQ8_32<WQ5_1, false>, kRows, kTokens>(ActFormat::kQ8_32);
    case TensorType::kQ8_0:
      return Make<GemmQ8_32<WQ8_0, false>, kRows, kTokens>(ActFormat::kQ8_32);
    case TensorType::kQ4_K:
      return Make<GemmQ45_K<false>, kRowsK, kTokensK>(ActFormat::kQ8_K);
    case TensorType::kQ5_K:
      return Make<GemmQ45_K<true>, kRowsK, kTokensK>(ActFormat::kQ8_K);
    case TensorType::kQ6_K:
      return Make<GemmQ6_K, kRowsK, kTokensK>(ActFormat::kQ8_K);
    case TensorType::kF32:
      return Make<GemmFloat<WF32>, kRowsF, kTokensF>(ActFormat::kF32);
    case TensorType::kF16:
      return Make<GemmFloat<WF16>, kRowsF, kTokensF>(ActFormat::kF32);
    case TensorType::kBF16:
      return Make<GemmFloat<WBF16>, kRowsF, kTokensF>(ActFormat::kF32);
    default:
      return {};
  }
}

TypeKernel Packed(WeightLayout layout) {
  switch (layout) {
    case WeightLayout::kQ4_0x8:
      return {ActFormat::kQ8_32, &DispatchGroupTile<GemmQ4_0x8<false>, kTokensX8>, kQ4_0x8Rows,
              kTokensX8};
    case WeightLayout::kQ4_Kx8:
      return {ActFormat::kQ8_K, &DispatchGroupTile<GemmQ4_Kx8<false>, kTokensX8>, kQ4_Kx8Rows,
              kTokensX8};
    case WeightLayout::kQ6_Kx8:
      return {ActFormat::kQ8_K, &DispatchGroupTile<GemmQ6_Kx8<false>, kTokensX8>, kQ6_Kx8Rows,
              kTokensX8};
    default:
      return {};
  }
}

}  // namespace
}  // namespace avx2

const IsaTable* Avx2Table() {
  static const IsaTable table{Isa::kAvx2, "avx2", avx2::Kernel, avx2::Packed, avx2::ConvertRow};
  return &table;
}

}  // namespace mle::kernels::internal

#else

namespace mle::kernels::internal {
const IsaTable* Avx2Table() {
  return nullptr;
}  // not an x86-64 build
}  // namespace mle::kernels::internal

#endif
