// The per-ISA kernels directly: the activation converters (bit-exact with the scalar formats,
// which match the reference Q8_0 / Q8_K quantizers), and every tile shape of every weight
// type's kernel against double-precision dot products of the reference-dequantized weights
// with the reference-quantized activations.
#include <gtest/gtest.h>

#include <cstring>

#include "kernels/matmul_isa.h"
#include "matmul_test_util.h"

namespace mle::kernels::testing {
namespace {

using internal::ActRowBytes;

std::vector<uint8_t> Convert(const IsaTable& t, ActFormat f, const std::vector<float>& x) {
  std::vector<uint8_t> buf(ActRowBytes(f, x.size()) + 64);
  uint8_t* p = buf.data() + ((64 - reinterpret_cast<uintptr_t>(buf.data()) % 64) % 64);
  std::memset(p, 0, ActRowBytes(f, x.size()));
  t.convert(f, x.data(), p, x.size());
  return {p, p + ActRowBytes(f, x.size())};
}

// Inputs where rounding ties decide the result: with amax 127, d = 1 and x * id = x exactly.
std::vector<float> TieHeavyRow(size_t n) {
  std::vector<float> x = RandomFloats(n, 7, 20.0f);
  const float ties[] = {2.5f, -2.5f, 0.5f, -0.5f, 1.5f, -3.5f, 126.5f, -0.0f};
  for (size_t b = 0; b < n / 32; ++b) {
    x[32 * b] = (b % 2) ? 127.0f : -127.0f;
    for (int k = 0; k < 8; ++k) x[32 * b + 1 + k] = ties[k];
  }
  x[64] = 0;  // a block of zeros: d = 0
  for (int k = 0; k < 32; ++k) x[96 + k] = 0;
  return x;
}

TEST(ActivationConvert, ScalarQ8_32MatchesReferenceQ8_0) {
  const std::vector<float> x = TieHeavyRow(512);
  const auto got = Convert(*internal::ScalarTable(), ActFormat::kQ8_32, x);
  std::vector<BlockQ8_0> ref(x.size() / 32);
  QuantizeRowQ8_0(x.data(), ref.data(), x.size());
  const internal::Q8Row v = internal::Q8_32View(got.data(), x.size());
  for (size_t b = 0; b < ref.size(); ++b) {
    ASSERT_EQ(v.d[b], Fp16ToFp32(ref[b].d)) << "block " << b;
    int sum = 0;
    for (int j = 0; j < 32; ++j) {
      ASSERT_EQ(v.q[32 * b + j], ref[b].qs[j]) << "block " << b << " element " << j;
      sum += ref[b].qs[j];
    }
    ASSERT_EQ(v.s[b], v.d[b] * static_cast<float>(sum));
  }
}

TEST(ActivationConvert, ScalarQ8_KMatchesReference) {
  std::vector<float> x = TieHeavyRow(1024);
  for (int k = 0; k < 256; ++k) x[512 + k] = 0;  // an all-zero super-block
  const auto got = Convert(*internal::ScalarTable(), ActFormat::kQ8_K, x);
  std::vector<BlockQ8_K> ref(x.size() / 256);
  QuantizeRowQ8_K(x.data(), ref.data(), x.size());
  const internal::Q8KRow v = internal::Q8_KView(got.data(), x.size());
  for (size_t b = 0; b < ref.size(); ++b) {
    ASSERT_EQ(v.d[b], ref[b].d) << "block " << b;
    for (int j = 0; j < 256; ++j) ASSERT_EQ(v.q[256 * b + j], ref[b].qs[j]) << b << "/" << j;
    for (int g = 0; g < 16; ++g) ASSERT_EQ(v.bsums[16 * b + g], ref[b].bsums[g]) << b << "/" << g;
  }
}

TEST(ActivationConvert, EveryIsaMatchesScalarBitForBit) {
  const std::vector<float> x = TieHeavyRow(2048);
  const std::vector<float> y = RandomFloats(2048, 11, 3.0f);
  for (const IsaTable* t : AvailableTables()) {
    for (ActFormat f : {ActFormat::kF32, ActFormat::kBf16, ActFormat::kQ8_32, ActFormat::kQ8_K}) {
      for (const auto* in : {&x, &y}) {
        EXPECT_EQ(Convert(*t, f, *in), Convert(*internal::ScalarTable(), f, *in))
            << t->name << " format " << static_cast<int>(f);
      }
    }
  }
}

// Runs one tile of nr x nt through the kernel of `table` and checks it against the reference.
void CheckTile(const IsaTable& table, TensorType type, int nr, int nt, int64_t n) {
  const internal::TypeKernel k = table.kernel(type);
  ASSERT_NE(k.fn, nullptr);
  const TestWeights w = MakeWeights(type, nr, n, 100 + nr * 7 + nt);
  const std::vector<float> x = RandomFloats(nt * n, 200 + nr + nt * 5, 1.0f);
  const size_t arb = ActRowBytes(k.act, n);
  std::vector<uint8_t> act_mem(arb * nt + 64);
  uint8_t* act = act_mem.data() + ((64 - reinterpret_cast<uintptr_t>(act_mem.data()) % 64) % 64);
  for (int j = 0; j < nt; ++j) table.convert(k.act, x.data() + j * n, act + j * arb, n);
  const int64_t y_stride = nr + 3;
  std::vector<float> y(nt * y_stride, -1234.5f);
  internal::Tile tile{w.bytes.data(), w.row_bytes, nr, act, arb, nt, n, y.data(), y_stride};
  k.fn(tile);
  for (int j = 0; j < nt; ++j) {
    const std::vector<float> xa = ReferenceActivations(k.act, x.data() + j * n, n);
    for (int r = 0; r < nr; ++r) {
      const DotRef ref = ReferenceDot(w.values.data() + r * n, xa.data(), n);
      EXPECT_NEAR(y[j * y_stride + r], ref.dot, 2e-5 * ref.abs_sum + 1e-6)
          << table.name << " " << TypeName(type) << " tile " << nr << "x" << nt << " n=" << n
          << " row " << r << " token " << j;
    }
    for (int r = nr; r < y_stride; ++r) ASSERT_EQ(y[j * y_stride + r], -1234.5f) << "wrote outside";
  }
}

TEST(VecDot, EveryTileShapeOfEveryKernelMatchesReference) {
  for (const IsaTable* t : AvailableTables()) {
    for (TensorType type : MatMulTypes()) {
      const internal::TypeKernel k = t->kernel(type);
      if (!k.fn) continue;  // the dequantizing path; covered by matmul_test
      const int64_t n = BlockSize(type) == 1 ? 1024 + 13 : std::max(1024, 4 * BlockSize(type));
      for (int nr = 1; nr <= k.max_rows; ++nr) {
        for (int nt = 1; nt <= k.max_tokens; ++nt) CheckTile(*t, type, nr, nt, n);
      }
    }
  }
}

TEST(VecDot, EveryIsaHandlesTheMainTypes) {
  // The fast types must have real kernels (not the dequantizing fallback) on every ISA.
  for (const IsaTable* t : AvailableTables()) {
    for (TensorType type : {TensorType::kQ4_0, TensorType::kQ8_0, TensorType::kQ4_K,
                            TensorType::kQ6_K, TensorType::kF16, TensorType::kF32}) {
      EXPECT_NE(t->kernel(type).fn, nullptr) << t->name << " " << TypeName(type);
    }
  }
}

TEST(VecDot, LongRowsStayAccurate) {
  // Large sums: K-quant int32 partial sums and float accumulation over 16384 elements.
  for (const IsaTable* t : AvailableTables()) {
    for (TensorType type : {TensorType::kQ8_0, TensorType::kQ4_K, TensorType::kQ6_K,
                            TensorType::kQ5_K, TensorType::kF16}) {
      CheckTile(*t, type, 2, 1, 16384);
    }
  }
}

TEST(VecDot, SaturatingCodesAndActivations) {
  // All-extreme weights and activations: int16 pair sums and int32 group sums at their limits.
  for (const IsaTable* t : AvailableTables()) {
    for (TensorType type : {TensorType::kQ8_0, TensorType::kQ4_0, TensorType::kQ5_1,
                            TensorType::kQ4_K, TensorType::kQ5_K, TensorType::kQ6_K}) {
      const internal::TypeKernel k = t->kernel(type);
      const int64_t n = 512;
      std::vector<float> wf(n), x(n);
      for (int64_t i = 0; i < n; ++i) {
        wf[i] = (i % 3 == 0) ? -1.0f : 1.0f;
        x[i] = (i % 5 == 0) ? -1.0f : 1.0f;
      }
      std::vector<uint8_t> wb(*gguf::RowSizeBytes(type, n));
      ASSERT_TRUE(QuantizeRow(type, wf.data(), wb.data(), n).ok());
      std::vector<float> wd(n);
      ASSERT_TRUE(DequantizeRow(type, wb.data(), wd.data(), n).ok());
      std::vector<uint8_t> act(ActRowBytes(k.act, n) + 64);
      uint8_t* a = act.data() + ((64 - reinterpret_cast<uintptr_t>(act.data()) % 64) % 64);
      t->convert(k.act, x.data(), a, n);
      float y = 0;
      k.fn({wb.data(), wb.size(), 1, a, ActRowBytes(k.act, n), 1, n, &y, 1});
      const std::vector<float> xa = ReferenceActivations(k.act, x.data(), n);
      const DotRef ref = ReferenceDot(wd.data(), xa.data(), n);
      EXPECT_NEAR(y, ref.dot, 1e-5 * ref.abs_sum) << t->name << " " << TypeName(type);
    }
  }
}

}  // namespace
}  // namespace mle::kernels::testing
