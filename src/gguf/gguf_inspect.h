// What `ml-engine gguf inspect` shows about a GGUF file: header facts, every metadata key,
// tensor statistics per type (count, bytes, parameters, bits per weight), the architecture's
// key hyperparameters and the chat template, as aligned text or as one JSON object.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "gguf/gguf_file.h"

namespace mle::gguf {

struct InspectOptions {
  size_t max_array_items = 8;     // longer arrays print as [a, b, ... (N items)]
  size_t max_string_bytes = 160;  // longer strings are cut in the metadata listing (text only)
  bool list_tensors = false;      // also list every tensor (name, type, shape, offset, bytes)
};

struct TensorTypeStats {
  TensorType type = TensorType::kF32;
  uint64_t n_tensors = 0;
  uint64_t n_elements = 0;
  uint64_t size_bytes = 0;
};

struct GgufSummary {
  std::vector<TensorTypeStats> types;  // by total bytes, largest first
  uint64_t n_params = 0;               // elements of all tensors
  uint64_t tensor_bytes = 0;           // bytes of all tensors
  double bits_per_weight = 0;          // tensor_bytes * 8 / n_params (0 without tensors)
  std::string architecture;            // general.architecture, "" when absent or not a string
  // "<arch>.<name>" hyperparameters present in the file, in a fixed order: (name, value).
  std::vector<std::pair<std::string, const Value*>> hyperparameters;
  const Value* chat_template = nullptr;  // tokenizer.chat_template
};

// Pointers in the summary point into `file`, which must outlive it.
GgufSummary Summarize(const GgufFile& file);

// Human-readable report (several sections, ends with a newline).
std::string FormatInspectText(const GgufFile& file, const InspectOptions& options = {});
// The same facts as one JSON object (pretty-printed, invalid UTF-8 replaced by U+FFFD).
std::string FormatInspectJson(const GgufFile& file, const InspectOptions& options = {});

}  // namespace mle::gguf
