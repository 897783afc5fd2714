// The tensor type table: every ggml type id a GGUF file may name, with its block layout
// (elements per block, bytes per block). Ids are fixed by the GGUF format (ggml.h's
// ggml_type); ids that llama.cpp removed are absent and read as unknown.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace mle::gguf {

enum class TensorType : uint32_t {
  kF32 = 0,
  kF16 = 1,
  kQ4_0 = 2,
  kQ4_1 = 3,
  kQ5_0 = 6,
  kQ5_1 = 7,
  kQ8_0 = 8,
  kQ8_1 = 9,
  kQ2_K = 10,
  kQ3_K = 11,
  kQ4_K = 12,
  kQ5_K = 13,
  kQ6_K = 14,
  kQ8_K = 15,
  kIQ2_XXS = 16,
  kIQ2_XS = 17,
  kIQ3_XXS = 18,
  kIQ1_S = 19,
  kIQ4_NL = 20,
  kIQ3_S = 21,
  kIQ2_S = 22,
  kIQ4_XS = 23,
  kI8 = 24,
  kI16 = 25,
  kI32 = 26,
  kI64 = 27,
  kF64 = 28,
  kIQ1_M = 29,
  kBF16 = 30,
  kTQ1_0 = 34,
  kTQ2_0 = 35,
  kMXFP4 = 39,
};

struct TensorTypeInfo {
  TensorType type;
  std::string_view name;  // as llama.cpp prints it: "Q4_K", "F16", ...
  uint32_t block_size;    // elements per block
  uint32_t type_size;     // bytes per block
  bool quantized;
};

// Layout of a type id; nullopt for ids this table does not know.
std::optional<TensorTypeInfo> GetTensorTypeInfo(uint32_t type_id);
inline std::optional<TensorTypeInfo> GetTensorTypeInfo(TensorType t) {
  return GetTensorTypeInfo(static_cast<uint32_t>(t));
}
// Looks a type up by name, case-insensitively ("q8_0" -> kQ8_0).
std::optional<TensorType> TensorTypeFromName(std::string_view name);
std::string_view TensorTypeName(TensorType t);

// Bytes needed for a row of `n` elements; nullopt if n is not a multiple of the block size.
std::optional<uint64_t> RowSizeBytes(TensorType t, uint64_t n);

}  // namespace mle::gguf
