// Synthetic model writer (see synth.h). Every tensor is produced while the file is written
// (GgufWriter::AddTensorStreamed), a chunk of rows at a time: the rows of a chunk are generated
// and quantized on n_threads threads, so memory stays at one chunk however large the model.
// Each row's random numbers come from (seed, tensor name, row), which makes the file
// independent of the thread count.
#include "llm/synth.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
#include <thread>

#include "core/splitmix.h"
#include "gguf/gguf_file.h"
#include "gguf/gguf_writer.h"
#include "kernels/model_quantize.h"
#include "kernels/quant_policy.h"
#include "kernels/quant_ref.h"

namespace mle::llm {
namespace {

using gguf::TensorType;

constexpr uint64_t kChunkBytes = 16u << 20;  // output bytes generated per parallel step

uint64_t HashName(const std::string& s) {
  uint64_t h = 0xCBF29CE484222325ull;  // FNV-1a
  for (unsigned char c : s) h = (h ^ c) * 0x100000001B3ull;
  return h;
}

// How a tensor's values are drawn: mean + std * (approximately standard normal).
struct Init {
  float mean = 0.0f;
  float std = 0.02f;
};

// Fills `row` with mean + std * x, x the scaled sum of four 16-bit uniforms (Irwin-Hall, n=4:
// variance 1/3, so the factor sqrt(3) gives unit variance; tails end at 3.46 std).
void FillRow(uint64_t state, const Init& init, float* row, uint64_t n) {
  const float scale = init.std * std::sqrt(3.0f) / 65536.0f;
  for (uint64_t i = 0; i < n; ++i) {
    const uint64_t r = SplitMixNext(state);
    const float sum =
        static_cast<float>((r & 0xFFFF) + ((r >> 16) & 0xFFFF) + ((r >> 32) & 0xFFFF) + (r >> 48));
    row[i] = init.mean + (sum - 2.0f * 65535.0f) * scale;
  }
}

struct TensorSpec {
  std::string name;
  std::vector<uint64_t> dims;  // ne[0] (row length) first
  Init init;
};

std::vector<TensorSpec> ShapeTensors(const SynthShape& s) {
  const uint64_t E = s.n_embd, V = s.n_vocab, F = s.n_ff;
  const uint64_t q = uint64_t(s.n_head) * s.head_dim, kv = uint64_t(s.n_head_kv) * s.head_dim;
  const Init weight, norm{1.0f, 0.02f}, logits{0.0f, 2.0f / std::sqrt(float(E))};
  std::vector<TensorSpec> t;
  t.push_back({"token_embd.weight", {E, V}, s.tied_output ? logits : weight});
  t.push_back({"output_norm.weight", {E}, norm});
  if (!s.tied_output) t.push_back({"output.weight", {E, V}, logits});
  for (int i = 0; i < s.n_layer; ++i) {
    const std::string b = "blk." + std::to_string(i) + ".";
    t.push_back({b + "attn_norm.weight", {E}, norm});
    if (s.arch == "phi3") {
      t.push_back({b + "attn_qkv.weight", {E, q + 2 * kv}, weight});
    } else {
      t.push_back({b + "attn_q.weight", {E, q}, weight});
      t.push_back({b + "attn_k.weight", {E, kv}, weight});
      t.push_back({b + "attn_v.weight", {E, kv}, weight});
    }
    if (s.arch == "qwen2") {
      t.push_back({b + "attn_q.bias", {q}, weight});
      t.push_back({b + "attn_k.bias", {kv}, weight});
      t.push_back({b + "attn_v.bias", {kv}, weight});
    }
    if (s.arch == "gemma3") {
      t.push_back({b + "attn_q_norm.weight", {uint64_t(s.head_dim)}, norm});
      t.push_back({b + "attn_k_norm.weight", {uint64_t(s.head_dim)}, norm});
      t.push_back({b + "post_attention_norm.weight", {E}, norm});
      t.push_back({b + "post_ffw_norm.weight", {E}, norm});
    }
    t.push_back({b + "attn_output.weight", {q, E}, weight});
    t.push_back({b + "ffn_norm.weight", {E}, norm});
    if (s.arch == "phi3") {
      t.push_back({b + "ffn_up.weight", {E, 2 * F}, weight});  // gate and up, fused
    } else {
      t.push_back({b + "ffn_gate.weight", {E, F}, weight});
      t.push_back({b + "ffn_up.weight", {E, F}, weight});
    }
    t.push_back({b + "ffn_down.weight", {F, E}, weight});
  }
  return t;
}

void SetArchMetadata(const SynthShape& s, uint32_t file_type, gguf::GgufWriter& w) {
  const std::string a = s.arch + ".";
  w.SetString("general.architecture", s.arch);
  w.SetString("general.name", "synthetic-" + s.name);
  w.SetUint32(a + "context_length", s.n_ctx_train);
  w.SetUint32(a + "embedding_length", s.n_embd);
  w.SetUint32(a + "block_count", s.n_layer);
  w.SetUint32(a + "feed_forward_length", s.n_ff);
  w.SetUint32(a + "attention.head_count", s.n_head);
  w.SetUint32(a + "attention.head_count_kv", s.n_head_kv);
  if (s.arch == "gemma3") {
    w.SetUint32(a + "attention.key_length", s.head_dim);
    w.SetUint32(a + "attention.value_length", s.head_dim);
    w.SetUint32(a + "attention.sliding_window", s.sliding_window);
  } else {
    w.SetUint32(a + "rope.dimension_count", s.head_dim);
  }
  w.SetFloat32(a + "attention.layer_norm_rms_epsilon", s.norm_eps);
  w.SetFloat32(a + "rope.freq_base", s.rope_freq_base);
  w.SetUint32("general.quantization_version", 2);
  w.SetUint32("general.file_type", file_type);
}

// Copies every tokenizer.* key of the vocab file; returns its token count.
Result<int64_t> CopyVocab(const std::string& path, gguf::GgufWriter& w) {
  MLE_ASSIGN_OR_RETURN(std::unique_ptr<gguf::GgufFile> f, gguf::GgufFile::Open(path));
  const gguf::Value* tokens = f->Find("tokenizer.ggml.tokens");
  if (!tokens || !tokens->holds<gguf::Array>()) {
    return InvalidArgument("vocab file '" + path +
                           "' has no tokenizer.ggml.tokens (give a GGUF file with a vocabulary, "
                           "e.g. ../shared/testdata/vocab/ggml-vocab-llama-spm.gguf)");
  }
  for (const gguf::KeyValue& kv : f->metadata()) {
    if (kv.key.rfind("tokenizer.", 0) == 0) w.Set(kv.key, kv.value);
  }
  return static_cast<int64_t>(tokens->array().items.size());
}

// Generates and converts rows [begin, end) of one tensor into `out` (rows of dst_row_bytes).
Status ProduceRows(const TensorSpec& t, uint64_t tensor_seed, TensorType type, uint64_t begin,
                   uint64_t end, uint64_t dst_row_bytes, uint8_t* out) {
  const uint64_t n = t.dims[0];
  std::vector<float> row(n);
  for (uint64_t r = begin; r < end; ++r) {
    FillRow(tensor_seed ^ (r * 0xD1B54A32D192ED03ull), t.init, row.data(), n);
    MLE_RETURN_IF_ERROR(kernels::QuantizeRow(type, row.data(), out + (r - begin) * dst_row_bytes,
                                             static_cast<int64_t>(n)));
  }
  return Status::Ok();
}

// The producer of one tensor: chunks of rows, each split over n_threads threads.
Status WriteTensor(const TensorSpec& t, uint64_t seed, TensorType type, int n_threads,
                   gguf::TensorSink& sink) {
  const uint64_t n_per_row = t.dims[0];
  uint64_t n_rows = 1;
  for (size_t i = 1; i < t.dims.size(); ++i) n_rows *= t.dims[i];
  const uint64_t row_bytes = *gguf::RowSizeBytes(type, n_per_row);
  const uint64_t chunk_rows = std::max<uint64_t>(1, kChunkBytes / row_bytes);
  const uint64_t tensor_seed = seed * 0x9E3779B97F4A7C15ull ^ HashName(t.name);
  std::vector<uint8_t> buf(std::min(chunk_rows, n_rows) * row_bytes);
  for (uint64_t c0 = 0; c0 < n_rows; c0 += chunk_rows) {
    const uint64_t c1 = std::min(n_rows, c0 + chunk_rows);
    const uint64_t n_workers = std::clamp<uint64_t>(n_threads, 1, c1 - c0);
    std::vector<Status> st(n_workers);
    std::vector<std::thread> threads;
    for (uint64_t w = 0; w < n_workers; ++w) {
      const uint64_t b = c0 + (c1 - c0) * w / n_workers, e = c0 + (c1 - c0) * (w + 1) / n_workers;
      auto work = [&, w, b, e] {
        st[w] =
            ProduceRows(t, tensor_seed, type, b, e, row_bytes, buf.data() + (b - c0) * row_bytes);
      };
      if (w + 1 == n_workers) {
        work();
      } else {
        threads.emplace_back(work);
      }
    }
    for (std::thread& th : threads) th.join();
    for (const Status& s : st) MLE_RETURN_IF_ERROR(s.WithContext("tensor '" + t.name + "'"));
    MLE_RETURN_IF_ERROR(sink.Write(buf.data(), (c1 - c0) * row_bytes));
  }
  return Status::Ok();
}

Status CheckVocab(SynthShape& shape, int64_t n_tokens, const std::string& path) {
  if (shape.n_vocab == 0) {
    shape.n_vocab = static_cast<int32_t>(n_tokens);
    return Status::Ok();
  }
  if (n_tokens != shape.n_vocab) {
    return InvalidArgument("vocab file '" + path + "' has " + std::to_string(n_tokens) +
                           " tokens but shape '" + shape.name + "' needs " +
                           std::to_string(shape.n_vocab) + " (use " + shape.vocab_hint + ")");
  }
  return Status::Ok();
}

// Per-tensor output types: `gguf quantize`'s policy, or F32 everywhere.
Result<std::vector<kernels::TensorPlan>> PlanTypes(const SynthShape& shape,
                                                   const std::vector<TensorSpec>& specs,
                                                   const std::string& type_name,
                                                   uint32_t* file_type) {
  std::vector<kernels::TensorDesc> descs;
  for (const TensorSpec& t : specs) descs.push_back({t.name, t.dims, TensorType::kF32});
  std::string upper = type_name;
  for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  if (upper == "F32") {
    *file_type = 0;  // LLAMA_FTYPE_ALL_F32
    return kernels::PlanUnquantized(descs);
  }
  Result<kernels::QuantPreset> preset = kernels::ParseQuantPreset(type_name);
  if (!preset.ok()) {
    return InvalidArgument("unknown type '" + type_name +
                           "' (allowed: Q4_0, Q8_0, Q4_K_M, Q6_K, F16, BF16, F32)");
  }
  *file_type = kernels::LlamaFileType(*preset);
  kernels::ModelFacts facts{shape.arch, shape.n_layer, shape.n_head, shape.n_head_kv, 0};
  return kernels::PlanQuantization(facts, descs, *preset);
}

}  // namespace

const std::vector<SynthShape>& SynthShapes() {
  static const std::vector<SynthShape> shapes = [] {
    auto make = [](std::string name, std::string arch, int32_t V, int32_t E, int32_t L, int32_t NH,
                   int32_t NKV, int32_t HS, int32_t F, int32_t ctx, float rope, float eps,
                   bool tied, std::string hint) {
      SynthShape s;
      s.name = std::move(name);
      s.arch = std::move(arch);
      s.n_vocab = V, s.n_embd = E, s.n_layer = L, s.n_head = NH, s.n_head_kv = NKV;
      s.head_dim = HS, s.n_ff = F, s.n_ctx_train = ctx, s.rope_freq_base = rope;
      s.norm_eps = eps, s.tied_output = tied, s.vocab_hint = std::move(hint);
      return s;
    };
    const std::string v = "../shared/testdata/vocab/";
    std::vector<SynthShape> s = {
        make("tinyllama-1.1b", "llama", 32000, 2048, 22, 32, 4, 64, 5632, 2048, 1e4f, 1e-5f, false,
             v + "ggml-vocab-llama-spm.gguf"),
        // Llama 3's rope scaling (rope_freqs) is left out, so the context stays at 8192.
        make("llama-3.2-1b", "llama", 128256, 2048, 16, 32, 8, 64, 8192, 8192, 5e5f, 1e-5f, true,
             v + "ggml-vocab-llama-bpe.gguf"),
        make("qwen2.5-0.5b", "qwen2", 151936, 896, 24, 14, 2, 64, 4864, 32768, 1e6f, 1e-6f, true,
             v + "ggml-vocab-qwen2.gguf"),
        // Phi-3.5's long-context rope factors are left out: the 4k original context.
        make("phi-3.5-mini", "phi3", 32064, 3072, 32, 32, 32, 96, 8192, 4096, 1e4f, 1e-5f, false,
             v + "ggml-vocab-phi-3.gguf"),
        make("gemma-3-1b", "gemma3", 262144, 1152, 26, 4, 1, 256, 6912, 32768, 1e6f, 1e-6f, true,
             "a Gemma 3 GGUF, e.g. ../shared/testdata/models/tiny-gemma3-Q8_0.gguf"),
        make("tiny", "llama", 0, 64, 2, 4, 2, 16, 256, 512, 1e4f, 1e-5f, false, "any"),
    };
    s[4].sliding_window = 512;
    return s;
  }();
  return shapes;
}

Result<SynthShape> FindSynthShape(const std::string& name) {
  std::string names;
  for (const SynthShape& s : SynthShapes()) {
    if (s.name == name) return s;
    names += (names.empty() ? "" : ", ") + s.name;
  }
  return NotFound("unknown shape '" + name + "' (known: " + names + ")");
}

Result<SynthSummary> SynthesizeModel(const SynthOptions& options) {
  const auto t0 = std::chrono::steady_clock::now();
  MLE_ASSIGN_OR_RETURN(SynthShape shape, FindSynthShape(options.shape));
  if (!options.arch.empty() && options.arch != shape.arch) {
    return InvalidArgument("shape '" + shape.name + "' is a " + shape.arch + " model, not '" +
                           options.arch + "' (use --arch " + shape.arch + " or omit --arch)");
  }
  gguf::GgufWriter writer;
  uint32_t file_type = 0;
  MLE_ASSIGN_OR_RETURN(int64_t n_tokens, CopyVocab(options.vocab_path, writer));
  MLE_RETURN_IF_ERROR(CheckVocab(shape, n_tokens, options.vocab_path));
  const std::vector<TensorSpec> specs = ShapeTensors(shape);
  MLE_ASSIGN_OR_RETURN(std::vector<kernels::TensorPlan> plans,
                       PlanTypes(shape, specs, options.type, &file_type));
  SetArchMetadata(shape, file_type, writer);

  SynthSummary summary;
  for (size_t i = 0; i < plans.size(); ++i) {
    const kernels::TensorPlan& plan = plans[i];
    const TensorSpec& spec = *std::find_if(specs.begin(), specs.end(),
                                           [&](const auto& t) { return t.name == plan.name; });
    auto produce = [&options, &spec, type = plan.dst_type, i,
                    n = plans.size()](gguf::TensorSink& sink) {
      if (options.on_tensor) options.on_tensor(i, n, spec.name);
      return WriteTensor(spec, options.seed, type, std::max(1, options.n_threads), sink);
    };
    MLE_RETURN_IF_ERROR(writer.AddTensorStreamed(spec.name, spec.dims, plan.dst_type, produce));
    uint64_t n_elem = 1;
    for (uint64_t d : spec.dims) n_elem *= d;
    summary.n_params += n_elem;
    summary.size_bytes +=
        *gguf::RowSizeBytes(plan.dst_type, spec.dims[0]) * (n_elem / spec.dims[0]);
  }
  MLE_RETURN_IF_ERROR(writer.WriteFile(options.out_path));
  summary.shape = shape;
  summary.n_tensors = plans.size();
  summary.t_ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  return summary;
}

}  // namespace mle::llm
