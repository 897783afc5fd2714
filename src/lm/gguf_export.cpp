#include "lm/gguf_export.h"

#include <cctype>
#include <filesystem>
#include <unordered_map>

#include "gguf/gguf_writer.h"
#include "kernels/quant_policy.h"
#include "kernels/quant_ref.h"
#include "lm/lm_tokenizer.h"

namespace mle::lm {
namespace {

using gguf::TensorType;

std::vector<int64_t> ExpectedShape(const LmConfig& c, const std::string& name) {
  const int64_t d = c.dim, kv = static_cast<int64_t>(c.n_kv_heads) * c.head_dim();
  if (name == "token_embd.weight" || name == "output.weight") return {c.vocab_size, d};
  if (name == "output_norm.weight") return {d};
  const std::string tail = name.substr(name.find('.', 4) + 1);  // after "blk.N."
  if (tail == "attn_norm.weight" || tail == "ffn_norm.weight") return {d};
  if (tail == "attn_q.weight" || tail == "attn_output.weight") return {d, d};
  if (tail == "attn_k.weight" || tail == "attn_v.weight") return {kv, d};
  if (tail == "ffn_gate.weight" || tail == "ffn_up.weight") return {c.hidden(), d};
  if (tail == "ffn_down.weight") return {d, c.hidden()};
  return {};
}

std::string ShapeText(const std::vector<int64_t>& s) {
  std::string t = "[";
  for (size_t i = 0; i < s.size(); ++i) t += (i ? ", " : "") + std::to_string(s[i]);
  return t + "]";
}

void SetModelMetadata(const LmConfig& c, const std::string& name, uint32_t file_type,
                      gguf::GgufWriter& w) {
  w.SetString("general.architecture", "llama");
  w.SetString("general.name", name);
  w.SetUint32("general.quantization_version", 2);
  w.SetUint32("general.file_type", file_type);
  w.SetUint32("llama.vocab_size", static_cast<uint32_t>(c.vocab_size));
  w.SetUint32("llama.context_length", static_cast<uint32_t>(c.context));
  w.SetUint32("llama.embedding_length", static_cast<uint32_t>(c.dim));
  w.SetUint32("llama.block_count", static_cast<uint32_t>(c.n_layers));
  w.SetUint32("llama.feed_forward_length", static_cast<uint32_t>(c.hidden()));
  w.SetUint32("llama.attention.head_count", static_cast<uint32_t>(c.n_heads));
  w.SetUint32("llama.attention.head_count_kv", static_cast<uint32_t>(c.n_kv_heads));
  w.SetUint32("llama.rope.dimension_count", static_cast<uint32_t>(c.head_dim()));
  w.SetFloat32("llama.rope.freq_base", c.rope_theta);
  w.SetFloat32("llama.attention.layer_norm_rms_epsilon", c.norm_eps);
}

// Converts one tensor's fp32 rows to `type` while the file is written.
gguf::TensorProducer RowConverter(const NamedTensor* t, TensorType type) {
  return [t, type](gguf::TensorSink& sink) -> Status {
    const int64_t row = t->shape.back();
    const int64_t rows = static_cast<int64_t>(t->data.size()) / row;
    const std::optional<uint64_t> row_bytes = gguf::RowSizeBytes(type, static_cast<uint64_t>(row));
    if (!row_bytes) return InvalidArgument("tensor '" + t->name + "': bad row size for its type");
    std::vector<uint8_t> buf(*row_bytes);
    for (int64_t r = 0; r < rows; ++r) {
      const float* src = t->data.data() + r * row;
      if (type == TensorType::kF32) {
        MLE_RETURN_IF_ERROR(sink.Write(reinterpret_cast<const uint8_t*>(src), *row_bytes));
        continue;
      }
      MLE_RETURN_IF_ERROR(kernels::QuantizeRow(type, src, buf.data(), row));
      MLE_RETURN_IF_ERROR(sink.Write(buf.data(), buf.size()));
    }
    return Status::Ok();
  };
}

}  // namespace

std::vector<std::string> LlamaTensorNames(const LmConfig& c) {
  std::vector<std::string> names = {"token_embd.weight", "output_norm.weight"};
  if (!c.tied_embeddings) names.push_back("output.weight");
  for (int i = 0; i < c.n_layers; ++i) {
    const std::string b = "blk." + std::to_string(i) + ".";
    for (const char* t : {"attn_norm", "attn_q", "attn_k", "attn_v", "attn_output", "ffn_norm",
                          "ffn_gate", "ffn_up", "ffn_down"}) {
      names.push_back(b + t + ".weight");
    }
  }
  return names;
}

Result<ExportReport> WriteLlamaGguf(const LmConfig& c, const LmTokenizer& tok,
                                    const std::vector<NamedTensor>& tensors,
                                    const ExportOptions& opts) {
  MLE_RETURN_IF_ERROR(ValidateLmConfig(c));
  if (tok.vocab_size() != c.vocab_size) {
    return InvalidArgument("tokenizer '" + tok.dir() + "' has " + std::to_string(tok.vocab_size()) +
                           " tokens but the model has " + std::to_string(c.vocab_size) +
                           " (export with the run's own tokenizer)");
  }
  std::string type = opts.type;
  for (char& ch : type) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
  if (type != "F32" && type != "F16" && type != "Q8_0" && type != "Q4_0") {
    return InvalidArgument("--type '" + opts.type + "' is not one of F32, F16, Q8_0, Q4_0");
  }

  std::unordered_map<std::string, const NamedTensor*> by_name;
  for (const NamedTensor& t : tensors) by_name[t.name] = &t;
  std::vector<kernels::TensorDesc> descs;
  for (const std::string& name : LlamaTensorNames(c)) {
    auto it = by_name.find(name);
    if (it == by_name.end())
      return InvalidArgument("export: the model has no tensor '" + name + "'");
    const NamedTensor& t = *it->second;
    const std::vector<int64_t> want = ExpectedShape(c, name);
    int64_t n = 1;
    for (int64_t d : t.shape) n *= d;
    if (t.shape != want || n != static_cast<int64_t>(t.data.size())) {
      return InvalidArgument("export: tensor '" + name + "' has shape " + ShapeText(t.shape) +
                             ", the model config says " + ShapeText(want));
    }
    std::vector<uint64_t> dims(t.shape.rbegin(), t.shape.rend());  // GGUF: row length first
    descs.push_back({name, dims, TensorType::kF32});
  }

  std::vector<kernels::TensorPlan> plans;
  uint32_t file_type = 0;  // LLAMA_FTYPE_ALL_F32
  if (type == "F32") {
    plans = kernels::PlanUnquantized(descs);
  } else {
    MLE_ASSIGN_OR_RETURN(kernels::QuantPreset preset, kernels::ParseQuantPreset(type));
    file_type = kernels::LlamaFileType(preset);
    kernels::ModelFacts facts{"llama", c.n_layers, c.n_heads, c.n_kv_heads, 0};
    MLE_ASSIGN_OR_RETURN(plans, kernels::PlanQuantization(facts, descs, preset));
  }

  gguf::GgufWriter w;
  SetModelMetadata(c, opts.model_name, file_type, w);
  MLE_RETURN_IF_ERROR(AddTokenizerToGguf(tok, w));
  ExportReport report;
  report.type = type;
  report.n_parameters = ParameterCount(c);
  for (const kernels::TensorPlan& p : plans) {
    const NamedTensor* t = by_name.at(p.name);
    std::vector<uint64_t> dims(t->shape.rbegin(), t->shape.rend());
    MLE_RETURN_IF_ERROR(
        w.AddTensorStreamed(p.name, std::move(dims), p.dst_type, RowConverter(t, p.dst_type)));
    report.tensor_types[std::string(gguf::TensorTypeName(p.dst_type))]++;
  }
  MLE_RETURN_IF_ERROR(w.WriteFile(opts.path));
  std::error_code ec;
  report.file_bytes = std::filesystem::file_size(opts.path, ec);
  return report;
}

}  // namespace mle::lm
