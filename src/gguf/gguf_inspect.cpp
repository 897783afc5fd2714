// `gguf inspect` formatting (see gguf_inspect.h). The text and JSON reports are built from the
// same GgufSummary so they never disagree.
#include "gguf/gguf_inspect.h"

#include <algorithm>
#include <cinttypes>
#include <cmath>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <nlohmann/json.hpp>

namespace mle::gguf {
namespace {

using json = nlohmann::ordered_json;  // keeps the report's key order

// Hyperparameters shown per architecture (keys are "<arch>." + suffix).
constexpr const char* kHyperparameterSuffixes[] = {
    "context_length",
    "embedding_length",
    "block_count",
    "feed_forward_length",
    "attention.head_count",
    "attention.head_count_kv",
    "attention.key_length",
    "attention.value_length",
    "attention.layer_norm_rms_epsilon",
    "attention.layer_norm_epsilon",
    "attention.sliding_window",
    "rope.dimension_count",
    "rope.freq_base",
    "rope.scaling.type",
    "rope.scaling.factor",
    "vocab_size",
    "expert_count",
    "expert_used_count",
};

constexpr std::string_view kChatTemplateKey = "tokenizer.chat_template";

std::string Printf(const char* fmt, ...) __attribute__((format(printf, 1, 2)));
std::string Printf(const char* fmt, ...) {
  char buf[512];
  va_list args;
  va_start(args, fmt);
  std::vsnprintf(buf, sizeof(buf), fmt, args);
  va_end(args);
  return buf;
}

// 23017632 -> "21.95 MiB".
std::string HumanBytes(uint64_t n) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  double v = static_cast<double>(n);
  int u = 0;
  while (v >= 1024 && u < 4) {
    v /= 1024;
    ++u;
  }
  return u == 0 ? Printf("%" PRIu64 " B", n) : Printf("%.2f %s", v, units[u]);
}

// 8390000 -> "8.39 M".
std::string HumanCount(uint64_t n) {
  if (n >= 1000000000ull) return Printf("%.2f B", static_cast<double>(n) / 1e9);
  if (n >= 1000000ull) return Printf("%.2f M", static_cast<double>(n) / 1e6);
  if (n >= 1000ull) return Printf("%.2f K", static_cast<double>(n) / 1e3);
  return std::to_string(n);
}

std::string ShapeText(const std::vector<uint64_t>& dims) {
  std::string out = "[";
  for (size_t i = 0; i < dims.size(); ++i) {
    out += (i ? ", " : "") + std::to_string(dims[i]);
  }
  return out + "]";
}

std::string TypeText(const Value& v) {
  if (v.type() != ValueType::kArray) return std::string(ValueTypeName(v.type()));
  return "array[" + std::string(ValueTypeName(v.array().elem_type)) + "]";
}

json ToJson(const Value& v, size_t max_items) {
  return std::visit(
      [max_items](const auto& x) -> json {
        using T = std::decay_t<decltype(x)>;
        if constexpr (std::is_same_v<T, Array>) {
          json items = json::array();
          for (size_t i = 0; i < x.items.size() && i < max_items; ++i) {
            items.push_back(ToJson(x.items[i], max_items));
          }
          return items;
        } else if constexpr (std::is_floating_point_v<T>) {
          // Via the shortest decimal form, so float32 1e-5 prints as 1e-05, not 9.99999974e-06.
          std::string text = Value(x).ToString();
          return std::isfinite(x) ? json(std::strtod(text.c_str(), nullptr)) : json(text);
        } else {
          return json(x);
        }
      },
      v.storage());
}

json MetadataJson(const KeyValue& kv, size_t max_items) {
  json j = {{"key", kv.key}, {"type", std::string(ValueTypeName(kv.value.type()))}};
  if (kv.value.type() == ValueType::kArray) {
    const Array& a = kv.value.array();
    j["elem_type"] = std::string(ValueTypeName(a.elem_type));
    j["n_items"] = a.items.size();
    if (a.items.size() > max_items) j["truncated"] = true;
  }
  j["value"] = ToJson(kv.value, max_items);
  return j;
}

}  // namespace

GgufSummary Summarize(const GgufFile& file) {
  GgufSummary s;
  std::map<uint32_t, TensorTypeStats> by_type;
  for (const TensorInfo& t : file.tensors()) {
    TensorTypeStats& st = by_type[static_cast<uint32_t>(t.type)];
    st.type = t.type;
    st.n_tensors += 1;
    st.n_elements += t.n_elements;
    st.size_bytes += t.size_bytes;
    s.n_params += t.n_elements;
    s.tensor_bytes += t.size_bytes;
  }
  for (const auto& [id, st] : by_type) s.types.push_back(st);
  std::stable_sort(s.types.begin(), s.types.end(),
                   [](const auto& a, const auto& b) { return a.size_bytes > b.size_bytes; });
  if (s.n_params > 0) {
    s.bits_per_weight = static_cast<double>(s.tensor_bytes) * 8 / static_cast<double>(s.n_params);
  }
  if (auto arch = file.GetString("general.architecture"); arch.ok()) s.architecture = *arch;
  if (!s.architecture.empty()) {
    for (const char* suffix : kHyperparameterSuffixes) {
      if (const Value* v = file.Find(s.architecture + "." + suffix)) {
        s.hyperparameters.emplace_back(suffix, v);
      }
    }
  }
  s.chat_template = file.Find(kChatTemplateKey);
  return s;
}

