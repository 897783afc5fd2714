// Generic row conversion (see quant_ref.h): one table maps each tensor type to its typed
// reference row functions; the entry points validate the row length and alignment once, so the
// typed functions can assume whole blocks.
#include "kernels/quant_ref.h"

#include <cstring>
#include <string>

#include "kernels/float_convert.h"

namespace mle::kernels {
namespace {

using gguf::TensorType;
using DequantFn = void (*)(const void*, float*, int64_t);
using QuantFn = void (*)(const float*, void*, int64_t);

// Adapts a typed row function to the type-erased signatures of the table.
template <typename Block, void (*F)(const Block*, float*, int64_t)>
void Dequant(const void* x, float* y, int64_t n) {
  F(static_cast<const Block*>(x), y, n);
}
template <typename Block, void (*F)(const float*, Block*, int64_t)>
void Quant(const float* x, void* y, int64_t n) {
  F(x, static_cast<Block*>(y), n);
}

void CopyF32(const void* x, float* y, int64_t n) {
  std::memcpy(y, x, n * sizeof(float));
}
void StoreF32(const float* x, void* y, int64_t n) {
  std::memcpy(y, x, n * sizeof(float));
}

struct RowFns {
  TensorType type;
  DequantFn dequant;
  QuantFn quant;
  size_t align;  // alignment the block struct needs
};

const RowFns kRowFns[] = {
    {TensorType::kF32, CopyF32, StoreF32, 4},
    {TensorType::kF16, Dequant<uint16_t, DequantizeRowF16>, Quant<uint16_t, QuantizeRowF16>, 2},
    {TensorType::kBF16, Dequant<uint16_t, DequantizeRowBf16>, Quant<uint16_t, QuantizeRowBf16>, 2},
    {TensorType::kQ4_0, Dequant<BlockQ4_0, DequantizeRowQ4_0>, Quant<BlockQ4_0, QuantizeRowQ4_0>,
     2},
    {TensorType::kQ4_1, Dequant<BlockQ4_1, DequantizeRowQ4_1>, Quant<BlockQ4_1, QuantizeRowQ4_1>,
     2},
    {TensorType::kQ5_0, Dequant<BlockQ5_0, DequantizeRowQ5_0>, Quant<BlockQ5_0, QuantizeRowQ5_0>,
     2},
    {TensorType::kQ5_1, Dequant<BlockQ5_1, DequantizeRowQ5_1>, Quant<BlockQ5_1, QuantizeRowQ5_1>,
     2},
    {TensorType::kQ8_0, Dequant<BlockQ8_0, DequantizeRowQ8_0>, Quant<BlockQ8_0, QuantizeRowQ8_0>,
     2},
    {TensorType::kQ8_1, Dequant<BlockQ8_1, DequantizeRowQ8_1>, Quant<BlockQ8_1, QuantizeRowQ8_1>,
     2},
    {TensorType::kQ2_K, Dequant<BlockQ2_K, DequantizeRowQ2_K>, Quant<BlockQ2_K, QuantizeRowQ2_K>,
     2},
    {TensorType::kQ3_K, Dequant<BlockQ3_K, DequantizeRowQ3_K>, Quant<BlockQ3_K, QuantizeRowQ3_K>,
     2},
    {TensorType::kQ4_K, Dequant<BlockQ4_K, DequantizeRowQ4_K>, Quant<BlockQ4_K, QuantizeRowQ4_K>,
     2},
    {TensorType::kQ5_K, Dequant<BlockQ5_K, DequantizeRowQ5_K>, Quant<BlockQ5_K, QuantizeRowQ5_K>,
     2},
    {TensorType::kQ6_K, Dequant<BlockQ6_K, DequantizeRowQ6_K>, Quant<BlockQ6_K, QuantizeRowQ6_K>,
     2},
    {TensorType::kQ8_K, Dequant<BlockQ8_K, DequantizeRowQ8_K>, Quant<BlockQ8_K, QuantizeRowQ8_K>,
     4},
};

constexpr const char* kSupportedTypes =
    "F32, F16, BF16, Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, Q8_1, Q2_K, Q3_K, Q4_K, Q5_K, Q6_K, Q8_K";

const RowFns* FindRowFns(TensorType type) {
  for (const RowFns& fns : kRowFns) {
    if (fns.type == type) return &fns;
  }
  return nullptr;
}

// Shared argument checks of both entry points; `verb` is "dequantize" or "quantize".
Status CheckRowArgs(TensorType type, const void* data, int64_t n, const char* verb) {
  const std::string name(gguf::TensorTypeName(type));
  const auto info = gguf::GetTensorTypeInfo(type);
  if (n < 0) return InvalidArgument("cannot " + std::string(verb) + " a row of negative length");
  if (info && n % info->block_size != 0) {
    return InvalidArgument("cannot " + std::string(verb) + " a row of " + std::to_string(n) +
                           " elements as " + name + ": the length must be a multiple of its " +
                           "block size " + std::to_string(info->block_size));
  }
  const RowFns* fns = FindRowFns(type);
  if (fns && reinterpret_cast<uintptr_t>(data) % fns->align != 0) {
    return InvalidArgument("cannot " + std::string(verb) + " " + name +
                           ": the row is not aligned to " + std::to_string(fns->align) + " bytes");
  }
  return Status::Ok();
}

}  // namespace

void DequantizeRowF16(const uint16_t* x, float* y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) y[i] = Fp16ToFp32(x[i]);
}
void DequantizeRowBf16(const uint16_t* x, float* y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) y[i] = Bf16ToFp32(x[i]);
}
void QuantizeRowF16(const float* x, uint16_t* y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) y[i] = Fp32ToFp16(x[i]);
}
void QuantizeRowBf16(const float* x, uint16_t* y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) y[i] = Fp32ToBf16(x[i]);
}

bool CanDequantize(TensorType type) {
  return FindRowFns(type) != nullptr;
}

bool CanQuantize(TensorType type) {
  return FindRowFns(type) != nullptr;
}

Status DequantizeRow(TensorType type, const void* src, float* dst, int64_t n) {
  MLE_RETURN_IF_ERROR(CheckRowArgs(type, src, n, "dequantize"));
  const RowFns* fns = FindRowFns(type);
  if (!fns) {
    return InvalidArgument("cannot dequantize tensor type " +
                           std::string(gguf::TensorTypeName(type)) + ": supported are " +
                           kSupportedTypes);
  }
  fns->dequant(src, dst, n);
  return Status::Ok();
}

Status QuantizeRow(TensorType type, const float* src, void* dst, int64_t n) {
  MLE_RETURN_IF_ERROR(CheckRowArgs(type, dst, n, "quantize"));
  const RowFns* fns = FindRowFns(type);
  if (!fns) {
    return InvalidArgument("cannot quantize to tensor type " +
                           std::string(gguf::TensorTypeName(type)) + ": supported are " +
                           kSupportedTypes);
  }
  fns->quant(src, dst, n);
  return Status::Ok();
}

}  // namespace mle::kernels
