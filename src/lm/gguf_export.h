// Writes an own-LLM model as a GGUF file of llama.cpp's "llama" architecture: llama.cpp's
// tensor names and metadata keys, the trained tokenizer as tokenizer.ggml.* metadata and its
// ChatML template, tensor types chosen by `gguf quantize`'s policy (llama.cpp's rules), so any
// GGUF engine can load it. Torch-free: the caller hands over fp32 tensors by name.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "core/status.h"
#include "lm/lm_config.h"

namespace mle::lm {

class LmTokenizer;

// One weight in llama.cpp's naming ("token_embd.weight", "blk.0.attn_q.weight", ...), shape in
// row-major order as LibTorch holds it ([out_features, in_features] for a projection).
struct NamedTensor {
  std::string name;
  std::vector<int64_t> shape;
  std::vector<float> data;
};

struct ExportOptions {
  std::string type = "F32";  // F32, F16, Q8_0, Q4_0
  std::string model_name = "ml-engine-lm";
  std::string path;
};

struct ExportReport {
  std::string type;
  uint64_t file_bytes = 0;
  int64_t n_parameters = 0;
  std::map<std::string, int> tensor_types;  // type name -> tensor count
};

// The llama.cpp names of every tensor a model of shape `c` has, in export order.
std::vector<std::string> LlamaTensorNames(const LmConfig& c);

// Errors: InvalidArgument for an unknown type, a missing or misshapen tensor (named);
// IoError from the file system. The file is written atomically.
Result<ExportReport> WriteLlamaGguf(const LmConfig& c, const LmTokenizer& tok,
                                    const std::vector<NamedTensor>& tensors,
                                    const ExportOptions& opts);

}  // namespace mle::lm
