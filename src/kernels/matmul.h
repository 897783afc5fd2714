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

// A 2-D weight matrix in its stored layout: `rows` rows of `cols` elements, each row
// `row_bytes` bytes (RowSizeBytes(type, cols)), rows contiguous.
struct WeightMatrix {
  gguf::TensorType type = gguf::TensorType::kF32;
  const void* data = nullptr;
  int64_t rows = 0;
  int64_t cols = 0;
  size_t row_bytes = 0;
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

}  // namespace mle::kernels
