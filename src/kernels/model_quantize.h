// Quantizes a whole GGUF model file to a preset (Q8_0, Q4_0, Q4_K_M, Q6_K, F16, BF16) the way
// llama-quantize does: per-tensor types from quant_policy.h, rows converted with the reference
// quantizers of quant_ref.h, tensors in llama.cpp's order, all metadata kept plus
// general.quantization_version = 2 and general.file_type = the preset's llama_ftype. The
// output is written atomically: on any error no (partial) output file exists.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "core/status.h"
#include "gguf/gguf_file.h"
#include "kernels/quant_policy.h"

namespace mle::kernels {

struct QuantizeOptions {
  QuantPreset preset = QuantPreset::kQ8_0;
  int n_threads = 2;  // threads converting the rows of one tensor (>= 1)
  // Convert tensors that are already quantized to another quantized type (llama-quantize's
  // --allow-requantize); off, such a tensor is an error. Error compounds when on.
  bool allow_requantize = false;
  // Optional progress hook, called from the writing thread before each tensor is written.
  std::function<void(size_t index, size_t count, const TensorPlan& plan)> on_tensor;
};

struct QuantizeSummary {
  std::vector<TensorPlan> plans;  // in output order
  int n_converted = 0;            // tensors whose type changed
  int n_fallback = 0;             // tensors whose row length forced a fallback type
  uint64_t size_in_bytes = 0;     // tensor data of the input
  uint64_t size_out_bytes = 0;    // tensor data of the output
};

// Reads `in_path` and writes the quantized model to `out_path` (atomically; replaces an
// existing file). Errors: NotFound / IoError / Corruption from opening the input (one line
// naming the path), InvalidArgument for a tensor that cannot be converted (its name and the
// reason), IoError from writing.
Result<QuantizeSummary> QuantizeModelFile(const std::string& in_path, const std::string& out_path,
                                          const QuantizeOptions& options);

// The facts the type rules need, from the file's metadata (missing keys read as 0 / "").
ModelFacts ReadModelFacts(const gguf::GgufFile& file);

// Converts n_rows rows of n_per_row elements from src_type to dst_type (via float), splitting
// the rows over n_threads threads. `src` holds n_rows rows of src_type. Errors: a type
// without a dequantizer / quantizer, a length that is not a multiple of a block size, or a
// NaN / inf in the data (InvalidArgument naming the row).
Result<std::vector<uint8_t>> ConvertRows(gguf::TensorType src_type, const uint8_t* src,
                                         uint64_t n_per_row, uint64_t n_rows,
                                         gguf::TensorType dst_type, int n_threads);

}  // namespace mle::kernels