namespace {

void AppendHeaderText(const GgufFile& file, std::string* out) {
  *out += "GGUF file: " + (file.path().empty() ? std::string("(buffer)") : file.path()) + "\n";
  *out += Printf("  version        %" PRIu32 "\n", file.version());
  *out += Printf("  alignment      %" PRIu32 "\n", file.alignment());
  *out += Printf("  metadata keys  %zu\n", file.metadata().size());
  *out += Printf("  tensors        %zu\n", file.tensors().size());
  *out += Printf("  data offset    %" PRIu64 "\n", file.data_offset());
  *out += Printf("  file size      %" PRIu64 " (%s)\n", file.file_size(),
                 HumanBytes(file.file_size()).c_str());
}

void AppendMetadataText(const GgufFile& file, const InspectOptions& o, std::string* out) {
  size_t width = 0;
  for (const KeyValue& kv : file.metadata()) width = std::max(width, kv.key.size());
  width = std::min<size_t>(width, 48);
  *out += Printf("\nmetadata (%zu keys):\n", file.metadata().size());
  for (const KeyValue& kv : file.metadata()) {
    *out += Printf("  %-*s  %-15s ", static_cast<int>(width), kv.key.c_str(),
                   TypeText(kv.value).c_str());
    *out += kv.value.ToString(o.max_array_items, o.max_string_bytes) + "\n";
  }
}

void AppendTensorStatsText(const GgufSummary& s, std::string* out) {
  *out += "\ntensor types:\n";
  *out += Printf("  %-8s %8s %16s %16s\n", "type", "tensors", "parameters", "bytes");
  uint64_t n_tensors = 0;
  for (const TensorTypeStats& t : s.types) {
    *out += Printf("  %-8s %8" PRIu64 " %16" PRIu64 " %16" PRIu64 "\n",
                   std::string(TensorTypeName(t.type)).c_str(), t.n_tensors, t.n_elements,
                   t.size_bytes);
    n_tensors += t.n_tensors;
  }
  *out += Printf("  %-8s %8" PRIu64 " %16" PRIu64 " %16" PRIu64 "\n", "total", n_tensors,
                 s.n_params, s.tensor_bytes);
  *out +=
      Printf("\nparameters       %s (%" PRIu64 ")\n", HumanCount(s.n_params).c_str(), s.n_params);
  *out += "tensor data      " + HumanBytes(s.tensor_bytes) + "\n";
  *out += Printf("bits per weight  %.2f\n", s.bits_per_weight);
}

void AppendModelText(const GgufSummary& s, std::string* out) {
  if (!s.architecture.empty()) {
    *out += "\narchitecture " + s.architecture + ":\n";
    for (const auto& [name, value] : s.hyperparameters) {
      *out += Printf("  %-34s %s\n", name.c_str(), value->ToString().c_str());
    }
  }
  if (s.chat_template == nullptr) {
    *out += "\nchat template: (none)\n";
  } else if (s.chat_template->type() != ValueType::kString) {
    *out += "\nchat template: (not a string: " + TypeText(*s.chat_template) + ")\n";
  } else {
    const std::string& text = s.chat_template->str();
    *out += "\nchat template:\n" + text + (text.empty() || text.back() != '\n' ? "\n" : "");
  }
}

void AppendTensorListText(const GgufFile& file, std::string* out) {
  *out += "\ntensors:\n";
  for (const TensorInfo& t : file.tensors()) {
    *out += Printf("  %-40s %-8s %-22s offset %-12" PRIu64 " %" PRIu64 " bytes\n", t.name.c_str(),
                   std::string(TensorTypeName(t.type)).c_str(), ShapeText(t.dims).c_str(), t.offset,
                   t.size_bytes);
  }
}

}  // namespace

std::string FormatInspectText(const GgufFile& file, const InspectOptions& options) {
  GgufSummary s = Summarize(file);
  std::string out;
  AppendHeaderText(file, &out);
  AppendMetadataText(file, options, &out);
  AppendTensorStatsText(s, &out);
  AppendModelText(s, &out);
  if (options.list_tensors) AppendTensorListText(file, &out);
  return out;
}

std::string FormatInspectJson(const GgufFile& file, const InspectOptions& options) {
  GgufSummary s = Summarize(file);
  json j = {{"file", file.path()},
            {"version", file.version()},
            {"alignment", file.alignment()},
            {"n_kv", file.metadata().size()},
            {"n_tensors", file.tensors().size()},
            {"data_offset", file.data_offset()},
            {"file_size", file.file_size()}};
  json& meta = j["metadata"] = json::array();
  for (const KeyValue& kv : file.metadata())
    meta.push_back(MetadataJson(kv, options.max_array_items));
  json& types = j["tensor_types"] = json::array();
  for (const TensorTypeStats& t : s.types) {
    types.push_back({{"type", std::string(TensorTypeName(t.type))},
                     {"n_tensors", t.n_tensors},
                     {"n_params", t.n_elements},
                     {"size_bytes", t.size_bytes}});
  }
  j["n_params"] = s.n_params;
  j["tensor_bytes"] = s.tensor_bytes;
  j["bits_per_weight"] = s.bits_per_weight;
  j["architecture"] = s.architecture.empty() ? json(nullptr) : json(s.architecture);
  json& hp = j["hyperparameters"] = json::object();
  for (const auto& [name, value] : s.hyperparameters)
    hp[name] = ToJson(*value, options.max_array_items);
  j["chat_template"] =
      s.chat_template ? ToJson(*s.chat_template, options.max_array_items) : json(nullptr);
  if (options.list_tensors) {
    json& list = j["tensors"] = json::array();
    for (const TensorInfo& t : file.tensors()) {
      list.push_back({{"name", t.name},
                      {"type", std::string(TensorTypeName(t.type))},
                      {"dims", t.dims},
                      {"offset", t.offset},
                      {"size_bytes", t.size_bytes}});
    }
  }
  return j.dump(2, ' ', false, json::error_handler_t::replace) + "\n";
}

}  // namespace mle::gguf
