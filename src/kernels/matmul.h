// Matrix multiplication of a GGUF weight matrix (used in place, in its stored type) with float
// activations: the operation that dominates LLM inference. Y = X * W^T, where W has `rows`
// output features of `cols` inputs each (GGUF ne0 = cols, ne1 = rows) and X holds n_tokens
// activation rows. Work is split over the pool's threads by output rows.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "core/status.h"
#include "core/thread_pool.h"
#include "gguf/tensor_types.h"

namespace mle::kernels {

// How a weight matrix's bytes are arranged. kRows: as GGUF stores them, row after row.
// kQ4_0x8: Q4_0 rows interleaved 8 at a time by RepackWeights (same byte count): for each group
// of 8 rows and each block b, the 8 rows' F16 scales (16 bytes), then 4 x 32 code bytes where
// bytes 4i..4i+3 of vector v are row i's qs[4v..4v+3]. One 8-lane integer dot step then
// multiplies 4 elements of all 8 rows with the same 4 activations, so each row's sum stays in
// its own lane and needs no horizontal reduction; a group is also one sequential stream.
// kQ4_Kx8: Q4_K in the same scheme, per super-block of 8 rows: 8 F16 d, 8 F16 dmin, the
// 6-bit scales [group][row] and mins [group pair][row][2] split into low nibbles and top bit
// pairs (96 bytes, matmul_isa.h), then 32 code vectors (chunk c, step k) holding row i's
// qs[32c+4k..+3] at bytes 4i..4i+3 (low nibbles: group 2c, high: group 2c+1); 1152 bytes per
// 8 x 256 elements, as stored.
// kQ6_Kx8: Q6_K per super-block of 8 rows: 8 F16 d, the int8 group scales [group pair][row][2],
// then per group of 16 three vectors: two of low nibbles (steps 0|1 and 2|3 as low|high
// nibble) and one of the 2-bit high parts of all 4 steps; 1680 bytes, as stored.
// kQ8_0x8: Q8_0 per block of 8 rows: 8 F16 scales, then 8 step vectors of codes + 128 as
// unsigned bytes (row i's elements 4k..4k+3 at bytes 4i.. of vector k); 272 bytes, as stored.
// Only CPUs with AVX512-VNNI have its kernel (unsigned x signed bytes summed in int32).
enum class WeightLayout : uint8_t { kRows, kQ4_0x8, kQ4_Kx8, kQ6_Kx8, kQ8_0x8 };

// A 2-D weight matrix: `rows` rows of `cols` elements, each row `row_bytes` bytes
// (RowSizeBytes(type, cols)); rows contiguous (kRows) or in groups of 8 (the repacked layouts,
// where group g spans bytes [8 g row_bytes, 8 (g + 1) row_bytes)).
struct WeightMatrix {
  gguf::TensorType type = gguf::TensorType::kF32;
  const void* data = nullptr;
  int64_t rows = 0;
  int64_t cols = 0;
  size_t row_bytes = 0;
  WeightLayout layout = WeightLayout::kRows;
};

// Scratch memory a caller keeps across calls (quantized activations, per-thread buffers), so
// that MatMul allocates nothing in steady state. One per concurrent caller.
class MatMulScratch {
 public:
  // Returns a buffer of at least `bytes` bytes, 64-byte aligned; valid until the next call.
  uint8_t* Get(size_t slot, size_t bytes);

 private:
  struct Buf {
    std::vector<uint8_t> mem;
  };
  std::vector<Buf> bufs_;
};

// True when MatMul supports weights of type `t`: F32, F16, BF16, Q4_0, Q4_1, Q5_0, Q5_1, Q8_0,
// Q2_K, Q3_K, Q4_K, Q5_K, Q6_K.
bool MatMulSupports(gguf::TensorType t);

// Checks that `w` is well-formed for MatMul: supported type, cols a multiple of the block size,
// row_bytes matching. Model loading calls this once per weight.
Status CheckWeightMatrix(const WeightMatrix& w);

// The layout MatMul runs `w` (stored as kRows) fastest in on this CPU: kQ4_0x8 / kQ4_Kx8 /
// kQ6_Kx8 / kQ8_0x8 for Q4_0 / Q4_K / Q6_K / Q8_0 matrices with a multiple of 8 rows where a SIMD
// kernel for it exists, else kRows.
WeightLayout PreferredLayout(const WeightMatrix& w);

// Bytes of `w`'s data in `layout`: rows * row_bytes for every layout.
size_t RepackedBytes(const WeightMatrix& w, WeightLayout layout);

// Copies `w` (layout kRows) into `dst` (RepackedBytes(w, layout) bytes) in `layout` and returns
// the matrix viewing dst. REQUIRES: CheckWeightMatrix(w).ok(), w.layout == kRows, and layout
// is kRows or PreferredLayout(w)'s choice for its type and shape.
WeightMatrix RepackWeights(const WeightMatrix& w, WeightLayout layout, void* dst);

// y[t * y_stride + r] = sum_c W[r][c] * x[t * x_stride + c] for t < n_tokens, r < w.rows.
// As in llama.cpp, the activations are first rounded to the weight type's dot-product format:
// Q8_0 blocks for Q4_0/Q4_1/Q5_0/Q5_1/Q8_0 weights, Q8_K for Q4_K/Q5_K/Q6_K, BF16 for BF16 on
// CPUs with AVX512-BF16, else kept in F32 (F32, F16, BF16, Q2_K, Q3_K). The result matches a
// double-precision product of the dequantized weights with those rounded activations to ~1e-5
// of sum |w x|. Uses every thread of `pool`; allocates nothing once `scratch` has grown.
// REQUIRES: CheckWeightMatrix(w).ok(); x and y do not overlap; x_stride >= cols,
// y_stride >= rows. Not reentrant on one `scratch`.
void MatMul(ThreadPool& pool, const WeightMatrix& w, const float* x, int64_t n_tokens,
            int64_t x_stride, float* y, int64_t y_stride, MatMulScratch& scratch);

// One product of MatMulShared: weight matrix w, written to y.
struct MatMulOutput {
  const WeightMatrix* w;
  float* y;
};

// MatMul for up to 4 weight matrices with the same `cols` applied to the same activations x
// (the Q/K/V or gate/up projections): y_i[t * y_stride + r] = sum_c W_i[r][c] * x[t][c].
// Each activation format is converted once, and all products run as one pool job, so the
// threads meet once instead of once per matrix. Same numbers as separate MatMul calls.
// REQUIRES: 1 <= n_outs <= 4, each w as for MatMul, all with the same cols; no y overlaps x.
void MatMulShared(ThreadPool& pool, const MatMulOutput* outs, int n_outs, const float* x,
                  int64_t n_tokens, int64_t x_stride, int64_t y_stride, MatMulScratch& scratch);

}  // namespace mle::kernels
