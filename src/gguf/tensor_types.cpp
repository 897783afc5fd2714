// Tensor type table (see tensor_types.h). Block sizes follow ggml's block structs:
// QK4_0 = QK8_0 = 32 elements; K-quants use super-blocks of QK_K = 256.
#include "gguf/tensor_types.h"

#include <array>
#include <cctype>

namespace mle::gguf {
namespace {

using T = TensorType;
constexpr std::array kTable = {
    TensorTypeInfo{T::kF32, "F32", 1, 4, false},
    TensorTypeInfo{T::kF16, "F16", 1, 2, false},
    TensorTypeInfo{T::kQ4_0, "Q4_0", 32, 18, true},
    TensorTypeInfo{T::kQ4_1, "Q4_1", 32, 20, true},
    TensorTypeInfo{T::kQ5_0, "Q5_0", 32, 22, true},
    TensorTypeInfo{T::kQ5_1, "Q5_1", 32, 24, true},
    TensorTypeInfo{T::kQ8_0, "Q8_0", 32, 34, true},
    TensorTypeInfo{T::kQ8_1, "Q8_1", 32, 36, true},
    TensorTypeInfo{T::kQ2_K, "Q2_K", 256, 84, true},
    TensorTypeInfo{T::kQ3_K, "Q3_K", 256, 110, true},
    TensorTypeInfo{T::kQ4_K, "Q4_K", 256, 144, true},
    TensorTypeInfo{T::kQ5_K, "Q5_K", 256, 176, true},
    TensorTypeInfo{T::kQ6_K, "Q6_K", 256, 210, true},
    TensorTypeInfo{T::kQ8_K, "Q8_K", 256, 292, true},
    TensorTypeInfo{T::kIQ2_XXS, "IQ2_XXS", 256, 66, true},
    TensorTypeInfo{T::kIQ2_XS, "IQ2_XS", 256, 74, true},
    TensorTypeInfo{T::kIQ3_XXS, "IQ3_XXS", 256, 98, true},
    TensorTypeInfo{T::kIQ1_S, "IQ1_S", 256, 50, true},
    TensorTypeInfo{T::kIQ4_NL, "IQ4_NL", 32, 18, true},
    TensorTypeInfo{T::kIQ3_S, "IQ3_S", 256, 110, true},
    TensorTypeInfo{T::kIQ2_S, "IQ2_S", 256, 82, true},
    TensorTypeInfo{T::kIQ4_XS, "IQ4_XS", 256, 136, true},
    TensorTypeInfo{T::kI8, "I8", 1, 1, false},
    TensorTypeInfo{T::kI16, "I16", 1, 2, false},
    TensorTypeInfo{T::kI32, "I32", 1, 4, false},
    TensorTypeInfo{T::kI64, "I64", 1, 8, false},
    TensorTypeInfo{T::kF64, "F64", 1, 8, false},
    TensorTypeInfo{T::kIQ1_M, "IQ1_M", 256, 56, true},
    TensorTypeInfo{T::kBF16, "BF16", 1, 2, false},
    TensorTypeInfo{T::kTQ1_0, "TQ1_0", 256, 54, true},
    TensorTypeInfo{T::kTQ2_0, "TQ2_0", 256, 66, true},
    TensorTypeInfo{T::kMXFP4, "MXFP4", 32, 17, true},
};

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::toupper(static_cast<unsigned char>(a[i])) !=
        std::toupper(static_cast<unsigned char>(b[i])))
      return false;
  }
  return true;
}

}  // namespace

std::optional<TensorTypeInfo> GetTensorTypeInfo(uint32_t type_id) {
  for (const auto& info : kTable) {
    if (static_cast<uint32_t>(info.type) == type_id) return info;
  }
  return std::nullopt;
}

std::optional<TensorType> TensorTypeFromName(std::string_view name) {
  for (const auto& info : kTable) {
    if (EqualsIgnoreCase(info.name, name)) return info.type;
  }
  return std::nullopt;
}

std::string_view TensorTypeName(TensorType t) {
  auto info = GetTensorTypeInfo(t);
  return info ? info->name : std::string_view("unknown");
}

std::optional<uint64_t> RowSizeBytes(TensorType t, uint64_t n) {
  auto info = GetTensorTypeInfo(t);
  if (!info || n % info->block_size != 0) return std::nullopt;
  return n / info->block_size * info->type_size;
}

}  // namespace mle::gguf
