// Which type each tensor of a model gets when the model is quantized to a preset: the rules of
// llama.cpp's quantizer (llama-quant.cpp, llama_tensor_get_type) for the presets ml-engine
// offers, so that `ml-engine gguf quantize` picks the same per-tensor types as llama-quantize.
// Pure logic on tensor names, shapes and a few model facts; no file access.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "gguf/tensor_types.h"

namespace mle::kernels {

enum class QuantPreset { kQ8_0, kQ4_0, kQ4_K_M, kQ6_K, kF16, kBF16 };

// "Q8_0", "Q4_0", "Q4_K_M", "Q6_K", "F16", "BF16".
std::string_view QuantPresetName(QuantPreset preset);
// Case-insensitive. Error (InvalidArgument): one line naming the input and the allowed names.
Result<QuantPreset> ParseQuantPreset(std::string_view name);
// The llama_ftype value llama.cpp writes as general.file_type (e.g. 15 for Q4_K_M).
uint32_t LlamaFileType(QuantPreset preset);
// The type most tensors get (Q4_K for Q4_K_M).
gguf::TensorType PresetDefaultType(QuantPreset preset);

// The model facts the rules depend on, read from GGUF metadata by the caller.
struct ModelFacts {
  std::string arch;       // general.architecture
  int64_t n_layer = 0;    // {arch}.block_count (0: count the ffn_down tensors)
  int64_t n_head = 0;     // {arch}.attention.head_count (0 when absent or per-layer)
  int64_t n_head_kv = 0;  // {arch}.attention.head_count_kv (0 when absent or per-layer)
  int64_t n_expert = 0;   // {arch}.expert_count
};

struct TensorDesc {
  std::string name;
  std::vector<uint64_t> dims;  // ne[0] (the row length) first
  gguf::TensorType type = gguf::TensorType::kF32;
};

struct TensorPlan {
  std::string name;
  gguf::TensorType src_type = gguf::TensorType::kF32;
  gguf::TensorType dst_type = gguf::TensorType::kF32;
  bool quantizable = false;  // false: a tensor llama.cpp never converts (norms, biases, ...)
  bool fallback = false;     // the row length did not fit the chosen type's block size
};

// The output type of every tensor, in llama.cpp's output order (tensors outside "blk.N."
// first, then by layer number, each group sorted by name). Errors (InvalidArgument, naming
// the tensor): a row length that no fallback type can hold (e.g. Q8_0 and a row of 40).
Result<std::vector<TensorPlan>> PlanQuantization(const ModelFacts& facts,
                                                 const std::vector<TensorDesc>& tensors,
                                                 QuantPreset preset);

// Every tensor kept in its own type (an F32 model written as F32), in llama.cpp's order.
std::vector<TensorPlan> PlanUnquantized(const std::vector<TensorDesc>& tensors);

// llama.cpp's tensor order: by the N of "blk.N." (-1 when absent), then by name.
bool LlamaTensorOrderLess(const std::string& a, const std::string& b);

}  // namespace mle::kernels
