// Model::Load: reads the hyperparameters from the `{arch}.*` keys, maps every tensor of the
// architecture's table (llama, qwen2, phi3, gemma3) with its expected shape, checks types and
// shapes, and builds the tokenizer. Matrices stay in the memory map; norm weights, biases and
// RoPE factors (a few KiB) are copied to float.
#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <thread>

#include "core/huge_pages.h"
#include "kernels/quant_ref.h"
#include "llm/model_impl.h"
#include "text/vocab.h"

namespace mle::llm {
namespace {

// The architecture table: what each one adds to the llama graph (see ArchSpec).
constexpr ArchSpec kArchs[] = {
    {.name = "llama", .rope = RopeStyle::kNormal},
    {.name = "qwen2", .rope = RopeStyle::kNeox, .qkv_bias = true},
    {.name = "phi3",
     .rope = RopeStyle::kNeox,
     .fused_qkv = true,
     .fused_gate_up = true,
     .prescale_q = true},
    {.name = "gemma3",
     .rope = RopeStyle::kNeox,
     .qk_norm = true,
     .post_norms = true,
     .gelu = true,
     .embd_scale = true,
     .prescale_q = true},
};

const ArchSpec* FindArch(const std::string& name) {
  for (const ArchSpec& a : kArchs) {
    if (name == a.name) return &a;
  }
  return nullptr;
}

std::string SupportedArchs() {
  std::string s;
  for (const ArchSpec& a : kArchs) s += std::string(s.empty() ? "" : ", ") + a.name;
  return s;
}

// Reads `{arch}.<key>` integers and floats, keeping the first error.
class MetaReader {
 public:
  MetaReader(const gguf::GgufFile& f, std::string arch) : f_(f), prefix_(std::move(arch) + ".") {}

  int32_t Int(const std::string& key, int64_t def, int64_t min_v = 1, int64_t max_v = 1 << 30) {
    const std::string k = prefix_ + key;
    auto r = f_.GetIntOr(k, def);
    if (!r.ok()) return Fail(r.status()), 0;
    if (*r < min_v || *r > max_v) {
      Fail(InvalidArgument("model metadata '" + k + "' = " + std::to_string(*r) +
                           " is out of range [" + std::to_string(min_v) + ", " +
                           std::to_string(max_v) + "]"));
      return 0;
    }
    return static_cast<int32_t>(*r);
  }
  int32_t RequiredInt(const std::string& key) {
    if (!f_.Find(prefix_ + key)) {
      Fail(InvalidArgument("model metadata '" + prefix_ + key + "' is missing"));
      return 0;
    }
    return Int(key, 0);
  }
  float Float(const std::string& key, double def) {
    auto r = f_.GetFloatOr(prefix_ + key, def);
    if (!r.ok()) return Fail(r.status()), 0.0f;
    return static_cast<float>(*r);
  }
  std::string String(const std::string& key, const std::string& def) {
    auto r = f_.GetStringOr(prefix_ + key, def);
    if (!r.ok()) return Fail(r.status()), def;
    return *r;
  }
  bool Has(const std::string& key) const { return f_.Find(prefix_ + key) != nullptr; }
  void Fail(const Status& s) {
    if (status_.ok()) status_ = s;
  }
  const Status& status() const { return status_; }

