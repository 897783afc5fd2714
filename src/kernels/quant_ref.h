// Scalar reference implementations of the GGUF tensor formats: dequantize a row to float for
// every supported type, and quantize a row from float with llama.cpp's reference algorithms
// (ggml-quants.c quantize_row_*_ref, no importance matrix), so that a tensor quantized here has
// the same bytes llama-quantize writes. These are the ground truth the fast kernels are tested
// against; they are written for clarity, not speed.
#pragma once

#include <cstdint>

#include "core/status.h"
#include "gguf/tensor_types.h"
#include "kernels/quant_blocks.h"

namespace mle::kernels {

// ---- Generic entry points -------------------------------------------------------------------

// Converts a row of n elements of type `type` at `src` to float.
// Supported: F32, F16, BF16, Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, Q8_1, Q2_K, Q3_K, Q4_K, Q5_K, Q6_K,
// Q8_K. Errors (InvalidArgument): another type, n < 0, n not a multiple of the block size, or
// `src` not aligned to the type's block alignment (2 bytes; 4 for F32 and Q8_K).
// Thread-safe (no shared state).
Status DequantizeRow(gguf::TensorType type, const void* src, float* dst, int64_t n);

// Encodes a row of n floats as type `type` into `dst` (RowSizeBytes(type, n) bytes), with
// llama.cpp's reference algorithm for that type. Supported: the same types as DequantizeRow.
// Errors as DequantizeRow. Thread-safe.
Status QuantizeRow(gguf::TensorType type, const float* src, void* dst, int64_t n);

// True when QuantizeRow supports `type`.
bool CanQuantize(gguf::TensorType type);
// True when DequantizeRow supports `type`.
bool CanDequantize(gguf::TensorType type);

// ---- Typed rows. REQUIRES: n is a multiple of the type's block size. -----------------------

void DequantizeRowF16(const uint16_t* x, float* y, int64_t n);
void DequantizeRowBf16(const uint16_t* x, float* y, int64_t n);
void QuantizeRowF16(const float* x, uint16_t* y, int64_t n);
void QuantizeRowBf16(const float* x, uint16_t* y, int64_t n);

void DequantizeRowQ4_0(const BlockQ4_0* x, float* y, int64_t n);
void DequantizeRowQ4_1(const BlockQ4_1* x, float* y, int64_t n);
void DequantizeRowQ5_0(const BlockQ5_0* x, float* y, int64_t n);
void DequantizeRowQ5_1(const BlockQ5_1* x, float* y, int64_t n);
void DequantizeRowQ8_0(const BlockQ8_0* x, float* y, int64_t n);
void DequantizeRowQ8_1(const BlockQ8_1* x, float* y, int64_t n);
void DequantizeRowQ2_K(const BlockQ2_K* x, float* y, int64_t n);
void DequantizeRowQ3_K(const BlockQ3_K* x, float* y, int64_t n);
void DequantizeRowQ4_K(const BlockQ4_K* x, float* y, int64_t n);
void DequantizeRowQ5_K(const BlockQ5_K* x, float* y, int64_t n);
void DequantizeRowQ6_K(const BlockQ6_K* x, float* y, int64_t n);
void DequantizeRowQ8_K(const BlockQ8_K* x, float* y, int64_t n);

// Symmetric 4-bit: d = -max/8 where max is the element of largest magnitude.
void QuantizeRowQ4_0(const float* x, BlockQ4_0* y, int64_t n);
// Asymmetric 4-bit over [min, max].
void QuantizeRowQ4_1(const float* x, BlockQ4_1* y, int64_t n);
// Symmetric 5-bit: d = -max/16.
void QuantizeRowQ5_0(const float* x, BlockQ5_0* y, int64_t n);
// Asymmetric 5-bit over [min, max].
void QuantizeRowQ5_1(const float* x, BlockQ5_1* y, int64_t n);
// d = amax/127, q = round(x/d) (ties away from zero).
void QuantizeRowQ8_0(const float* x, BlockQ8_0* y, int64_t n);
// As Q8_0 plus s = d * sum(q).
void QuantizeRowQ8_1(const float* x, BlockQ8_1* y, int64_t n);
// Per group of 32: weighted least-squares scale and min search (make_qkx2_quants), then 6-bit
// scales and mins relative to the super-block's d and dmin.
void QuantizeRowQ4_K(const float* x, BlockQ4_K* y, int64_t n);
void QuantizeRowQ5_K(const float* x, BlockQ5_K* y, int64_t n);
// Per group of 16: (scale, min) search on |x| weights, 4-bit scales and mins.
void QuantizeRowQ2_K(const float* x, BlockQ2_K* y, int64_t n);
// Per group of 16: symmetric search moving single codes (make_q3_quants), 6-bit scales.
void QuantizeRowQ3_K(const float* x, BlockQ3_K* y, int64_t n);
// Per group of 16: symmetric scale search (make_qx_quants), then 8-bit scales relative to d.
void QuantizeRowQ6_K(const float* x, BlockQ6_K* y, int64_t n);
// d = -max/127 in float (not F16), q = nearest(x/d), plus the group-of-16 sums.
void QuantizeRowQ8_K(const float* x, BlockQ8_K* y, int64_t n);

}  // namespace mle::kernels
