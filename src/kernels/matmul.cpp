#include "kernels/matmul.h"

#include <algorithm>
#include <cstdint>

#include "kernels/quant_ref.h"

namespace mle::kernels {

uint8_t* MatMulScratch::Get(size_t slot, size_t bytes) {
  if (bufs_.size() <= slot) bufs_.resize(slot + 1);
  auto& mem = bufs_[slot].mem;
  if (mem.size() < bytes + 64) mem.resize(bytes + 64);
  const uintptr_t p = reinterpret_cast<uintptr_t>(mem.data());
  return mem.data() + ((64 - (p & 63)) & 63);
}

bool MatMulSupports(gguf::TensorType t) { return CanDequantize(t); }

Status CheckWeightMatrix(const WeightMatrix& w) {
  const auto info = gguf::GetTensorTypeInfo(w.type);
  if (!info || !MatMulSupports(w.type)) {
    return InvalidArgument("matrix multiplication does not support tensor type " +
                                   std::string(info ? info->name : "unknown"));
  }
  if (w.rows <= 0 || w.cols <= 0 || w.data == nullptr) {
    return InvalidArgument("empty weight matrix");
  }
  const auto rb = gguf::RowSizeBytes(w.type, static_cast<uint64_t>(w.cols));
  if (!rb || *rb != w.row_bytes) {
    return InvalidArgument("weight row of " + std::to_string(w.cols) +
                                   " elements does not fit type " + std::string(info->name));
  }
  return Status::Ok();
}

// Portable path: dequantize one weight row at a time into float and take float dot products
// with every activation row.
void MatMul(ThreadPool& pool, const WeightMatrix& w, const float* x, int64_t n_tokens,
            int64_t x_stride, float* y, int64_t y_stride, MatMulScratch& scratch) {
  const int nth = pool.size();
  std::vector<float*> rowbuf(nth);
  for (int i = 0; i < nth; ++i) {
    rowbuf[i] = reinterpret_cast<float*>(scratch.Get(i, sizeof(float) * w.cols));
  }
  pool.Run([&](int ith, int n) {
    const int64_t chunk = (w.rows + n - 1) / n;
    const int64_t r0 = std::min<int64_t>(w.rows, chunk * ith);
    const int64_t r1 = std::min<int64_t>(w.rows, r0 + chunk);
    float* wr = rowbuf[ith];
    for (int64_t r = r0; r < r1; ++r) {
      (void)DequantizeRow(w.type, static_cast<const uint8_t*>(w.data) + r * w.row_bytes, wr,
                          w.cols);
      for (int64_t t = 0; t < n_tokens; ++t) {
        const float* xr = x + t * x_stride;
        float acc = 0.0f;
        for (int64_t c = 0; c < w.cols; ++c) acc += wr[c] * xr[c];
        y[t * y_stride + r] = acc;
      }
    }
  });
}

}  // namespace mle::kernels