 private:
  const gguf::GgufFile& f_;
  std::string prefix_;
  Status status_;
};

Status ReadHparams(const gguf::GgufFile& f, const ArchSpec& spec, Model::Impl* m) {
  Hparams& hp = m->hp;
  MetaReader r(f, hp.arch);
  hp.n_ctx_train = r.RequiredInt("context_length");
  hp.n_embd = r.RequiredInt("embedding_length");
  hp.n_layer = r.RequiredInt("block_count");
  hp.n_ff = r.RequiredInt("feed_forward_length");
  hp.n_head = r.RequiredInt("attention.head_count");
  MLE_RETURN_IF_ERROR(r.status());
  hp.n_head_kv = r.Int("attention.head_count_kv", hp.n_head);
  hp.head_dim = r.Int("attention.key_length", hp.n_embd / hp.n_head);
  const int32_t v_len = r.Int("attention.value_length", hp.head_dim);
  hp.norm_eps = r.Float("attention.layer_norm_rms_epsilon", 1e-5);
  hp.rope_freq_base = r.Float("rope.freq_base", 10000.0);
  hp.n_rot = r.Int("rope.dimension_count", hp.head_dim);
  hp.rope_style = spec.rope;
  m->n_ctx_orig = r.Int("rope.scaling.original_context_length", hp.n_ctx_train);
  m->rope_mscale = r.Float("rope.scaling.attn_factor", 1.0);
  const std::string scaling = r.String("rope.scaling.type", "none");
  float factor = r.Float("rope.scaling.factor", 0.0);
  if (factor == 0.0f) factor = r.Float("rope.scale_linear", 1.0);
  MLE_RETURN_IF_ERROR(r.status());
  if (scaling == "linear") {
    if (!(factor > 0.0f)) return InvalidArgument("rope.scaling.factor must be > 0");
    hp.rope_freq_scale = 1.0f / factor;
  } else if (scaling != "none" && !(spec.fused_qkv && scaling == "longrope")) {
    return Unimplemented("rope scaling type '" + scaling +
                         "' is not supported (supported: none, "
                         "linear" +
                         std::string(spec.fused_qkv ? ", longrope" : "") + ")");
  }
  if (hp.n_head_kv <= 0 || hp.n_head % hp.n_head_kv != 0) {
    return InvalidArgument("attention.head_count (" + std::to_string(hp.n_head) +
                           ") must be a multiple of head_count_kv (" +
                           std::to_string(hp.n_head_kv) + ")");
  }
  if (v_len != hp.head_dim) {
    return Unimplemented("attention.value_length != key_length is not supported");
  }
  if (hp.n_rot <= 0 || hp.n_rot > hp.head_dim || hp.n_rot % 2 != 0) {
    return InvalidArgument("rope.dimension_count " + std::to_string(hp.n_rot) +
                           " must be even and at most the head size " +
                           std::to_string(hp.head_dim));
  }
  if (!(hp.norm_eps > 0.0f) || !(hp.rope_freq_base > 0.0f)) {
    return InvalidArgument("layer_norm_rms_epsilon and rope.freq_base must be > 0");
  }
  hp.layer_is_swa.assign(hp.n_layer, false);
  if (std::string(spec.name) == "gemma3") {
    // llama.cpp: 5 sliding-window layers of every 6 (il % 6 < 5), local RoPE base 10000; the
    // attention scale is 1/sqrt(n_embd / n_head) for the 62-layer 27B, else 1/sqrt(head_dim).
    hp.sliding_window = r.Int("attention.sliding_window", 0, 0);
    if (hp.sliding_window > 0) {
      hp.rope_freq_base_swa = 10000.0f;
      for (int il = 0; il < hp.n_layer; ++il) hp.layer_is_swa[il] = il % 6 < 5;
    }
    const int attn_dim = hp.n_layer == 62 ? hp.n_embd / hp.n_head : hp.head_dim;
    m->attn_scale = 1.0f / std::sqrt(static_cast<float>(attn_dim));
  } else {
    m->attn_scale = 1.0f / std::sqrt(static_cast<float>(hp.head_dim));
  }
  return r.status();
}

// Looks tensors up by name and checks their shape and type; keeps the first error.
class TensorMapper {
 public:
  explicit TensorMapper(Model::Impl* m) : m_(m) {}

  const gguf::TensorInfo* Find(const std::string& name, bool required) {
    const gguf::TensorInfo* t = m_->file->FindTensor(name);
    if (!t && required) Fail(NotFound("model tensor '" + name + "' is missing"));
    return t;
  }

