// LmConfig: the shape of the own-LLM decoder (a Llama-style model: RMSNorm pre-norm, RoPE on
// adjacent pairs as llama.cpp's "llama" architecture expects, SwiGLU, grouped-query attention,
// tied or untied output), its named sizes, and the estimates taken before anything is
// allocated. Torch-free: the export writer and the CLI use it too.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "core/status.h"

namespace mle::lm {

struct LmConfig {
  int vocab_size = 0;  // set from the data's tokenizer
  int dim = 256;
  int n_layers = 4;
  int n_heads = 4;
  int n_kv_heads = 4;  // < n_heads: grouped-query attention
  int ffn_hidden = 0;  // 0: 8*dim/3 rounded up to a multiple of 32
  int context = 256;   // training sequence length = the model's context length
  float norm_eps = 1e-5f;
  float rope_theta = 10000.0f;
  bool tied_embeddings = true;

  int head_dim() const { return dim / n_heads; }
  int hidden() const;  // ffn_hidden, resolved
};

// `size`: "tiny" (~1M parameters with a 4k vocabulary), "small" (dim 256, 4 layers: ~4M),
// "base" (dim 768, 12 layers: ~110M with 32k vocabulary), a JSON object text, or the path
// of a JSON file; JSON fields override the "small" defaults. Errors name the field.
Result<LmConfig> LmConfigFromSize(std::string_view size, int vocab_size);
Result<LmConfig> LmConfigFromJson(const nlohmann::json& j);
nlohmann::json ToJson(const LmConfig& c);
// Checks every field (positive sizes, dim divisible by n_heads, an even head size for RoPE,
// n_heads divisible by n_kv_heads, ...). Errors: InvalidArgument naming the field and the fix.
Status ValidateLmConfig(const LmConfig& c);

int64_t ParameterCount(const LmConfig& c);
// Bytes a training step needs: fp32 weights, gradients and AdamW moments, plus the
// activations kept for backward at `batch` sequences of c.context tokens.
uint64_t EstimateTrainingBytes(const LmConfig& c, int batch);
// MemAvailable of /proc/meminfo (0 when unknown).
uint64_t AvailableMemoryBytes();

}  // namespace mle::lm
