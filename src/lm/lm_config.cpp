#include "lm/lm_config.h"

#include <fstream>
#include <sstream>
#include <string>

namespace mle::lm {
namespace {

Status FieldError(const std::string& field, const std::string& why) {
  return InvalidArgument("model config '" + field + "' " + why);
}

}  // namespace

int LmConfig::hidden() const {
  if (ffn_hidden > 0) return ffn_hidden;
  const int h = 8 * dim / 3;
  return (h + 31) / 32 * 32;
}

Result<LmConfig> LmConfigFromJson(const nlohmann::json& j) {
  if (!j.is_object()) return InvalidArgument("model config must be a JSON object");
  LmConfig c;
  for (const auto& [key, v] : j.items()) {
    auto int_field = [&](int* dst) -> Status {
      if (!v.is_number_integer()) return FieldError(key, "must be an integer");
      const int64_t x = v.get<int64_t>();
      if (x < 0 || x > (int64_t{1} << 24)) return FieldError(key, "is out of range");
      *dst = static_cast<int>(x);
      return Status::Ok();
    };
    auto float_field = [&](float* dst) -> Status {
      if (!v.is_number()) return FieldError(key, "must be a number");
      *dst = v.get<float>();
      return Status::Ok();
    };
    Status s;
    if (key == "vocab_size") {
      s = int_field(&c.vocab_size);
    } else if (key == "dim") {
      s = int_field(&c.dim);
    } else if (key == "n_layers") {
      s = int_field(&c.n_layers);
    } else if (key == "n_heads") {
      s = int_field(&c.n_heads);
    } else if (key == "n_kv_heads") {
      s = int_field(&c.n_kv_heads);
    } else if (key == "ffn_hidden") {
      s = int_field(&c.ffn_hidden);
    } else if (key == "context") {
      s = int_field(&c.context);
    } else if (key == "norm_eps") {
      s = float_field(&c.norm_eps);
    } else if (key == "rope_theta") {
      s = float_field(&c.rope_theta);
    } else if (key == "tied_embeddings") {
      if (!v.is_boolean()) return FieldError(key, "must be true or false");
      c.tied_embeddings = v.get<bool>();
    } else {
      return InvalidArgument(
          "model config has unknown field '" + key +
          "' (known: vocab_size, dim, n_layers, n_heads, n_kv_heads, ffn_hidden, context, "
          "norm_eps, rope_theta, tied_embeddings)");
    }
    if (!s.ok()) return s;
  }
  if (j.contains("n_heads") && !j.contains("n_kv_heads")) c.n_kv_heads = c.n_heads;
  return c;
}

nlohmann::json ToJson(const LmConfig& c) {
  return {{"vocab_size", c.vocab_size}, {"dim", c.dim},
          {"n_layers", c.n_layers},     {"n_heads", c.n_heads},
          {"n_kv_heads", c.n_kv_heads}, {"ffn_hidden", c.hidden()},
          {"context", c.context},       {"norm_eps", c.norm_eps},
          {"rope_theta", c.rope_theta}, {"tied_embeddings", c.tied_embeddings}};
}

Result<LmConfig> LmConfigFromSize(std::string_view size, int vocab_size) {
  LmConfig c;
  if (size == "tiny") {
    c.dim = 128;
    c.n_layers = 4;
    c.n_heads = 4;
    c.n_kv_heads = 4;
    c.context = 128;
  } else if (size == "small") {
    // the defaults: dim 256, 4 layers, 4 heads, context 256
  } else if (size == "base") {
    c.dim = 768;
    c.n_layers = 12;
    c.n_heads = 12;
    c.n_kv_heads = 12;
    c.context = 1024;
  } else {
    std::string text(size);
    const bool inline_json = !text.empty() && text.front() == '{';
    if (!inline_json) {
      std::ifstream in(text);
      if (!in) {
        return InvalidArgument("--size '" + text +
                               "' is not tiny, small, base, a JSON object or a readable JSON file");
      }
      std::stringstream ss;
      ss << in.rdbuf();
      text = ss.str();
    }
    nlohmann::json j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
    if (j.is_discarded()) {
      return InvalidArgument("--size: '" + std::string(size).substr(0, 80) +
                             "' is not valid JSON (give tiny, small, base or a JSON object)");
    }
    MLE_ASSIGN_OR_RETURN(c, LmConfigFromJson(j));
  }
  if (vocab_size > 0) c.vocab_size = vocab_size;
  MLE_RETURN_IF_ERROR(ValidateLmConfig(c));
  return c;
}

Status ValidateLmConfig(const LmConfig& c) {
  if (c.vocab_size < 8) return FieldError("vocab_size", "must be >= 8");
  if (c.dim < 8) return FieldError("dim", "must be >= 8");
  if (c.n_layers < 1) return FieldError("n_layers", "must be >= 1");
  if (c.n_heads < 1) return FieldError("n_heads", "must be >= 1");
  if (c.dim % c.n_heads != 0) {
    return FieldError("dim", "(" + std::to_string(c.dim) + ") must be divisible by n_heads (" +
                                 std::to_string(c.n_heads) + ")");
  }
  if (c.head_dim() % 2 != 0) return FieldError("n_heads", "must leave an even head size for RoPE");
  if (c.n_kv_heads < 1 || c.n_heads % c.n_kv_heads != 0) {
    return FieldError("n_kv_heads", "must be >= 1 and divide n_heads");
  }
  if (c.hidden() < 1) return FieldError("ffn_hidden", "must be >= 1");
  if (c.context < 2) return FieldError("context", "must be >= 2");
  if (!(c.norm_eps > 0.0f && c.norm_eps < 1.0f)) return FieldError("norm_eps", "must be in (0, 1)");
  if (!(c.rope_theta > 1.0f)) return FieldError("rope_theta", "must be > 1");
  return Status::Ok();
}

int64_t ParameterCount(const LmConfig& c) {
  const int64_t d = c.dim, v = c.vocab_size, hd = c.head_dim();
  const int64_t attn = d * d * 2 + 2 * d * (c.n_kv_heads * hd);
  const int64_t ffn = 3 * d * c.hidden();
  const int64_t per_layer = attn + ffn + 2 * d;
  return v * d * (c.tied_embeddings ? 1 : 2) + c.n_layers * per_layer + d;
}

uint64_t EstimateTrainingBytes(const LmConfig& c, int batch) {
  const uint64_t params = static_cast<uint64_t>(ParameterCount(c));
  const uint64_t tokens = static_cast<uint64_t>(batch) * c.context;
  // Per layer and token: the saved inputs of norms, projections, SwiGLU and attention output
  // (about 10 dim-wide and 3 hidden-wide floats), plus the attention matrix per head.
  const uint64_t per_layer =
      tokens * (10ull * c.dim + 3ull * c.hidden()) + tokens * c.n_heads * c.context * 2ull;
  const uint64_t logits = tokens * static_cast<uint64_t>(c.vocab_size) * 3ull;
  return params * 16ull + (per_layer * c.n_layers + logits) * 4ull;
}

uint64_t AvailableMemoryBytes() {
  std::ifstream in("/proc/meminfo");
  std::string key;
  uint64_t kb = 0;
  std::string unit;
  while (in >> key >> kb >> unit) {
    if (key == "MemAvailable:") return kb * 1024ull;
  }
  return 0;
}

}  // namespace mle::lm
