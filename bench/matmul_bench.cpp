// matmul_bench: MatMul throughput on the TinyLlama-1.1B shapes (Google Benchmark). For each
// weight type, shape (rows x cols), token count and thread count it reports the weight bytes
// streamed per second (GB/s, the figure that matters for decode) and GFLOP/s (prefill); the
// MemRead rows give the machine's read bandwidth for the same thread counts, so the fraction is
// known. Weights are rotated over >= 256 MiB of copies so decode reads come from DRAM, as they
// do in a real model. Usage: matmul_bench [--benchmark_filter=Q4_0] (Google Benchmark flags).
#include <benchmark/benchmark.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "core/build_info.h"
#include "core/cpu_info.h"
#include "core/thread_pool.h"
#include "gguf/tensor_types.h"
#include "kernels/matmul.h"
#include "kernels/matmul_isa.h"
#include "kernels/quant_ref.h"

namespace {

using mle::gguf::TensorType;
namespace kernels = mle::kernels;

constexpr size_t kRotateBytes = size_t{256} << 20;

// A weight matrix of `rows` x `cols` in `type`, repeated over enough copies that cycling
// through them does not fit in the caches. Rows are real quantized data (64 distinct rows
// repeated, since quantizing 65M elements with the reference code would take minutes).
struct Weights {
  std::vector<uint8_t> mem;
  size_t bytes = 0;
  size_t copies = 0;
  size_t row_bytes = 0;
  kernels::WeightLayout layout = kernels::WeightLayout::kRows;  // as a loaded model has it
};

Weights MakeWeights(TensorType type, int64_t rows, int64_t cols) {
  Weights w;
  w.row_bytes = *mle::gguf::RowSizeBytes(type, cols);
  std::vector<uint8_t> stored(w.row_bytes * rows);
  std::mt19937 rng(1);
  std::normal_distribution<float> g(0.0f, 0.02f);
  const int64_t distinct = std::min<int64_t>(rows, 64);
  std::vector<float> src(cols);
  for (int64_t r = 0; r < distinct; ++r) {
    for (auto& v : src) v = g(rng);
    (void)kernels::QuantizeRow(type, src.data(), stored.data() + r * w.row_bytes, cols);
  }
  for (int64_t r = distinct; r < rows; ++r) {
    std::memcpy(stored.data() + r * w.row_bytes, stored.data() + (r % distinct) * w.row_bytes,
                w.row_bytes);
  }
  // The layout model loading would choose (kernels::PreferredLayout).
  const kernels::WeightMatrix rows_view{type, stored.data(), rows, cols, w.row_bytes};
  w.layout = kernels::PreferredLayout(rows_view);
  w.bytes = kernels::RepackedBytes(rows_view, w.layout);
  w.copies = std::max<size_t>(1, (kRotateBytes + w.bytes - 1) / w.bytes);
  w.mem.resize(w.bytes * w.copies + 64);
  kernels::RepackWeights(rows_view, w.layout, w.mem.data());
  for (size_t c = 1; c < w.copies; ++c)
    std::memcpy(w.mem.data() + c * w.bytes, w.mem.data(), w.bytes);
  return w;
}

// args: type, rows, cols, n_tokens, threads
void BM_MatMul(benchmark::State& state) {
  const auto type = static_cast<TensorType>(state.range(0));
  const int64_t rows = state.range(1), cols = state.range(2), n_tokens = state.range(3);
  const int n_threads = static_cast<int>(state.range(4));
  const Weights w = MakeWeights(type, rows, cols);
  std::vector<float> x(n_tokens * cols), y(n_tokens * rows);
  std::mt19937 rng(2);
  std::normal_distribution<float> g(0.0f, 1.0f);
  for (auto& v : x) v = g(rng);
  mle::ThreadPool pool(n_threads);
  kernels::MatMulScratch scratch;
  size_t copy = 0;
  for (auto _ : state) {
    const kernels::WeightMatrix wm{type,    w.mem.data() + copy * w.bytes, rows, cols, w.row_bytes,
                                   w.layout};
    kernels::MatMul(pool, wm, x.data(), n_tokens, cols, y.data(), rows, scratch);
    benchmark::DoNotOptimize(y.data());
    copy = (copy + 1) % w.copies;
  }
  const double iters = static_cast<double>(state.iterations());
  state.counters["GB/s"] = benchmark::Counter(iters * w.bytes / 1e9, benchmark::Counter::kIsRate);
  state.counters["GFLOP/s"] =
      benchmark::Counter(iters * 2.0 * rows * cols * n_tokens / 1e9, benchmark::Counter::kIsRate);
  state.SetLabel(std::string(mle::gguf::TensorTypeName(type)) + " " + std::to_string(rows) + "x" +
                 std::to_string(cols) + " T=" + std::to_string(n_tokens) +
                 " threads=" + std::to_string(n_threads));
}

// Compute ceiling of the decode kernels: one thread, a 256 x 2048 matrix that stays in L2, so
// the figure is the kernel's own speed (CPU time), not the memory's. args: type.
void BM_MatMulHot(benchmark::State& state) {
  const auto type = static_cast<TensorType>(state.range(0));
  const int64_t rows = 256, cols = 2048;
  Weights w = MakeWeights(type, rows, cols);
  std::vector<float> x(cols, 0.5f), y(rows);
  mle::ThreadPool pool(1);
  kernels::MatMulScratch scratch;
  const kernels::WeightMatrix wm{type, w.mem.data(), rows, cols, w.row_bytes, w.layout};
  for (auto _ : state) {
    kernels::MatMul(pool, wm, x.data(), 1, cols, y.data(), rows, scratch);
    benchmark::DoNotOptimize(y.data());
  }
  state.counters["GB/s"] = benchmark::Counter(
      static_cast<double>(state.iterations()) * w.bytes / 1e9, benchmark::Counter::kIsRate);
  state.SetLabel(std::string(mle::gguf::TensorTypeName(type)) + " L2-resident");
}

// Read bandwidth: each thread sums its share of a 1 GiB buffer of int64 (vectorized loads).
void BM_MemRead(benchmark::State& state) {
  const int n_threads = static_cast<int>(state.range(0));
  const size_t n = (size_t{1} << 30) / sizeof(int64_t);
  std::vector<int64_t> buf(n, 1);
  mle::ThreadPool pool(n_threads);
  std::atomic<int64_t> total{0};
  for (auto _ : state) {
    pool.Run([&](int ith, int nth) {
      const size_t begin = n * ith / nth, end = n * (ith + 1) / nth;
      int64_t s0 = 0, s1 = 0, s2 = 0, s3 = 0;
      for (size_t i = begin; i + 4 <= end; i += 4) {
        s0 += buf[i], s1 += buf[i + 1], s2 += buf[i + 2], s3 += buf[i + 3];
      }
      total.fetch_add(s0 + s1 + s2 + s3, std::memory_order_relaxed);
    });
  }
  benchmark::DoNotOptimize(total.load());
  state.counters["GB/s"] = benchmark::Counter(static_cast<double>(state.iterations()) * n * 8 / 1e9,
                                              benchmark::Counter::kIsRate);
  state.SetLabel("threads=" + std::to_string(n_threads));
}

void MatMulArgs(benchmark::internal::Benchmark* b) {
  const TensorType types[] = {TensorType::kQ4_0, TensorType::kQ8_0, TensorType::kQ4_K,
                              TensorType::kQ6_K, TensorType::kF16};
  // (rows, cols): attention 2048x2048, FFN up/gate 5632<-2048, FFN down 2048<-5632, output.
  const int64_t shapes[][2] = {{2048, 2048}, {5632, 2048}, {2048, 5632}, {32000, 2048}};
  for (TensorType t : types) {
    for (const auto& s : shapes) {
      for (int64_t n_tokens : {1, 128}) {
        for (int64_t threads : {1, 2}) {
          b->Args({static_cast<int64_t>(t), s[0], s[1], n_tokens, threads});
        }
      }
    }
  }
}

BENCHMARK(BM_MatMulHot)
    ->Arg(static_cast<int64_t>(TensorType::kQ4_0))
    ->Arg(static_cast<int64_t>(TensorType::kQ8_0))
    ->Arg(static_cast<int64_t>(TensorType::kQ4_K))
    ->Arg(static_cast<int64_t>(TensorType::kQ6_K))
    ->Arg(static_cast<int64_t>(TensorType::kF16));
BENCHMARK(BM_MemRead)->Arg(1)->Arg(2)->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_MatMul)->Apply(MatMulArgs)->UseRealTime()->Unit(benchmark::kMillisecond);

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  const mle::CpuInfo& cpu = mle::GetCpuInfo();
  benchmark::AddCustomContext("mle_commit", MLE_GIT_COMMIT);
  benchmark::AddCustomContext("mle_build_type", MLE_BUILD_TYPE);
  benchmark::AddCustomContext("cpu_model", cpu.model_name);
  benchmark::AddCustomContext("cpu_features", cpu.FeatureString());
  benchmark::AddCustomContext("matmul_isa", kernels::internal::ActiveTable().name);
  if (std::string(MLE_BUILD_TYPE) != "Release") {
    std::fprintf(stderr, "WARNING: %s build; figures are not representative\n", MLE_BUILD_TYPE);
  }
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
