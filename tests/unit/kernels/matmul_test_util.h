// Helpers for the matmul and vec_dot tests: random weight matrices in any GGUF type (quantized
// with the reference code, with their dequantized values), the reference view of activations
// in each kernel activation format, and the ISA tables this CPU can run.
#pragma once

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "gguf/tensor_types.h"
#include "kernels/float_convert.h"
#include "kernels/matmul_isa.h"
#include "kernels/quant_ref.h"

namespace mle::kernels::testing {

using gguf::TensorType;
using internal::ActFormat;
using internal::Isa;
using internal::IsaTable;

// Weight types with a MatMul kernel or the dequantizing fallback.
inline std::vector<TensorType> MatMulTypes() {
  return {TensorType::kF32,  TensorType::kF16,  TensorType::kBF16, TensorType::kQ4_0,
          TensorType::kQ4_1, TensorType::kQ5_0, TensorType::kQ5_1, TensorType::kQ8_0,
          TensorType::kQ2_K, TensorType::kQ3_K, TensorType::kQ4_K, TensorType::kQ5_K,
          TensorType::kQ6_K};
}

inline int BlockSize(TensorType t) {
  return static_cast<int>(gguf::GetTensorTypeInfo(t)->block_size);
}

inline std::string TypeName(TensorType t) {
  return std::string(gguf::TensorTypeName(t));
}

// The ISA tables available on this machine (scalar always).
inline std::vector<const IsaTable*> AvailableTables() {
  std::vector<const IsaTable*> out;
  for (Isa isa : {Isa::kScalar, Isa::kAvx2, Isa::kAvx512}) {
    if (const IsaTable* t = internal::TableFor(isa)) out.push_back(t);
  }
  return out;
}

// Gaussian values with a per-row scale and a few outliers, like real weights and activations.
inline std::vector<float> RandomFloats(size_t n, uint32_t seed, float scale = 1.0f) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> g(0.0f, scale);
  std::vector<float> v(n);
  for (auto& x : v) x = g(rng);
  for (size_t i = 0; i < n; i += 97) v[i] *= 4;
  return v;
}

struct TestWeights {
  TensorType type;
  int64_t rows = 0, cols = 0;
  size_t row_bytes = 0;
  std::vector<uint8_t> bytes;  // rows * row_bytes, 64-byte aligned by the allocator's grace
  std::vector<float> values;   // dequantized, rows * cols
};

inline TestWeights MakeWeights(TensorType type, int64_t rows, int64_t cols, uint32_t seed) {
  TestWeights w;
  w.type = type;
  w.rows = rows;
  w.cols = cols;
  w.row_bytes = *gguf::RowSizeBytes(type, cols);
  w.bytes.resize(rows * w.row_bytes);
  w.values.resize(rows * cols);
  const std::vector<float> src = RandomFloats(rows * cols, seed, 0.05f);
  for (int64_t r = 0; r < rows; ++r) {
    uint8_t* dst = w.bytes.data() + r * w.row_bytes;
    EXPECT_TRUE(QuantizeRow(type, src.data() + r * cols, dst, cols).ok());
    EXPECT_TRUE(DequantizeRow(type, dst, w.values.data() + r * cols, cols).ok());
  }
  return w;
}

// The activation values a kernel of format f effectively multiplies with, through the
// reference quantizers (QuantizeRowQ8_0 for kQ8_32, QuantizeRowQ8_K for kQ8_K).
inline std::vector<float> ReferenceActivations(ActFormat f, const float* x, int64_t n) {
  std::vector<float> out(n);
  switch (f) {
    case ActFormat::kF32:
      std::memcpy(out.data(), x, 4 * n);
      break;
    case ActFormat::kBf16:
      for (int64_t i = 0; i < n; ++i) out[i] = Bf16ToFp32(Fp32ToBf16(x[i]));
      break;
    case ActFormat::kQ8_32: {
      std::vector<BlockQ8_0> q(n / 32);
      QuantizeRowQ8_0(x, q.data(), n);
      DequantizeRowQ8_0(q.data(), out.data(), n);
      break;
    }
    case ActFormat::kQ8_K: {
      std::vector<BlockQ8_K> q(n / 256);
      QuantizeRowQ8_K(x, q.data(), n);
      DequantizeRowQ8_K(q.data(), out.data(), n);
      break;
    }
  }
  return out;
}

// The activation format `table` uses for weights of `type` (F32 for the dequantizing path).
inline ActFormat ActFormatFor(const IsaTable& table, TensorType type) {
  const internal::TypeKernel k = table.kernel(type);
  return k.fn ? k.act : ActFormat::kF32;
}

struct DotRef {
  double dot = 0;      // sum w * x in double
  double abs_sum = 0;  // sum |w * x|: the scale that float rounding errors are relative to
};

inline DotRef ReferenceDot(const float* w, const float* x, int64_t n) {
  DotRef r;
  for (int64_t i = 0; i < n; ++i) {
    const double p = static_cast<double>(w[i]) * x[i];
    r.dot += p;
    r.abs_sum += std::fabs(p);
  }
  return r;
}

}  // namespace mle::kernels::testing