  bool CheckDims(const gguf::TensorInfo& t, std::vector<uint64_t> dims) {
    std::vector<uint64_t> have = t.dims;
    while (have.size() > dims.size() && have.back() == 1) have.pop_back();
    if (have == dims) return true;
    auto str = [](const std::vector<uint64_t>& d) {
      std::string s = "[";
      for (size_t i = 0; i < d.size(); ++i) s += (i ? ", " : "") + std::to_string(d[i]);
      return s + "]";
    };
    Fail(InvalidArgument("model tensor '" + t.name + "' has shape " + str(t.dims) + ", expected " +
                         str(dims)));
    return false;
  }

  // A [rows, cols] matrix (GGUF dims {cols, rows}) used in place.
  kernels::WeightMatrix Matrix(const std::string& name, int64_t cols, int64_t rows,
                               bool required = true) {
    kernels::WeightMatrix w;
    const gguf::TensorInfo* t = Find(name, required);
    if (!t || !CheckDims(*t, {uint64_t(cols), uint64_t(rows)})) return w;
    w.type = t->type;
    w.data = m_->file->TensorData(*t);
    w.rows = rows;
    w.cols = cols;
    w.row_bytes = gguf::RowSizeBytes(t->type, cols).value_or(0);
    const Status s = kernels::CheckWeightMatrix(w);
    if (!s.ok()) Fail(s.WithContext("model tensor '" + name + "'"));
    m_->bytes_per_token += t->size_bytes;
    return w;
  }

  // An n-element vector, converted to float and owned by the model.
  const float* Vector(const std::string& name, int64_t n, bool required = true) {
    const gguf::TensorInfo* t = Find(name, required);
    if (!t || !CheckDims(*t, {uint64_t(n)})) return nullptr;
    auto buf = std::make_unique<float[]>(n);
    const Status s = kernels::DequantizeRow(t->type, m_->file->TensorData(*t), buf.get(), n);
    if (!s.ok()) return Fail(s.WithContext("model tensor '" + name + "'")), nullptr;
    m_->bytes_per_token += t->size_bytes;
    m_->vectors.push_back(std::move(buf));
    return m_->vectors.back().get();
  }

  void Fail(const Status& s) {
    if (status_.ok()) status_ = s;
  }
  const Status& status() const { return status_; }

