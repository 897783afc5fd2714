// MatMul end to end on each ISA path this CPU has: every supported weight type, odd shapes
// (rows not a multiple of tile or thread count, 1..64 tokens, strides wider than the rows),
// 1-3 threads, against the reference (dequantized weights x reference-quantized activations,
// in double) and against the plain float product within the activation quantization error.
// Also CheckWeightMatrix's refusals.
#include "kernels/matmul.h"

#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <new>

#include "matmul_test_util.h"

// Counts global allocations (for the steady-state test below); otherwise plain malloc/free.
namespace {
std::atomic<long> g_n_allocs{0};
}  // namespace
void* operator new(size_t n) {
  g_n_allocs.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(n ? n : 1)) return p;
  throw std::bad_alloc();
}
// Not inlined: GCC would otherwise see free() meet a pointer from operator new and warn.
[[gnu::noinline]] void operator delete(void* p) noexcept {
  std::free(p);
}
[[gnu::noinline]] void operator delete(void* p, size_t) noexcept {
  std::free(p);
}
// The nothrow forms too (std::stable_sort's buffer): left to the runtime, a sanitizer's
// operator new would meet the free() above.
void* operator new(size_t n, const std::nothrow_t&) noexcept {
  g_n_allocs.fetch_add(1, std::memory_order_relaxed);
  return std::malloc(n ? n : 1);
}
[[gnu::noinline]] void operator delete(void* p, const std::nothrow_t&) noexcept {
  std::free(p);
}

