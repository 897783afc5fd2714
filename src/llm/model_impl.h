// Private to src/llm: what a loaded Model holds (per-architecture flags, weight matrices that
// point into the file's memory map, small vectors copied to float) and what a Context holds
// (KV cache, per-sequence lengths, activation buffers sized for n_batch tokens).
#pragma once

#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "core/huge_pages.h"
#include "core/thread_pool.h"
#include "kernels/matmul.h"
#include "llm/model.h"

namespace mle::llm {

// What distinguishes the supported architectures in the forward pass.
struct ArchSpec {
  const char* name = "";
  RopeStyle rope = RopeStyle::kNormal;
  bool qkv_bias = false;       // attn_{q,k,v}.bias (qwen2)
  bool fused_qkv = false;      // attn_qkv holds q, k, v rows stacked (phi3)
  bool fused_gate_up = false;  // ffn_up holds 2*n_ff rows: gate, then up (phi3)
  bool qk_norm = false;        // per-head RMSNorm of q and k (gemma3)
  bool post_norms = false;     // post_attention_norm and post_ffw_norm (gemma3)
  bool gelu = false;           // GELU(tanh)-gated FFN instead of SwiGLU (gemma3)
  bool embd_scale = false;     // embeddings times sqrt(n_embd) (gemma3)
  bool prescale_q = false;     // q scaled before attention, not the scores (phi3, gemma3)
};

// One transformer block. Vectors are F32 copies (owned by Model::Impl::vectors); matrices
// point into the mapped file. Unused entries stay null / empty.
struct LayerWeights {
  const float* attn_norm = nullptr;       // [C]
  const float* attn_q_norm = nullptr;     // [HS]
  const float* attn_k_norm = nullptr;     // [HS]
  const float* post_attn_norm = nullptr;  // [C]
  const float* ffn_norm = nullptr;        // [C]
  const float* post_ffw_norm = nullptr;   // [C]
  const float* bq = nullptr;              // [NH*HS]
  const float* bk = nullptr;              // [NKV*HS]
  const float* bv = nullptr;              // [NKV*HS]
  kernels::WeightMatrix wq, wk, wv;       // rows NH*HS / NKV*HS / NKV*HS, cols C
  kernels::WeightMatrix wqkv;             // rows (NH + 2 NKV) * HS, cols C (fused_qkv)
  kernels::WeightMatrix wo;               // rows C, cols NH*HS
  kernels::WeightMatrix w_gate, w_up;     // rows FF (fused_gate_up: w_up has 2 FF rows)
  kernels::WeightMatrix w_down;           // rows C, cols FF
};

struct Model::Impl {
  std::unique_ptr<gguf::GgufFile> file;
  std::unique_ptr<text::Tokenizer> tokenizer;
  Hparams hp;
  const ArchSpec* spec = nullptr;

  const gguf::TensorInfo* tok_embd = nullptr;  // [V, C], any dequantizable type
  kernels::WeightMatrix output;                // rows V, cols C (token_embd when tied)
  const float* output_norm = nullptr;          // [C]
  std::vector<LayerWeights> layers;

  // RoPE frequency factors [n_rot/2]: rope_freqs (llama 3.1), or phi3's short/long pair.
  const float* rope_freqs = nullptr;
  const float* rope_short = nullptr;
  const float* rope_long = nullptr;
  int32_t n_ctx_orig = 0;    // rope.scaling.original_context_length (phi3 long/short)
  float rope_mscale = 1.0f;  // rope.scaling.attn_factor
  float attn_scale = 1.0f;   // multiplies q.k

  uint64_t bytes_per_token = 0;
  uint64_t tensor_bytes = 0;
  std::vector<std::unique_ptr<float[]>> vectors;   // storage of the F32 vector copies
  std::unique_ptr<uint8_t, FreeDeleter> repacked;  // matrices copied into a faster layout
  uint64_t repacked_bytes = 0;
};

struct Context::Impl {
  const Model* model = nullptr;
  const Model::Impl* m = nullptr;
  ContextOptions opts;
  std::unique_ptr<ThreadPool> pool;
  kernels::MatMulScratch mm_scratch;

  // KV cache: [layer][seq][NKV][n_ctx][HS], F16 or F32; calloc'd so untouched pages cost no
  // memory.
  std::unique_ptr<uint8_t, FreeDeleter> k_cache, v_cache;
  size_t kv_elem = 2;           // bytes per element
  int64_t kv_seq_stride = 0;    // elements per (layer, seq)
  int64_t kv_layer_stride = 0;  // elements per layer
  uint64_t kv_bytes = 0;
  std::vector<int32_t> seq_len;  // [n_seq_max]

  // Activations for up to n_batch tokens (B = n_batch).
  std::vector<float> x;                     // [B, C] residual stream
  std::vector<float> xn;                    // [B, C] normed input of a sub-block
  std::vector<float> qkv;                   // [B, (NH + 2 NKV) HS]
  std::vector<float> att;                   // [B, NH HS]
  std::vector<float> gu;                    // [B, 2 FF] gate | up
  std::vector<float> rope;                  // [B, n_rot] cos/sin pairs
  std::vector<float> attn_scratch;          // [threads, n_ctx]
  std::vector<const void*> k_base, v_base;  // [B] cache of each token's sequence, one layer
  std::vector<int32_t> out_rows;            // batch rows whose logits are wanted
  std::vector<int32_t> next_pos;            // [n_seq_max] validation scratch
  std::vector<float> logits;                // [n_outputs, V], grown on demand
  int n_outputs = 0;
  const float* freq_factors = nullptr;  // chosen at Create (phi3 short/long)
};

// The forward pass over a validated batch (forward.cpp).
void RunForward(Context::Impl& c, const Batch& batch);

}  // namespace mle::llm