 private:
  Model::Impl* m_;
  Status status_;
};

Status MapTensors(Model::Impl* m) {
  const Hparams& hp = m->hp;
  const ArchSpec& a = *m->spec;
  const int64_t C = hp.n_embd, FF = hp.n_ff, HS = hp.head_dim;
  const int64_t q_dim = int64_t(hp.n_head) * HS, kv_dim = int64_t(hp.n_head_kv) * HS;
  TensorMapper t(m);

  m->tok_embd = t.Find("token_embd.weight", true);
  MLE_RETURN_IF_ERROR(t.status());
  if (m->tok_embd->dims.size() != 2 || m->tok_embd->dims[0] != uint64_t(C) ||
      m->tok_embd->dims[1] == 0 || m->tok_embd->dims[1] > (1u << 30)) {
    t.CheckDims(*m->tok_embd,
                {uint64_t(C), m->tok_embd->dims.size() > 1 ? m->tok_embd->dims[1] : 0});
    return t.status();
  }
  m->hp.n_vocab = static_cast<int32_t>(m->tok_embd->dims[1]);
  const int64_t V = hp.n_vocab;
  if (!kernels::CanDequantize(m->tok_embd->type)) {
    return Unimplemented("model tensor 'token_embd.weight' has unsupported type " +
                         std::string(gguf::TensorTypeName(m->tok_embd->type)));
  }
  m->bytes_per_token += gguf::RowSizeBytes(m->tok_embd->type, C).value_or(0);
  m->output_norm = t.Vector("output_norm.weight", C);
  if (m->file->FindTensor("output.weight")) {
    m->output = t.Matrix("output.weight", C, V);
  } else {
    m->output = t.Matrix("token_embd.weight", C, V);  // tied embeddings
  }
  const int64_t n_freq = hp.n_rot / 2;
  m->rope_freqs = t.Vector("rope_freqs.weight", n_freq, false);
  m->rope_short = t.Vector("rope_factors_short.weight", n_freq, false);
  m->rope_long = t.Vector("rope_factors_long.weight", n_freq, false);

  m->layers.resize(hp.n_layer);
  for (int il = 0; il < hp.n_layer; ++il) {
    LayerWeights& L = m->layers[il];
    const std::string p = "blk." + std::to_string(il) + ".";
    L.attn_norm = t.Vector(p + "attn_norm.weight", C);
    if (a.fused_qkv) {
      L.wqkv = t.Matrix(p + "attn_qkv.weight", C, q_dim + 2 * kv_dim);
    } else {
      L.wq = t.Matrix(p + "attn_q.weight", C, q_dim);
      L.wk = t.Matrix(p + "attn_k.weight", C, kv_dim);
      L.wv = t.Matrix(p + "attn_v.weight", C, kv_dim);
    }
    if (a.qkv_bias) {
      L.bq = t.Vector(p + "attn_q.bias", q_dim);
      L.bk = t.Vector(p + "attn_k.bias", kv_dim);
      L.bv = t.Vector(p + "attn_v.bias", kv_dim);
    }
    if (a.qk_norm) {
      L.attn_q_norm = t.Vector(p + "attn_q_norm.weight", HS);
      L.attn_k_norm = t.Vector(p + "attn_k_norm.weight", HS);
    }
    L.wo = t.Matrix(p + "attn_output.weight", q_dim, C);
    if (a.post_norms) L.post_attn_norm = t.Vector(p + "post_attention_norm.weight", C);
    L.ffn_norm = t.Vector(p + "ffn_norm.weight", C);
    if (a.fused_gate_up) {
      L.w_up = t.Matrix(p + "ffn_up.weight", C, 2 * FF);
    } else {
      L.w_gate = t.Matrix(p + "ffn_gate.weight", C, FF);
      L.w_up = t.Matrix(p + "ffn_up.weight", C, FF);
    }
    L.w_down = t.Matrix(p + "ffn_down.weight", FF, C);
    if (a.post_norms) L.post_ffw_norm = t.Vector(p + "post_ffw_norm.weight", C);
    MLE_RETURN_IF_ERROR(t.status());
  }
  return t.status();
}

// Copies every matrix whose kernels::PreferredLayout is not the stored one into one buffer in
// that layout and releases the mapped pages it came from (model.h, LoadOptions::repack).
Status RepackMatrices(Model::Impl* m) {
  std::vector<kernels::WeightMatrix*> todo;
  auto consider = [&](kernels::WeightMatrix& w) {
    if (w.data != nullptr && kernels::PreferredLayout(w) != w.layout) todo.push_back(&w);
  };
  consider(m->output);
  for (LayerWeights& L : m->layers) {
    for (kernels::WeightMatrix* w :
         {&L.wq, &L.wk, &L.wv, &L.wqkv, &L.wo, &L.w_gate, &L.w_up, &L.w_down}) {
      consider(*w);
    }
  }
  if (todo.empty()) return Status::Ok();
  uint64_t total = 0;
  for (const kernels::WeightMatrix* w : todo) {
    total += (kernels::RepackedBytes(*w, kernels::PreferredLayout(*w)) + 63) & ~uint64_t{63};
  }
  // Decode streams this whole buffer once per token; in huge pages decode ran 3-9% faster in
  // the same process with both kinds of copy loaded, and never slower.
  size_t allocated = 0;
  void* buf = AllocHugePages(total, &allocated);
  if (buf == nullptr) {
    return ResourceExhausted("cannot allocate " + std::to_string(total >> 20) +
                             " MiB to repack the weights (load with repacking off)");
  }
  m->repacked.reset(static_cast<uint8_t*>(buf));
  m->repacked_bytes = allocated;
  std::vector<uint8_t*> dst(todo.size());
  dst[0] = m->repacked.get();
  for (size_t i = 1; i < todo.size(); ++i) {
    const kernels::WeightMatrix& w = *todo[i - 1];
    dst[i] =
        dst[i - 1] + ((kernels::RepackedBytes(w, kernels::PreferredLayout(w)) + 63) & ~size_t{63});
  }
  const bool tied = m->output.data == m->file->TensorData(*m->tok_embd);
  // Bound by page faults and memory traffic: every hardware thread takes matrices in turn.
  std::atomic<size_t> next{0};
  auto work = [&] {
    for (size_t i = next++; i < todo.size(); i = next++) {
      kernels::WeightMatrix* w = todo[i];
      const kernels::WeightMatrix src = *w;
      *w = kernels::RepackWeights(src, kernels::PreferredLayout(src), dst[i]);
      // Tied embeddings keep reading rows of the mapped table: leave those pages alone.
      if (!(tied && w == &m->output)) m->file->ReleasePages(src.data, src.rows * src.row_bytes);
    }
  };
  const unsigned n_threads = std::max(1u, std::min(8u, std::thread::hardware_concurrency()));
  std::vector<std::thread> threads;
  for (unsigned t = 1; t < n_threads; ++t) threads.emplace_back(work);
  work();
  for (std::thread& t : threads) t.join();
  return Status::Ok();
}

}  // namespace

Model::Model(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Model::~Model() = default;

Result<std::unique_ptr<Model>> Model::Load(const std::string& path, const LoadOptions& opts) {
  auto m = std::make_unique<Impl>();
  MLE_ASSIGN_OR_RETURN(m->file, gguf::GgufFile::Open(path));
  const gguf::GgufFile& f = *m->file;
  auto fail = [&](const Status& s) { return s.WithContext("cannot load model '" + path + "'"); };

  auto arch = f.GetString("general.architecture");
  if (!arch.ok()) return fail(arch.status());
  m->hp.arch = *arch;
  m->spec = FindArch(m->hp.arch);
  if (!m->spec) {
    return fail(Unimplemented("unsupported architecture '" + m->hp.arch +
                              "' (supported: " + SupportedArchs() + ")"));
  }
  auto name = f.GetStringOr("general.name", std::filesystem::path(path).filename().string());
  m->hp.name = name.ok() ? *name : path;
  Status s = ReadHparams(f, *m->spec, m.get());
  if (s.ok()) s = MapTensors(m.get());
  if (s.ok() && opts.repack) s = RepackMatrices(m.get());
  if (!s.ok()) return fail(s);
  for (const gguf::TensorInfo& t : f.tensors()) m->tensor_bytes += t.size_bytes;

  auto vocab = text::LoadVocabFromGguf(f);
  if (!vocab.ok()) return fail(vocab.status());
  auto tok = text::Tokenizer::Create(std::move(vocab).value());
  if (!tok.ok()) return fail(tok.status());
  m->tokenizer = std::move(tok).value();
  if (m->tokenizer->n_tokens() > m->hp.n_vocab) {
    return fail(InvalidArgument("the vocabulary has " + std::to_string(m->tokenizer->n_tokens()) +
                                " tokens but token_embd.weight only " +
                                std::to_string(m->hp.n_vocab) + " rows"));
  }
  return std::unique_ptr<Model>(new Model(std::move(m)));
}

const Hparams& Model::hparams() const {
  return impl_->hp;
}
const text::Tokenizer& Model::tokenizer() const {
  return *impl_->tokenizer;
}
const gguf::GgufFile& Model::file() const {
  return *impl_->file;
}
std::optional<std::string> Model::chat_template() const {
  auto r = impl_->file->GetString("tokenizer.chat_template");
  if (!r.ok()) return std::nullopt;
  return *r;
}
uint64_t Model::weight_bytes_per_token() const {
  return impl_->bytes_per_token;
}
uint64_t Model::repacked_bytes() const {
  return impl_->repacked_bytes;
}
uint64_t Model::tensor_bytes() const {
  return impl_->tensor_bytes;
}

}  // namespace mle::llm
