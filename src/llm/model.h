// A GGUF language model loaded for inference, and the contexts that run it.
//
// Model: hyperparameters, tokenizer, chat template and weights, the weights used in place from
// the file's memory map. Immutable after Load; any number of Contexts may share one Model.
// Context: a KV cache (F16 by default) for up to n_seq_max sequences of n_ctx tokens each, a
// thread pool and scratch buffers. Decode() runs one forward pass over a Batch that may mix
// sequences at different positions (prefill chunks and single decode tokens together).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/status.h"
#include "gguf/gguf_file.h"
#include "text/tokenizer.h"

namespace mle::llm {

using TokenId = int32_t;

enum class RopeStyle { kNormal, kNeox };  // adjacent pairs (llama) / halves (qwen2, phi3, gemma)

struct Hparams {
  std::string arch;  // general.architecture
  std::string name;  // general.name, or the file name
  int32_t n_vocab = 0;
  int32_t n_ctx_train = 0;
  int32_t n_embd = 0;
  int32_t n_layer = 0;
  int32_t n_head = 0;
  int32_t n_head_kv = 0;
  int32_t head_dim = 0;  // key/value length per head
  int32_t n_ff = 0;
  float norm_eps = 1e-5f;
  RopeStyle rope_style = RopeStyle::kNormal;
  int32_t n_rot = 0;  // rotated dimensions per head
  float rope_freq_base = 10000.0f;
  float rope_freq_scale = 1.0f;     // 1 / linear scaling factor
  float rope_freq_base_swa = 0.0f;  // gemma3's local layers (0 = same as rope_freq_base)
  int32_t sliding_window = 0;       // 0 = none
  std::vector<bool> layer_is_swa;   // per layer: uses the sliding window
};

struct LoadOptions {
  bool verify_tensors = true;  // check every tensor's type/shape against the architecture
  // Copy weight matrices into the layout the kernels run fastest on this CPU
  // (kernels::PreferredLayout: Q4_0 rows interleaved 8 at a time on AVX2/AVX-512). The copies
  // replace the mapped pages they came from, so resident memory stays about the file size.
  bool repack = true;
};

class Model {
 public:
  // Errors: file missing/corrupt (the GGUF reader's messages), unknown architecture
  // ("unsupported architecture 'x' (supported: llama, qwen2, phi3, gemma3)"), missing or
  // mis-shaped tensors, tensor types the kernels do not support.
  static Result<std::unique_ptr<Model>> Load(const std::string& path, const LoadOptions& opts);
  ~Model();

  const Hparams& hparams() const;
  const text::Tokenizer& tokenizer() const;
  const gguf::GgufFile& file() const;
  // tokenizer.chat_template, if the file has one.
  std::optional<std::string> chat_template() const;
  // Bytes of weights one decode step reads (every layer weight plus the output matrix; the
  // embedding table counts one row). Used by `bench model` for the bandwidth fraction.
  uint64_t weight_bytes_per_token() const;
  // Bytes of weights copied into a faster layout at load (LoadOptions::repack); 0 when none.
  uint64_t repacked_bytes() const;
  // Total bytes of tensor data in the file.
  uint64_t tensor_bytes() const;

  struct Impl;
  const Impl& impl() const { return *impl_; }

 private:
  explicit Model(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// Tokens of one forward pass. Entry i is token[i] at position pos[i] of sequence seq[i];
// logits are computed for entries whose want_logits[i] is set.
struct Batch {
  std::vector<TokenId> token;
  std::vector<int32_t> pos;
  std::vector<int32_t> seq;
  std::vector<uint8_t> want_logits;

  void Add(TokenId t, int32_t p, int32_t s, bool logits) {
    token.push_back(t);
    pos.push_back(p);
    seq.push_back(s);
    want_logits.push_back(logits ? 1 : 0);
  }
  void Clear() {
    token.clear();
    pos.clear();
    seq.clear();
    want_logits.clear();
  }
  size_t size() const { return token.size(); }
};

enum class KvType { kF16, kF32 };

struct ContextOptions {
  int32_t n_ctx = 0;      // tokens per sequence; 0 = min(n_ctx_train, 4096)
  int32_t n_seq_max = 1;  // sequences the KV cache holds
  int32_t n_batch = 512;  // largest Batch Decode accepts (capped at n_ctx * n_seq_max)
  int32_t n_threads = 0;  // 0 = hardware threads
  KvType kv_type = KvType::kF16;
};

class Context {
 public:
  // Errors: n_ctx larger than the model's n_ctx_train, non-positive sizes, KV cache too large
  // to allocate.
  static Result<std::unique_ptr<Context>> Create(const Model& model, const ContextOptions& opts);
  ~Context();

  // Runs the model over `batch`. For each entry: 0 <= seq < n_seq_max, 0 <= pos < n_ctx, the
  // sequence's cache holds exactly positions [0, pos) before this token (entries of one
  // sequence in a batch are consecutive positions in order), token within the vocabulary.
  // Violations return InvalidArgument and leave the cache unchanged.
  Status Decode(const Batch& batch);

  // Logits (n_vocab floats) of the i-th entry that asked for logits in the last Decode, in
  // batch order. REQUIRES: i < n_outputs().
  const float* Logits(int i) const;
  int n_outputs() const;

  // Number of positions sequence `seq` holds in the cache.
  int32_t SeqLength(int32_t seq) const;
  // Keeps only positions [0, n) of `seq` (n = 0 empties it), for reuse of a shared prefix.
  void SeqTruncate(int32_t seq, int32_t n);

  int32_t n_ctx() const;
  int32_t n_seq_max() const;
  int32_t n_batch() const;
  int n_threads() const;
  const Model& model() const;
  // Bytes allocated for the KV cache.
  uint64_t kv_bytes() const;

  struct Impl;

 private:
  explicit Context(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace mle::llm
