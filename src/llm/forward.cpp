// The forward pass of one validated Batch, shared by every architecture (ArchSpec flags select
// biases, fused projections, q/k norms, post-norms, GELU and the embedding scale). Shapes:
// T tokens in the batch, C = n_embd, NH/NKV query/KV heads of HS, FF = n_ff, V = n_vocab.
// Matrix products go through kernels::MatMul; the per-token element-wise work runs on the
// caller for single tokens and on the pool for larger batches. Nothing here allocates.
#include <algorithm>
#include <cmath>

#include "kernels/ops.h"
#include "kernels/quant_ref.h"
#include "llm/model_impl.h"

namespace mle::llm {
namespace {

using kernels::MatMul;

// Below this many floats of work, handing rows to the pool costs more than it saves.
constexpr int64_t kMinParallelWork = 16384;

// Calls f(t) for t in [0, n): on the caller for small work, else interleaved over the pool.
template <typename F>
void ForRows(ThreadPool& pool, int64_t n, int64_t work_per_row, const F& f) {
  if (n == 1 || pool.size() == 1 || n * work_per_row < kMinParallelWork) {
    for (int64_t t = 0; t < n; ++t) f(t);
    return;
  }
  auto body = [&](int ith, int nth) {
    for (int64_t t = ith; t < n; t += nth) f(t);
  };
  pool.Run([&body](int ith, int nth) { body(ith, nth); });  // one pointer: no heap std::function
}

}  // namespace

void RunForward(Context::Impl& c, const Batch& batch) {
  const Model::Impl& m = *c.m;
  const Hparams& hp = m.hp;
  const ArchSpec& a = *m.spec;
  ThreadPool& pool = *c.pool;
  int64_t T = static_cast<int64_t>(batch.size());  // rows in flight (shrinks in the last layer)
  const int64_t C = hp.n_embd, HS = hp.head_dim, NH = hp.n_head, NKV = hp.n_head_kv;
  const int64_t FF = hp.n_ff, V = hp.n_vocab, n_ctx = c.opts.n_ctx;
  const int64_t q_dim = NH * HS, kv_dim = NKV * HS, qkv_dim = q_dim + 2 * kv_dim;
  const float eps = hp.norm_eps;
  const bool neox = hp.rope_style == RopeStyle::kNeox;
  const bool kv_f16 = c.opts.kv_type == KvType::kF16;
  float* x = c.x.data();      // [T, C]
  float* xn = c.xn.data();    // [T, C]
  float* qkv = c.qkv.data();  // [T, qkv_dim]: q [NH, HS] | k [NKV, HS] | v [NKV, HS]
  float* att = c.att.data();  // [T, NH * HS]
  // A sub-block's output o [T, C] shares xn's memory: xn is dead once the products that read
  // it are done, and each row of o is consumed before the norm writes that row of xn.
  float* o = xn;
  float* gu = c.gu.data();  // [T, 2 FF]: gate | up; the activation overwrites the gate half

  c.out_rows.clear();
  for (int64_t t = 0; t < T; ++t) {
    if (batch.want_logits[t]) c.out_rows.push_back(static_cast<int32_t>(t));
  }
  const int64_t n_out = static_cast<int64_t>(c.out_rows.size());

  // Token embeddings: x [T, C] (gemma scales them by sqrt(C)).
  const gguf::TensorInfo& embd = *m.tok_embd;
  const size_t embd_row = gguf::RowSizeBytes(embd.type, C).value_or(0);
  const uint8_t* embd_data = m.file->TensorData(embd);
  const float embd_scale = a.embd_scale ? std::sqrt(static_cast<float>(C)) : 1.0f;
  ForRows(pool, T, C, [&](int64_t t) {
    (void)kernels::DequantizeRow(embd.type, embd_data + size_t(batch.token[t]) * embd_row,
                                 x + t * C, C);
    if (a.embd_scale) kernels::Scale(x + t * C, embd_scale, C);
  });

  for (int il = 0; il < hp.n_layer; ++il) {
    const LayerWeights& L = m.layers[il];
    const bool swa = hp.layer_is_swa[il];
    const float rope_base = swa ? hp.rope_freq_base_swa : hp.rope_freq_base;
    const float rope_scale = swa ? 1.0f : hp.rope_freq_scale;

    // Attention input: xn [T, C].
    ForRows(pool, T, C,
            [&](int64_t t) { kernels::RmsNorm(x + t * C, L.attn_norm, xn + t * C, C, eps); });
    // Projections: qkv [T, qkv_dim].
    if (a.fused_qkv) {
      MatMul(pool, L.wqkv, xn, T, C, qkv, qkv_dim, c.mm_scratch);
    } else {
      const kernels::MatMulOutput outs[] = {
          {&L.wq, qkv}, {&L.wk, qkv + q_dim}, {&L.wv, qkv + q_dim + kv_dim}};
      kernels::MatMulShared(pool, outs, 3, xn, T, C, qkv_dim, c.mm_scratch);
    }
    // Per token: biases, q/k norms, RoPE, then K and V into the cache at (seq, pos).
    uint8_t* k_layer = c.k_cache.get() + il * c.kv_layer_stride * c.kv_elem;
    uint8_t* v_layer = c.v_cache.get() + il * c.kv_layer_stride * c.kv_elem;
    ForRows(pool, T, qkv_dim, [&](int64_t t) {
      float* q = qkv + t * qkv_dim;  // [NH, HS]
      float* k = q + q_dim;          // [NKV, HS]
      float* v = k + kv_dim;         // [NKV, HS]
      if (a.qkv_bias) {
        kernels::AddBias(q, L.bq, q_dim);
        kernels::AddBias(k, L.bk, kv_dim);
        kernels::AddBias(v, L.bv, kv_dim);
      }
      if (a.qk_norm) {
        for (int64_t hd = 0; hd < NH; ++hd)
          kernels::RmsNorm(q + hd * HS, L.attn_q_norm, q + hd * HS, HS, eps);
        for (int64_t hd = 0; hd < NKV; ++hd)
          kernels::RmsNorm(k + hd * HS, L.attn_k_norm, k + hd * HS, HS, eps);
      }
      float* cs = c.rope.data() + t * hp.n_rot;  // [n_rot / 2] (cos, sin)
      kernels::RopeAngles(batch.pos[t], hp.n_rot, rope_base, rope_scale, c.freq_factors,
                          m.rope_mscale, cs);
      for (int64_t hd = 0; hd < NH; ++hd) kernels::RopeApply(q + hd * HS, hp.n_rot, cs, neox);
      for (int64_t hd = 0; hd < NKV; ++hd) kernels::RopeApply(k + hd * HS, hp.n_rot, cs, neox);
      if (a.prescale_q) kernels::Scale(q, m.attn_scale, q_dim);

      const int64_t seq_off = int64_t(batch.seq[t]) * c.kv_seq_stride;  // elements
      c.k_base[t] = k_layer + seq_off * c.kv_elem;
      c.v_base[t] = v_layer + seq_off * c.kv_elem;
      for (int64_t hd = 0; hd < NKV; ++hd) {
        const int64_t off = seq_off + (hd * n_ctx + batch.pos[t]) * HS;
        if (kv_f16) {
          kernels::F32ToF16Row(k + hd * HS, reinterpret_cast<uint16_t*>(k_layer) + off, HS);
          kernels::F32ToF16Row(v + hd * HS, reinterpret_cast<uint16_t*>(v_layer) + off, HS);
        } else {
          std::copy(k + hd * HS, k + (hd + 1) * HS, reinterpret_cast<float*>(k_layer) + off);
          std::copy(v + hd * HS, v + (hd + 1) * HS, reinterpret_cast<float*>(v_layer) + off);
        }
      }
    });
    // Attention over the cache: att [T, NH * HS].
    kernels::AttentionArgs args;
    args.q = qkv;
    args.q_stride = qkv_dim;
    args.out = att;
    args.out_stride = q_dim;
    args.n_tokens = T;
    args.n_head = hp.n_head;
    args.n_head_kv = hp.n_head_kv;
    args.head_dim = hp.head_dim;
    args.scale = a.prescale_q ? 1.0f : m.attn_scale;
    args.window = swa ? hp.sliding_window : 0;
    args.pos = batch.pos.data();
    args.k_base = c.k_base.data();
    args.v_base = c.v_base.data();
    args.kv_head_stride = n_ctx * HS;
    args.kv_f16 = kv_f16;
    kernels::Attention(pool, args, c.attn_scratch.data(), n_ctx);
    if (il == hp.n_layer - 1) {
      // After the last attention only the rows that produce logits matter: move them to the
      // front (out_rows is increasing, so row i <= out_rows[i]) and carry on with n_out rows.
      for (int64_t i = 0; i < n_out; ++i) {
        const int64_t r = c.out_rows[i];
        if (r == i) continue;
        std::copy(att + r * q_dim, att + (r + 1) * q_dim, att + i * q_dim);
        std::copy(x + r * C, x + (r + 1) * C, x + i * C);
      }
      T = n_out;
      if (T == 0) break;
    }
    // Output projection o [T, C]; residual; FFN input xn [T, C].
    MatMul(pool, L.wo, att, T, q_dim, o, C, c.mm_scratch);
    ForRows(pool, T, C, [&](int64_t t) {
      if (a.post_norms) kernels::RmsNorm(o + t * C, L.post_attn_norm, o + t * C, C, eps);
      kernels::AddInPlace(x + t * C, o + t * C, C);
      kernels::RmsNorm(x + t * C, L.ffn_norm, xn + t * C, C, eps);
    });
    // Feed-forward: gu [T, 2 FF] -> h (gate half of gu, stride 2 FF) -> o [T, C]; residual.
    if (a.fused_gate_up) {
      MatMul(pool, L.w_up, xn, T, C, gu, 2 * FF, c.mm_scratch);
    } else {
      const kernels::MatMulOutput outs[] = {{&L.w_gate, gu}, {&L.w_up, gu + FF}};
      kernels::MatMulShared(pool, outs, 2, xn, T, C, 2 * FF, c.mm_scratch);
    }
    ForRows(pool, T, FF, [&](int64_t t) {
      float* g = gu + t * 2 * FF;
      if (a.gelu) {
        kernels::GeGluTanh(g, g + FF, g, FF);
      } else {
        kernels::SwiGlu(g, g + FF, g, FF);
      }
    });
    MatMul(pool, L.w_down, gu, T, 2 * FF, o, C, c.mm_scratch);
    ForRows(pool, T, C, [&](int64_t t) {
      if (a.post_norms) kernels::RmsNorm(o + t * C, L.post_ffw_norm, o + t * C, C, eps);
      kernels::AddInPlace(x + t * C, o + t * C, C);
    });
  }

  // Logits only for the entries that want them (now rows [0, n_out) of x):
  // xn [n_out, C] -> logits [n_out, V].
  c.n_outputs = static_cast<int>(n_out);
  if (n_out == 0) return;
  if (c.logits.size() < size_t(n_out * V)) c.logits.resize(n_out * V);
  ForRows(pool, n_out, C,
          [&](int64_t i) { kernels::RmsNorm(x + i * C, m.output_norm, xn + i * C, C, eps); });
  MatMul(pool, m.output, xn, n_out, C, c.logits.data(), V, c.mm_scratch);
}

}  // namespace mle::llm
