// Per-tensor type rules of llama.cpp's quantizer (see quant_policy.h), limited to the branches
// its code takes for the presets offered here: the output / tied-embedding rule, the
// use_more_bits mix of Q4_K_M on attn_v and ffn_down, the 70B / 8-expert / Falcon tweaks, and
// the fallback table for rows that a K-quant's 256-element block does not divide.
#include "kernels/quant_policy.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <cstdio>

namespace mle::kernels {
namespace {

using gguf::TensorType;

struct PresetRow {
  QuantPreset preset;
  std::string_view name;
  uint32_t file_type;  // llama_ftype
  TensorType default_type;
};

constexpr std::array kPresets = {
    PresetRow{QuantPreset::kQ8_0, "Q8_0", 7, TensorType::kQ8_0},
    PresetRow{QuantPreset::kQ4_0, "Q4_0", 2, TensorType::kQ4_0},
    PresetRow{QuantPreset::kQ4_K_M, "Q4_K_M", 15, TensorType::kQ4_K},
    PresetRow{QuantPreset::kQ6_K, "Q6_K", 18, TensorType::kQ6_K},
    PresetRow{QuantPreset::kF16, "F16", 1, TensorType::kF16},
    PresetRow{QuantPreset::kBF16, "BF16", 32, TensorType::kBF16},
};

const PresetRow& Row(QuantPreset preset) {
  for (const PresetRow& row : kPresets) {
    if (row.preset == preset) return row;
  }
  return kPresets[0];  // unreachable: every enum value has a row
}

enum class Category {
  kTokenEmbd,
  kAttnQ,
  kAttnV,
  kAttnK,
  kAttnOutput,
  kFfnUp,
  kFfnGate,
  kFfnDown,
  kOutput,
  kOther
};

bool Contains(const std::string& s, std::string_view part) {
  return s.find(part) != std::string::npos;
}

// llama-quant.cpp's tensor_get_category; attn_qkv and attn_kv_b count as attn_v there.
Category CategoryOf(const std::string& name) {
  if (name == "output.weight") return Category::kOutput;
  if (name == "token_embd.weight" || name == "per_layer_token_embd.weight") {
    return Category::kTokenEmbd;
  }
  if (Contains(name, "attn_qkv.weight") || Contains(name, "attn_kv_b.weight") ||
      Contains(name, "attn_v.weight")) {
    return Category::kAttnV;
  }
  if (Contains(name, "attn_k.weight")) return Category::kAttnK;
  if (Contains(name, "attn_q.weight")) return Category::kAttnQ;
  if (Contains(name, "attn_output.weight")) return Category::kAttnOutput;
  if (Contains(name, "ffn_up")) return Category::kFfnUp;
  if (Contains(name, "ffn_gate")) return Category::kFfnGate;
  if (Contains(name, "ffn_down")) return Category::kFfnDown;
  return Category::kOther;
}

int NumDims(const std::vector<uint64_t>& dims) {
  int n = static_cast<int>(dims.size());
  while (n > 1 && dims[n - 1] == 1) --n;
  return n;
}

// llama-quant.cpp's tensor_allows_quantization: 2-D+ tensors whose name ends in "weight",
// except norms and the small or special tensors listed there.
bool AllowsQuantization(const TensorDesc& t) {
  if (NumDims(t.dims) < 2) return false;
  const std::string& name = t.name;
  if (name.size() < 6 || name.compare(name.size() - 6, 6, "weight") != 0) return false;
  static constexpr std::string_view kExcluded[] = {"_norm.weight",
                                                   "ffn_gate_inp.weight",
                                                   "ffn_gate_tid2eid.weight",
                                                   "altup",
                                                   "laurel",
                                                   "per_layer_model_proj",
                                                   "ssm_conv1d",
                                                   "shortconv.conv.weight",
                                                   "indexer.k_proj.weight",
                                                   "indexer.q_proj.weight",
                                                   "time_mix_first.weight",
                                                   "time_mix_w0.weight",
                                                   "time_mix_w1.weight",
                                                   "time_mix_w2.weight",
                                                   "time_mix_v0.weight",
                                                   "time_mix_v1.weight",
                                                   "time_mix_v2.weight",
                                                   "time_mix_a0.weight",
                                                   "time_mix_a1.weight",
                                                   "time_mix_a2.weight",
                                                   "time_mix_g1.weight",
                                                   "time_mix_g2.weight",
                                                   "time_mix_decay_w1.weight",
                                                   "time_mix_decay_w2.weight",
                                                   "time_mix_lerp_fused.weight",
                                                   "attn_rel_b.weight",
                                                   ".position_embd",
                                                   "sam.pos_embd",
                                                   "sam.neck.",
                                                   "sam.net_",
                                                   ".rel_pos",
                                                   ".patch_embd",
                                                   ".patch_merger",
                                                   "a.rvq.codebook",
                                                   "mm.a.code_embd"};
  for (std::string_view part : kExcluded) {
    if (Contains(name, part)) return false;
  }
  return name != "position_embd.weight" && name != "token_types.weight";
}

int LayerOf(const std::string& name) {
  int layer = -1;
  std::sscanf(name.c_str(), "blk.%d.", &layer);
  return layer;
}

uint32_t BlockSize(TensorType t) {
  return gguf::GetTensorTypeInfo(t)->block_size;
}
bool IsQuantized(TensorType t) {
  return gguf::GetTensorTypeInfo(t)->quantized;
}

// Layers that get more bits in the _M mixes: the first and last eighth, and every third one
// in between.
bool UseMoreBits(int i_layer, int n_layers) {
  return i_layer < n_layers / 8 || i_layer >= 7 * n_layers / 8 || (i_layer - n_layers / 8) % 3 == 2;
}

// The counters llama_tensor_get_type_impl keeps while it walks the tensors in order.
struct PlanState {
  const ModelFacts& facts;
  QuantPreset preset;
  bool tied_embeddings = true;  // no output.weight: token_embd doubles as the output
  bool is_70b = false;
  int n_attention_wv = 0, i_attention_wv = 0;
  int n_ffn_down = 0, i_ffn_down = 0;
};

// With experts, ffn tensors are not one per layer in order; llama.cpp reads the layer from
// the name then.
int FfnLayer(const PlanState& s, const std::string& name, int counter) {
  return s.facts.n_expert > 1 ? LayerOf(name) : counter;
}

TensorType OutputType(const PlanState& s, const TensorDesc& t, TensorType type) {
  if (s.facts.arch == "falcon" || t.dims[0] % BlockSize(type) != 0) return TensorType::kQ8_0;
  return type != TensorType::kQ8_0 ? TensorType::kQ6_K : type;
}

TensorType AttnVType(PlanState& s, TensorType type) {
  if (s.preset == QuantPreset::kQ4_K_M && UseMoreBits(s.i_attention_wv, s.n_attention_wv)) {
    type = TensorType::kQ6_K;
  }
  if (s.is_70b && (type == TensorType::kQ3_K || type == TensorType::kQ4_K)) {
    type = TensorType::kQ5_K;
  }
  if (s.facts.n_expert == 8) type = TensorType::kQ8_0;
  ++s.i_attention_wv;
  return type;
}

TensorType FfnDownType(PlanState& s, const TensorDesc& t, TensorType type) {
  const int i_layer = FfnLayer(s, t.name, s.i_ffn_down);
  const int n_layer = s.n_ffn_down;
  if (s.preset == QuantPreset::kQ4_K_M) {
    if (s.facts.arch == "falcon") {
      type = i_layer < n_layer / 16          ? TensorType::kQ6_K
             : UseMoreBits(i_layer, n_layer) ? TensorType::kQ5_K
                                             : TensorType::kQ4_K;
    } else if (UseMoreBits(i_layer, n_layer)) {
      type = TensorType::kQ6_K;
    }
  }
  ++s.i_ffn_down;
  return type;
}

// llama_tensor_get_type_impl for a quantized default type.
TensorType MixType(PlanState& s, const TensorDesc& t, TensorType type) {
  const Category cat = CategoryOf(t.name);
  const bool q4_k_m = s.preset == QuantPreset::kQ4_K_M;
  if (cat == Category::kOutput || (s.tied_embeddings && cat == Category::kTokenEmbd)) {
    return OutputType(s, t, type);
  }
  switch (cat) {
    case Category::kAttnV:
      return AttnVType(s, type);
    case Category::kAttnK:
      return s.facts.n_expert == 8 ? TensorType::kQ8_0 : type;
    case Category::kFfnDown:
      return FfnDownType(s, t, type);
    case Category::kAttnOutput:
      return (s.facts.arch != "falcon" && s.facts.n_expert == 8 && q4_k_m) ? TensorType::kQ5_K
                                                                           : type;
    default:
      return type;
  }
}

// llama-quant.cpp's tensor_type_fallback: a type whose block does not divide the row length
// is replaced by a 32-block type of similar size, or F16 when even that does not fit.
Result<TensorType> Fallback(const TensorDesc& t, TensorType type, bool* fell_back) {
  *fell_back = false;
  if (t.dims[0] % BlockSize(type) == 0) return type;
  *fell_back = true;
  TensorType alt;
  switch (type) {
    case TensorType::kQ2_K:
    case TensorType::kQ3_K:
      alt = TensorType::kQ4_0;
      break;
    case TensorType::kQ4_K:
      alt = TensorType::kQ5_0;
      break;
    case TensorType::kQ5_K:
      alt = TensorType::kQ5_1;
      break;
    case TensorType::kQ6_K:
      alt = TensorType::kQ8_0;
      break;
    default:
      return InvalidArgument("cannot quantize tensor '" + t.name + "' to " +
                             std::string(gguf::TensorTypeName(type)) + ": its row length " +
                             std::to_string(t.dims[0]) + " is not a multiple of " +
                             std::to_string(BlockSize(type)) + " and " +
                             std::string(gguf::TensorTypeName(type)) + " has no fallback type");
  }
  return t.dims[0] % BlockSize(alt) == 0 ? alt : TensorType::kF16;
}

PlanState MakeState(const ModelFacts& facts, const std::vector<TensorDesc>& sorted,
                    QuantPreset preset) {
  PlanState s{facts, preset};
  int n_ffn_down_tensors = 0;
  for (const TensorDesc& t : sorted) {
    const Category cat = CategoryOf(t.name);
    if (cat == Category::kAttnV) ++s.n_attention_wv;
    if (cat == Category::kOutput) s.tied_embeddings = false;
    if (cat == Category::kFfnDown) ++n_ffn_down_tensors;
  }
  s.n_ffn_down = facts.n_layer > 0 ? static_cast<int>(facts.n_layer) : n_ffn_down_tensors;
  s.is_70b = facts.arch == "llama" && facts.n_layer == 80 && facts.n_head != facts.n_head_kv;
  return s;
}

}  // namespace

std::string_view QuantPresetName(QuantPreset preset) {
  return Row(preset).name;
}
uint32_t LlamaFileType(QuantPreset preset) {
  return Row(preset).file_type;
}
TensorType PresetDefaultType(QuantPreset preset) {
  return Row(preset).default_type;
}

Result<QuantPreset> ParseQuantPreset(std::string_view name) {
  std::string upper(name);
  for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  for (const PresetRow& row : kPresets) {
    if (row.name == upper) return row.preset;
  }
  std::string allowed;
  for (const PresetRow& row : kPresets) {
    allowed += (allowed.empty() ? "" : ", ") + std::string(row.name);
  }
  return InvalidArgument("unknown quantization type '" + std::string(name) +
                         "' (allowed: " + allowed + ")");
}

bool LlamaTensorOrderLess(const std::string& a, const std::string& b) {
  const int la = LayerOf(a), lb = LayerOf(b);
  return la != lb ? la < lb : a < b;
}

Result<std::vector<TensorPlan>> PlanQuantization(const ModelFacts& facts,
                                                 const std::vector<TensorDesc>& tensors,
                                                 QuantPreset preset) {
  std::vector<TensorDesc> sorted = tensors;
  std::stable_sort(sorted.begin(), sorted.end(), [](const TensorDesc& a, const TensorDesc& b) {
    return LlamaTensorOrderLess(a.name, b.name);
  });
  PlanState state = MakeState(facts, sorted, preset);
  const TensorType default_type = PresetDefaultType(preset);
  std::vector<TensorPlan> plans;
  plans.reserve(sorted.size());
  for (const TensorDesc& t : sorted) {
    TensorPlan plan{t.name, t.type, t.type, AllowsQuantization(t), false};
    if (plan.quantizable) {
      plan.dst_type = default_type;
      if (IsQuantized(default_type)) {
        MLE_ASSIGN_OR_RETURN(plan.dst_type,
                             Fallback(t, MixType(state, t, default_type), &plan.fallback));
      }
    }
    plans.push_back(std::move(plan));
  }
  return plans;
}

std::vector<TensorPlan> PlanUnquantized(const std::vector<TensorDesc>& tensors) {
  std::vector<TensorPlan> plans;
  for (const TensorDesc& d : tensors) plans.push_back({d.name, d.type, d.type, false, false});
  std::sort(plans.begin(), plans.end(), [](const TensorPlan& a, const TensorPlan& b) {
    return LlamaTensorOrderLess(a.name, b.name);
  });
  return plans;
}

}  // namespace mle::kernels
