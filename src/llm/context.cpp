// Context: creation (KV cache and activation buffers sized once, so Decode allocates nothing
// in steady state), batch validation before anything is touched, per-sequence bookkeeping, and
// access to the logits of the last Decode.
#include <algorithm>
#include <thread>

#include "core/cpu_info.h"
#include "llm/model_impl.h"

namespace mle::llm {

Context::Context(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Context::~Context() = default;

Result<std::unique_ptr<Context>> Context::Create(const Model& model, const ContextOptions& opts) {
  const Model::Impl& m = model.impl();
  const Hparams& hp = m.hp;
  auto c = std::make_unique<Impl>();
  c->model = &model;
  c->m = &m;
  c->opts = opts;
  ContextOptions& o = c->opts;
  if (o.n_ctx == 0) o.n_ctx = std::min(hp.n_ctx_train, 4096);
  if (o.n_ctx < 0 || o.n_seq_max <= 0 || o.n_batch <= 0 || o.n_threads < 0) {
    return InvalidArgument("context sizes must be positive (n_ctx " + std::to_string(o.n_ctx) +
                           ", n_seq_max " + std::to_string(o.n_seq_max) + ", n_batch " +
                           std::to_string(o.n_batch) + ", n_threads " +
                           std::to_string(o.n_threads) + ")");
  }
  if (o.n_ctx > hp.n_ctx_train) {
    return InvalidArgument("n_ctx " + std::to_string(o.n_ctx) +
                           " exceeds the model's training "
                           "context of " +
                           std::to_string(hp.n_ctx_train) + " tokens (use " +
                           "n_ctx <= " + std::to_string(hp.n_ctx_train) + ")");
  }
  if (o.n_threads == 0) {
    o.n_threads = std::max(1, static_cast<int>(std::thread::hardware_concurrency()));
  }
  // No valid batch holds more tokens than the cache has positions: size the buffers for that.
  o.n_batch = static_cast<int32_t>(
      std::min<int64_t>(o.n_batch, std::max<int64_t>(1, int64_t{o.n_ctx} * o.n_seq_max)));
  const int64_t C = hp.n_embd, HS = hp.head_dim, NH = hp.n_head, NKV = hp.n_head_kv;
  const int64_t B = o.n_batch, FF = hp.n_ff;

  c->kv_elem = o.kv_type == KvType::kF16 ? 2 : 4;
  c->kv_seq_stride = NKV * o.n_ctx * HS;
  c->kv_layer_stride = c->kv_seq_stride * o.n_seq_max;
  c->kv_bytes = uint64_t(c->kv_layer_stride) * hp.n_layer * c->kv_elem * 2;
  c->k_cache.reset(static_cast<uint8_t*>(std::calloc(c->kv_bytes / 2, 1)));
  c->v_cache.reset(static_cast<uint8_t*>(std::calloc(c->kv_bytes / 2, 1)));
  if (!c->k_cache || !c->v_cache) {
    return ResourceExhausted("cannot allocate a KV cache of " + std::to_string(c->kv_bytes >> 20) +
                             " MiB (lower n_ctx or " + "n_seq_max)");
  }
  c->seq_len.assign(o.n_seq_max, 0);
  c->next_pos.assign(o.n_seq_max, 0);

  c->x.resize(B * C);
  c->xn.resize(B * C);
  c->qkv.resize(B * (NH + 2 * NKV) * HS);
  c->att.resize(B * NH * HS);
  c->gu.resize(B * 2 * FF);
  c->rope.resize(B * hp.n_rot);
  c->attn_scratch.resize(size_t(o.n_threads) * o.n_ctx);
  c->k_base.resize(B);
  c->v_base.resize(B);
  c->out_rows.reserve(B);
  auto pool = ThreadPool::Create(o.n_threads);
  if (!pool.ok()) return pool.status();
  c->pool = std::move(*pool);

  // Phi-3 long-context files carry two factor sets: short within the original context.
  c->freq_factors = m.rope_freqs;
  if (!c->freq_factors && m.rope_short) {
    c->freq_factors = (o.n_ctx > m.n_ctx_orig && m.rope_long) ? m.rope_long : m.rope_short;
  }
  return std::unique_ptr<Context>(new Context(std::move(c)));
}

Status Context::Decode(const Batch& batch) {
  Impl& c = *impl_;
  const size_t n = batch.size();
  if (n == 0) return InvalidArgument("empty batch");
  if (batch.pos.size() != n || batch.seq.size() != n || batch.want_logits.size() != n) {
    return InvalidArgument("batch vectors token/pos/seq/want_logits differ in length");
  }
  if (n > size_t(c.opts.n_batch)) {
    return InvalidArgument("batch of " + std::to_string(n) + " tokens exceeds n_batch " +
                           std::to_string(c.opts.n_batch) + " (split it)");
  }
  const int32_t n_vocab = c.m->hp.n_vocab;
  std::copy(c.seq_len.begin(), c.seq_len.end(), c.next_pos.begin());
  for (size_t i = 0; i < n; ++i) {
    auto at = [i] { return "batch entry " + std::to_string(i) + ": "; };
    const int32_t s = batch.seq[i], p = batch.pos[i], t = batch.token[i];
    if (t < 0 || t >= n_vocab) {
      return InvalidArgument(at() + "token id " + std::to_string(t) + " is outside the " +
                             "vocabulary [0, " + std::to_string(n_vocab) + ")");
    }
    if (s < 0 || s >= c.opts.n_seq_max) {
      return InvalidArgument(at() + "sequence id " + std::to_string(s) + " is outside [0, " +
                             std::to_string(c.opts.n_seq_max) + ")");
    }
    if (p < 0 || p >= c.opts.n_ctx) {
      return InvalidArgument(at() + "position " + std::to_string(p) + " is beyond the context " +
                             "of " + std::to_string(c.opts.n_ctx) + " tokens");
    }
    if (p != c.next_pos[s]) {
      return InvalidArgument(at() + "position " + std::to_string(p) + " of sequence " +
                             std::to_string(s) + " is not the next one (expected " +
                             std::to_string(c.next_pos[s]) + ")");
    }
    ++c.next_pos[s];
  }
  RunForward(c, batch);
  std::copy(c.next_pos.begin(), c.next_pos.end(), c.seq_len.begin());
  return Status::Ok();
}

const float* Context::Logits(int i) const {
  MLE_CHECK(i >= 0 && i < impl_->n_outputs);
  return impl_->logits.data() + size_t(i) * impl_->m->hp.n_vocab;
}
int Context::n_outputs() const {
  return impl_->n_outputs;
}

int32_t Context::SeqLength(int32_t seq) const {
  if (seq < 0 || seq >= impl_->opts.n_seq_max) return 0;
  return impl_->seq_len[seq];
}

void Context::SeqTruncate(int32_t seq, int32_t n) {
  if (seq < 0 || seq >= impl_->opts.n_seq_max) return;
  impl_->seq_len[seq] = std::clamp(n, 0, impl_->seq_len[seq]);
}

int32_t Context::n_ctx() const {
  return impl_->opts.n_ctx;
}
int32_t Context::n_seq_max() const {
  return impl_->opts.n_seq_max;
}
int32_t Context::n_batch() const {
  return impl_->opts.n_batch;
}
int Context::n_threads() const {
  return impl_->opts.n_threads;
}
const Model& Context::model() const {
  return *impl_->model;
}
uint64_t Context::kv_bytes() const {
  return impl_->kv_bytes;
}

}  // namespace mle::llm
