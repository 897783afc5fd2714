// Synthetic models: a GGUF file with the exact tensor shapes of a real model (TinyLlama-1.1B,
// Llama-3.2-1B, Qwen2.5-0.5B, Phi-3.5-mini, Gemma-3-1B, or a tiny one for tests), random
// weights, and the vocabulary / tokenizer metadata (chat template included) of another GGUF
// file. Used to benchmark and test the engine at real sizes without downloading weights.
//
// Vocabulary rule: a real shape's n_vocab must equal the vocab file's token count (an error
// names the vocab file that fits); the `tiny` shape takes its n_vocab from the vocab file.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "core/status.h"

namespace mle::llm {

struct SynthShape {
  std::string name;     // "tinyllama-1.1b"
  std::string arch;     // llama, qwen2, phi3, gemma3
  int32_t n_vocab = 0;  // 0: from the vocab file
  int32_t n_embd = 0;
  int32_t n_layer = 0;
  int32_t n_head = 0;
  int32_t n_head_kv = 0;
  int32_t head_dim = 0;
  int32_t n_ff = 0;
  int32_t n_ctx_train = 0;
  float rope_freq_base = 10000.0f;
  float norm_eps = 1e-5f;
  bool tied_output = false;    // no output.weight: the embedding table is reused
  int32_t sliding_window = 0;  // gemma3's local layers
  std::string vocab_hint;      // the vocab file that fits, for error messages
};

// The known shapes, in display order.
const std::vector<SynthShape>& SynthShapes();
// Errors: NotFound listing the known names.
Result<SynthShape> FindSynthShape(const std::string& name);

struct SynthOptions {
  std::string arch;        // optional; must equal the shape's architecture when given
  std::string shape;       // a SynthShapes() name
  std::string type;        // Q4_0, Q8_0, Q4_K_M, Q6_K, F16, BF16 or F32 (any case)
  std::string vocab_path;  // a GGUF file holding tokenizer.* metadata
  std::string out_path;    // written atomically
  uint64_t seed = 1;       // the weights depend only on seed (not on the thread count)
  int n_threads = 2;
  // Progress: called before each tensor is generated, from the writing thread.
  std::function<void(size_t index, size_t count, const std::string& name)> on_tensor;
};

struct SynthSummary {
  SynthShape shape;
  uint64_t n_params = 0;
  uint64_t size_bytes = 0;  // tensor data
  size_t n_tensors = 0;
  double t_ms = 0;
};

// Weights: N(0, 0.02)-like (a sum of four uniforms), the output matrix (or the tied
// embedding) scaled to std 2/sqrt(n_embd) so logits have an rms of about 2; norm weights 1 plus
// small noise; biases N(0, 0.02)-like. Per-tensor types follow `gguf quantize`'s policy.
// Errors: unknown shape / arch / type, a vocab file that is missing, has no tokenizer or the
// wrong size, and IoError from writing.
Result<SynthSummary> SynthesizeModel(const SynthOptions& options);

}  // namespace mle::llm