namespace mle::kernels::testing {
namespace {

// Restores automatic ISA choice when a test ends.
struct IsaGuard {
  ~IsaGuard() { internal::ResetIsaForTesting(); }
};

struct Shape {
  int64_t rows, n_tokens, x_pad, y_pad;
};

// Runs MatMul and checks every output against both references.
void CheckMatMul(const IsaTable& table, TensorType type, int64_t cols, const Shape& s,
                 int n_threads, ThreadPool& pool, MatMulScratch& scratch,
                 WeightLayout layout = WeightLayout::kRows) {
  const TestWeights w = MakeWeights(type, s.rows, cols, static_cast<uint32_t>(s.rows * 31 + cols));
  const int64_t x_stride = cols + s.x_pad, y_stride = s.rows + s.y_pad;
  const std::vector<float> x =
      RandomFloats(s.n_tokens * x_stride, static_cast<uint32_t>(s.n_tokens));
  const float kSentinel = 777.0f;
  std::vector<float> y(s.n_tokens * y_stride, kSentinel);
  const WeightMatrix rows{type, w.bytes.data(), s.rows, cols, w.row_bytes};
  ASSERT_TRUE(CheckWeightMatrix(rows).ok()) << CheckWeightMatrix(rows).ToString();
  std::vector<uint8_t> packed(RepackedBytes(rows, layout));
  const WeightMatrix wm = RepackWeights(rows, layout, packed.data());
  ASSERT_TRUE(CheckWeightMatrix(wm).ok()) << CheckWeightMatrix(wm).ToString();
  MatMul(pool, wm, x.data(), s.n_tokens, x_stride, y.data(), y_stride, scratch);

  const ActFormat f = ActFormatFor(table, type);
  const std::string where = std::string(table.name) + " " + TypeName(type) +
                            " rows=" + std::to_string(s.rows) + " cols=" + std::to_string(cols) +
                            " tokens=" + std::to_string(s.n_tokens) +
                            " threads=" + std::to_string(n_threads);
  for (int64_t t = 0; t < s.n_tokens; ++t) {
    const float* xt = x.data() + t * x_stride;
    const std::vector<float> xa = ReferenceActivations(f, xt, cols);
    for (int64_t r = 0; r < s.rows; ++r) {
      const float got = y[t * y_stride + r];
      const DotRef ref = ReferenceDot(w.values.data() + r * cols, xa.data(), cols);
      ASSERT_NEAR(got, ref.dot, 2e-5 * ref.abs_sum + 1e-6) << where << " r=" << r << " t=" << t;
      // Against the unquantized activations: within the activation rounding (Q8: ~1/254 of
      // each |x|, BF16: 2^-9).
      const DotRef exact = ReferenceDot(w.values.data() + r * cols, xt, cols);
      const double q_err = f == ActFormat::kF32 ? 2e-5 : 1e-2;
      ASSERT_NEAR(got, exact.dot, q_err * exact.abs_sum + 1e-6) << where << " (float product)";
    }
    for (int64_t r = s.rows; r < y_stride; ++r) {
      ASSERT_EQ(y[t * y_stride + r], kSentinel) << where << ": wrote into the y padding";
    }
  }
}

TEST(MatMul, EveryTypeEveryIsaOddShapesAndThreads) {
  IsaGuard guard;
  const std::vector<Shape> shapes = {{1, 1, 0, 0},   {7, 2, 5, 1},   {37, 3, 0, 4},
                                     {64, 5, 32, 0}, {13, 17, 1, 2}, {50, 64, 0, 0}};
  for (const IsaTable* table : AvailableTables()) {
    ASSERT_TRUE(internal::SetIsaForTesting(table->isa));
    ASSERT_EQ(&internal::ActiveTable(), table);
    for (int n_threads : {1, 2, 3}) {
      ThreadPool pool(n_threads);
      MatMulScratch scratch;  // reused across calls, as the model does
      for (TensorType type : MatMulTypes()) {
        const int bs = BlockSize(type);
        const int64_t cols = bs == 1 ? 75 : (bs == 32 ? 160 : 512);
        for (const Shape& s : shapes) {
          CheckMatMul(*table, type, cols, s, n_threads, pool, scratch);
          if (HasFatalFailure()) return;
        }
      }
    }
  }
}

// The repacked layouts and the weight types they hold.
const std::pair<WeightLayout, TensorType> kLayouts[] = {{WeightLayout::kQ4_0x8, TensorType::kQ4_0},
                                                        {WeightLayout::kQ4_Kx8, TensorType::kQ4_K},
                                                        {WeightLayout::kQ6_Kx8, TensorType::kQ6_K},
                                                        {WeightLayout::kQ8_0x8, TensorType::kQ8_0}};

TEST(MatMul, RepackedLayoutsEveryIsaShapesAndThreads) {
  // Interleaved groups of 8 rows: whole groups only; 1..19 tokens cover every tile width.
  IsaGuard guard;
  const std::vector<Shape> shapes = {{8, 1, 0, 0},   {16, 2, 5, 1},  {8, 9, 0, 3},
                                     {64, 5, 32, 0}, {40, 19, 1, 2}, {136, 64, 0, 0}};
  for (const IsaTable* table : AvailableTables()) {
    ASSERT_TRUE(internal::SetIsaForTesting(table->isa));
    for (int n_threads : {1, 2, 3}) {
      ThreadPool pool(n_threads);
      MatMulScratch scratch;
      for (const auto& [layout, type] : kLayouts) {
        for (int64_t cols : {256, 512, 2048}) {
          for (const Shape& s : shapes) {
            CheckMatMul(*table, type, cols, s, n_threads, pool, scratch, layout);
            if (HasFatalFailure()) return;
          }
        }
      }
    }
  }
}

TEST(MatMul, RepackedLayoutsMatchRowLayout) {
  // The same integer sums in another order of memory: results agree to float rounding.
  IsaGuard guard;
  ThreadPool pool(2);
  MatMulScratch scratch;
  const int64_t rows = 48, cols = 1024, n_tokens = 7;
  for (const auto& [layout, type] : kLayouts) {
    const TestWeights w = MakeWeights(type, rows, cols, 11);
    const std::vector<float> x = RandomFloats(n_tokens * cols, 12);
    const WeightMatrix wm{type, w.bytes.data(), rows, cols, w.row_bytes};
    std::vector<uint8_t> packed(RepackedBytes(wm, layout));
    const WeightMatrix wp = RepackWeights(wm, layout, packed.data());
    EXPECT_NE(packed, w.bytes);
    for (const IsaTable* table : AvailableTables()) {
      ASSERT_TRUE(internal::SetIsaForTesting(table->isa));
      std::vector<float> y_rows(rows * n_tokens), y_packed(rows * n_tokens);
      MatMul(pool, wm, x.data(), n_tokens, cols, y_rows.data(), rows, scratch);
      MatMul(pool, wp, x.data(), n_tokens, cols, y_packed.data(), rows, scratch);
      for (size_t i = 0; i < y_rows.size(); ++i) {
        ASSERT_NEAR(y_packed[i], y_rows[i], 1e-4 * (1 + std::fabs(y_rows[i])))
            << TypeName(type) << " " << table->name << " i=" << i;
      }
    }
  }
}

TEST(MatMul, PreferredLayoutInterleavesOnlyWholeGroups) {
  IsaGuard guard;
  for (const auto& [layout, type] : kLayouts) {
    const TestWeights w = MakeWeights(type, 16, 256, 3);
    WeightMatrix wm{type, w.bytes.data(), 16, 256, w.row_bytes};
    ASSERT_TRUE(internal::SetIsaForTesting(Isa::kScalar));
    EXPECT_EQ(PreferredLayout(wm), WeightLayout::kRows);  // no gain without SIMD
    internal::ResetIsaForTesting();
    // Only where the CPU's table has a kernel for it (kQ8_0x8 needs AVX512-VNNI).
    const bool simd = internal::ActiveTable().isa != Isa::kScalar &&
                      internal::ActiveTable().packed(layout).fn != nullptr;
    EXPECT_EQ(PreferredLayout(wm), simd ? layout : WeightLayout::kRows);
    wm.rows = 12;
    EXPECT_EQ(PreferredLayout(wm), WeightLayout::kRows);
    wm.layout = layout;
    EXPECT_FALSE(CheckWeightMatrix(wm).ok());  // not whole groups
  }
  const TestWeights w8 = MakeWeights(TensorType::kQ5_0, 16, 256, 3);
  WeightMatrix q8{TensorType::kQ5_0, w8.bytes.data(), 16, 256, w8.row_bytes};
  EXPECT_EQ(PreferredLayout(q8), WeightLayout::kRows);
  for (const auto& [layout, type] : kLayouts) {
    q8.layout = layout;
    const Status s = CheckWeightMatrix(q8);
    EXPECT_FALSE(s.ok());
    EXPECT_NE(s.message().find("needs " + TypeName(type)), std::string::npos) << s.message();
  }
}

TEST(MatMul, LargerMatrixManyChunks) {
  // Enough rows that threads take several chunks each from the shared counter.
  IsaGuard guard;
  for (const IsaTable* table : AvailableTables()) {
    ASSERT_TRUE(internal::SetIsaForTesting(table->isa));
    ThreadPool pool(3);
    MatMulScratch scratch;
    for (TensorType type : {TensorType::kQ4_0, TensorType::kQ8_0, TensorType::kQ4_K,
                            TensorType::kQ6_K, TensorType::kF16}) {
      CheckMatMul(*table, type, 1024, {301, 9, 0, 0}, 3, pool, scratch);
      if (HasFatalFailure()) return;
    }
  }
}

TEST(MatMul, IsaPathsAgree) {
  // Every path computes the same integer sums; only float summation order differs.
  IsaGuard guard;
  const auto tables = AvailableTables();
  if (tables.size() < 2) GTEST_SKIP() << "only the scalar path on this CPU";
  ThreadPool pool(2);
  MatMulScratch scratch;
  for (TensorType type : MatMulTypes()) {
    const int64_t cols = 1024, rows = 19, n_tokens = 6;
    const TestWeights w = MakeWeights(type, rows, cols, 5);
    const std::vector<float> x = RandomFloats(n_tokens * cols, 6);
    const WeightMatrix wm{type, w.bytes.data(), rows, cols, w.row_bytes};
    std::vector<std::vector<float>> ys;
    for (const IsaTable* table : tables) {
      ASSERT_TRUE(internal::SetIsaForTesting(table->isa));
      ys.emplace_back(rows * n_tokens);
      MatMul(pool, wm, x.data(), n_tokens, cols, ys.back().data(), rows, scratch);
    }
    for (size_t k = 1; k < ys.size(); ++k) {
      for (size_t i = 0; i < ys[0].size(); ++i) {
        // BF16 on AVX512-BF16 rounds the activations: compare loosely there.
        const double tol = type == TensorType::kBF16 ? 1e-2 : 1e-4;
        ASSERT_NEAR(ys[k][i], ys[0][i], tol * (1 + std::fabs(ys[0][i])))
            << TypeName(type) << " " << tables[k]->name << " vs scalar, i=" << i;
      }
    }
  }
}

TEST(MatMulShared, SameNumbersAsSeparateCalls) {
  // Q/K/V-like products of mixed types (two activation formats, one dequantized type, repacked
  // and row layouts) into one strided output, on every ISA, 1-3 threads, decode and prefill.
  IsaGuard guard;
  const int64_t cols = 512;
  const std::pair<TensorType, int64_t> parts[] = {{TensorType::kQ4_K, 64},
                                                  {TensorType::kQ6_K, 24},
                                                  {TensorType::kQ8_0, 16},
                                                  {TensorType::kQ3_K, 9}};
  std::vector<TestWeights> ws;
  std::vector<std::vector<uint8_t>> packed;
  std::vector<WeightMatrix> wms;
  int64_t y_stride = 3;  // padding after the last product
  for (const auto& [type, rows] : parts) {
    ws.push_back(MakeWeights(type, rows, cols, static_cast<uint32_t>(rows)));
    const WeightMatrix wm{type, ws.back().bytes.data(), rows, cols, ws.back().row_bytes};
    packed.emplace_back(RepackedBytes(wm, PreferredLayout(wm)));
    wms.push_back(RepackWeights(wm, PreferredLayout(wm), packed.back().data()));
    y_stride += rows;
  }
  const std::vector<float> x = RandomFloats(33 * cols, 8);
  for (const IsaTable* table : AvailableTables()) {
    ASSERT_TRUE(internal::SetIsaForTesting(table->isa));
    for (int n_threads : {1, 2, 3}) {
      ThreadPool pool(n_threads);
      MatMulScratch scratch;
      for (int64_t n_tokens : {1, 33}) {
        std::vector<float> want(n_tokens * y_stride, 0.5f), got(n_tokens * y_stride, 0.5f);
        std::vector<MatMulOutput> outs;
        int64_t off = 0;
        for (const WeightMatrix& wm : wms) {
          MatMul(pool, wm, x.data(), n_tokens, cols, want.data() + off, y_stride, scratch);
          outs.push_back({&wm, got.data() + off});
          off += wm.rows;
        }
        MatMulShared(pool, outs.data(), static_cast<int>(outs.size()), x.data(), n_tokens, cols,
                     y_stride, scratch);
        ASSERT_EQ(got, want) << table->name << " threads=" << n_threads << " tokens=" << n_tokens;
      }
    }
  }
}

TEST(MatMul, AllocatesNothingInSteadyState) {
  IsaGuard guard;
  ThreadPool pool(2);
  MatMulScratch scratch;
  for (TensorType type :
       {TensorType::kQ4_0, TensorType::kQ4_K, TensorType::kF16, TensorType::kQ3_K}) {
    const TestWeights w = MakeWeights(type, 64, 512, 3);
    const WeightMatrix wm{type, w.bytes.data(), 64, 512, w.row_bytes};
    const std::vector<float> x = RandomFloats(128 * 512, 4);
    std::vector<float> y(128 * 64);
    for (int64_t n_tokens : {128, 1}) {  // the larger call sizes the scratch
      MatMul(pool, wm, x.data(), n_tokens, 512, y.data(), 64, scratch);
    }
    const long before = g_n_allocs.load();
    for (int64_t n_tokens : {1, 7, 128}) {
      MatMul(pool, wm, x.data(), n_tokens, 512, y.data(), 64, scratch);
    }
    EXPECT_EQ(g_n_allocs.load() - before, 0) << TypeName(type);
  }
}

TEST(CheckWeightMatrix, AcceptsSupportedTypes) {
  for (TensorType type : MatMulTypes()) {
    EXPECT_TRUE(MatMulSupports(type)) << TypeName(type);
    const TestWeights w = MakeWeights(type, 2, 256, 1);
    EXPECT_TRUE(CheckWeightMatrix({type, w.bytes.data(), 2, 256, w.row_bytes}).ok());
  }
}

TEST(CheckWeightMatrix, RejectsUnsupportedTypesByName) {
  std::vector<uint8_t> mem(4096);
  for (TensorType type : {TensorType::kIQ2_XXS, TensorType::kIQ4_NL, TensorType::kI32,
                          TensorType::kQ8_K, TensorType::kTQ1_0}) {
    EXPECT_FALSE(MatMulSupports(type));
    const auto rb = gguf::RowSizeBytes(type, 256);
    const Status s = CheckWeightMatrix({type, mem.data(), 1, 256, rb ? *rb : 0});
    ASSERT_FALSE(s.ok()) << TypeName(type);
    EXPECT_NE(s.message().find("does not support weights of type " + TypeName(type)),
              std::string::npos)
        << s.ToString();
  }
  const Status s = CheckWeightMatrix({static_cast<TensorType>(77), mem.data(), 1, 32, 34});
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("#77"), std::string::npos) << s.ToString();
}

TEST(CheckWeightMatrix, RejectsBadShapesAndRowBytes) {
  std::vector<uint8_t> mem(4096);
  const Status bad_rb = CheckWeightMatrix({TensorType::kQ8_0, mem.data(), 2, 64, 70});
  ASSERT_FALSE(bad_rb.ok());
  EXPECT_NE(bad_rb.message().find("row_bytes 70"), std::string::npos) << bad_rb.ToString();
  EXPECT_NE(bad_rb.message().find("expected 68"), std::string::npos) << bad_rb.ToString();

  const Status bad_cols = CheckWeightMatrix({TensorType::kQ4_K, mem.data(), 2, 300, 144});
  ASSERT_FALSE(bad_cols.ok());
  EXPECT_NE(bad_cols.message().find("block size 256"), std::string::npos) << bad_cols.ToString();

  EXPECT_FALSE(CheckWeightMatrix({TensorType::kF32, mem.data(), 0, 8, 32}).ok());
  EXPECT_FALSE(CheckWeightMatrix({TensorType::kF32, nullptr, 1, 8, 32}).ok());
  EXPECT_FALSE(CheckWeightMatrix({TensorType::kF16, mem.data() + 1, 1, 8, 16}).ok());
}

}  // namespace
}  // namespace mle::kernels::testing
