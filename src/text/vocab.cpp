// ResolveVocabConfig: llama.cpp's vocabulary rules (src/llama-vocab.cpp, llama_vocab::impl::load)
// restated: model defaults, pre-tokenizer flags, special ids, token attributes detected from
// token texts, and the end-of-generation set.
#include <algorithm>
#include <cctype>
#include <initializer_list>
#include <string_view>
#include <unordered_map>
#include <unordered_set>

#include "text/vocab.h"

namespace mle::text {
namespace {

struct PreInfo {
  std::initializer_list<std::string_view> names;
  PreType type;
  bool clean_spaces;
  bool ignore_merges_and_add_bos;  // llama3-style vocabularies
};

// tokenizer.ggml.pre names whose regex list this tokenizer implements, with llama.cpp's flags.
const PreInfo kPreTable[] = {
    {{"default"}, PreType::kDefault, true, false},
    {{"llama3", "llama-v3", "llama-bpe", "falcon3", "falcon-h1", "pixtral", "midm-2.0", "lfm2"},
     PreType::kLlama3,
     true,
     true},
    {{"dbrx", "smaug-bpe"}, PreType::kLlama3, true, false},
    {{"chatglm-bpe", "glm4"}, PreType::kLlama3, true, false},
    {{"deepseek-llm"}, PreType::kDeepseekLlm, false, false},
    {{"deepseek-coder"}, PreType::kDeepseekCoder, false, false},
    {{"falcon"}, PreType::kFalcon, true, false},
    {{"mpt", "gpt-2", "phi-2", "jina-es", "jina-de", "gigachat", "jina-v2-es", "jina-v2-de",
      "a.x-4.0", "mellum", "olmo", "jais", "exaone4"},
     PreType::kGpt2,
     true,
     false},
    {{"trillion", "granite-docling"}, PreType::kGpt2, false, false},
    {{"starcoder", "refact", "codeshell", "exaone", "minerva-7b"},
     PreType::kStarcoder,
     true,
     false},
    {{"command-r", "smollm"}, PreType::kStarcoder, false, false},
    {{"qwen2", "deepseek-r1-qwen", "hunyuan"}, PreType::kQwen2, false, false},
    {{"stablelm2", "megrez"}, PreType::kQwen2, true, false},
};

const PreInfo* FindPre(std::string_view name) {
  for (const PreInfo& p : kPreTable) {
    for (std::string_view n : p.names) {
      if (n == name) return &p;
    }
  }
  return nullptr;
}

uint32_t AttrOfType(int32_t type) {
  switch (static_cast<TokenType>(type)) {
    case TokenType::kUnknown:
      return kAttrUnknown;
    case TokenType::kUnused:
      return kAttrUnused;
    case TokenType::kNormal:
      return kAttrNormal;
    case TokenType::kControl:
      return kAttrControl;
    case TokenType::kUserDefined:
      return kAttrUserDefined;
    case TokenType::kByte:
      return kAttrByte;
    default:
      return kAttrUndefined;
  }
}

// Texts llama.cpp recognizes as end-of-turn, end-of-message and fill-in-the-middle tokens when
// the metadata does not name them.
const std::unordered_set<std::string_view> kEotTexts = {
    "<|eot_id|>",        "<|im_end|>", "<|end|>", "<end_of_turn>", "<|endoftext|>",
    "<|end_of_text|>",   "<EOT>",      "_<EOT>",  "[EOT]",         "<｜end▁of▁sentence｜>",
    "<end_of_utterance>"};
const std::unordered_set<std::string_view> kFimPreTexts = {
    "<|fim_prefix|>", "<fim-prefix>", "<fim_prefix>",    "<｜fim▁begin｜>",
    "<PRE>",          "▁<PRE>",       "<|code_prefix|>", "<|prefix|>"};
const std::unordered_set<std::string_view> kFimSufTexts = {
    "<|fim_suffix|>", "<fim-suffix>", "<fim_suffix>",    "<｜fim▁hole｜>",
    "<SUF>",          "▁<SUF>",       "<|code_suffix|>", "<|suffix|>"};
const std::unordered_set<std::string_view> kFimMidTexts = {
    "<|fim_middle|>", "<fim-middle>", "<fim_middle>",    "<｜fim▁end｜>",
    "<MID>",          "▁<MID>",       "<|code_middle|>", "<|middle|>"};
const std::unordered_set<std::string_view> kFimPadTexts = {"<|fim_pad|>", "<fim-pad>", "<fim_pad>",
                                                           "<PAD>", "[PAD]"};
const std::unordered_set<std::string_view> kFimRepTexts = {"<|fim_repo|>", "<|repo_name|>",
                                                           "<fim-repo>", "<REPO>", "<reponame>"};
const std::unordered_set<std::string_view> kFimSepTexts = {"<|file_sep|>"};
// Tokens that end generation whatever the metadata says.
const std::unordered_set<std::string_view> kEogTexts = {"<|eot_id|>",
                                                        "<|im_end|>",
                                                        "<|end|>",
                                                        "<|return|>",
                                                        "<|call|>",
                                                        "<|flush|>",
                                                        "<|calls|>",
                                                        "<end_of_turn>",
                                                        "<|endoftext|>",
                                                        "</s>",
                                                        "<|eom_id|>",
                                                        "<EOT>",
                                                        "_<EOT>",
                                                        "[EOT]",
                                                        "[EOS]",
                                                        "<|end_of_text|>",
                                                        "<end_of_utterance>",
                                                        "<eos>",
                                                        "<turn|>",
                                                        "<|tool_response>",
                                                        "<｜end▁of▁sentence｜>",
                                                        "[e~["};

Status ResolveModel(const Vocab& v, VocabConfig* c) {
  if (v.model == "llama") {
    c->type = VocabType::kSpm;
    c->bos = 1, c->eos = 2, c->unk = 0;
    c->add_space_prefix = true;
    c->add_bos = true;
    return Status::Ok();
  }
  if (v.model == "gemma4") {
    // SentencePiece-style BPE: no default ids, whatever tokenizer.ggml.pre says.
    c->type = VocabType::kBpe;
    c->pre_type = PreType::kGemma4;
    c->clean_spaces = true;
    c->byte_level = false;
    c->escape_whitespaces = true;
    return Status::Ok();
  }
  if (v.model != "gpt2") {
    return InvalidArgument("unsupported tokenizer.ggml.model '" + v.model +
                           "' (supported: llama, gpt2, gemma4)");
  }
  c->type = VocabType::kBpe;
  c->bos = 11, c->eos = 11;  // llama.cpp's defaults for BPE vocabularies without ids
  c->clean_spaces = true;
  const PreInfo* pre = FindPre(v.pre.empty() ? "default" : v.pre);
  if (pre == nullptr) {
    return Unimplemented("unsupported tokenizer.ggml.pre '" + v.pre +
                         "' (supported: default, gpt-2, llama-bpe, qwen2, starcoder, falcon, "
                         "deepseek-llm, deepseek-coder, refact, command-r, mpt, phi-2, ...)");
  }
  c->pre_type = pre->type;
  c->clean_spaces = pre->clean_spaces;
  c->ignore_merges = pre->ignore_merges_and_add_bos;
  c->add_bos = pre->ignore_merges_and_add_bos;
  if (v.pre == "chatglm-bpe" || v.pre == "glm4") c->bos = kNoToken;
  return Status::Ok();
}

// A special id from metadata replaces the default when it is a valid id (llama.cpp warns and
// keeps the default otherwise); a default outside the vocabulary is dropped.
void ResolveId(const std::optional<int64_t>& given, size_t n_tokens, TokenId* id) {
  if (*id != kNoToken && static_cast<size_t>(*id) >= n_tokens) *id = kNoToken;
  if (given && *given >= 0 && static_cast<uint64_t>(*given) < n_tokens) {
    *id = static_cast<TokenId>(*given);
  }
}

void ResolveSpecialIds(const Vocab& v, VocabConfig* c) {
  const size_t n = v.tokens.size();
  ResolveId(v.bos_id, n, &c->bos);
  ResolveId(v.eos_id, n, &c->eos);
  ResolveId(v.eot_id, n, &c->eot);
  ResolveId(v.eom_id, n, &c->eom);
  ResolveId(v.unk_id, n, &c->unk);
  ResolveId(v.sep_id, n, &c->sep);
  ResolveId(v.pad_id, n, &c->pad);
  ResolveId(v.mask_id, n, &c->mask);
  ResolveId(v.fim_pre_id, n, &c->fim_pre);
  ResolveId(v.fim_suf_id, n, &c->fim_suf);
  ResolveId(v.fim_mid_id, n, &c->fim_mid);
  ResolveId(v.fim_pad_id, n, &c->fim_pad);
  ResolveId(v.fim_rep_id, n, &c->fim_rep);
  ResolveId(v.fim_sep_id, n, &c->fim_sep);
}

// Fills ids the metadata left empty from token texts, marking such tokens as control tokens.
// llama.cpp walks a hash map here, so among several candidates its pick depends on hash
// order; we take the highest id, which matches it on the vocabularies we test (Qwen2: <|im_end|>).
void DetectSpecialIds(const Vocab& v, VocabConfig* c) {
  struct Rule {
    const std::unordered_set<std::string_view>* texts;  // nullptr: <|eom_id|> only
    TokenId* id;
  };
  const Rule rules[] = {{&kEotTexts, &c->eot},        {nullptr, &c->eom},
                        {&kFimPreTexts, &c->fim_pre}, {&kFimSufTexts, &c->fim_suf},
                        {&kFimMidTexts, &c->fim_mid}, {&kFimPadTexts, &c->fim_pad},
                        {&kFimRepTexts, &c->fim_rep}, {&kFimSepTexts, &c->fim_sep}};
  for (size_t i = v.tokens.size(); i-- > 0;) {
    std::string_view text = v.tokens[i];
    for (const Rule& r : rules) {
      if (*r.id != kNoToken) continue;
      bool hit = r.texts ? r.texts->count(text) > 0 : text == "<|eom_id|>";
      if (!hit) continue;
      *r.id = static_cast<TokenId>(i);
      c->attrs[i] |= kAttrControl;
    }
  }
}

void MarkUnusedAndHacks(const Vocab& v, VocabConfig* c) {
  for (size_t i = 0; i < v.tokens.size(); ++i) {
    uint32_t& attr = c->attrs[i];
    const std::string& text = v.tokens[i];
    if ((attr & kAttrControl) && text.find("unused") != std::string::npos) attr |= kAttrUnused;
    // llama.cpp always renders these gpt-oss tokens.
    if (text == "<|channel|>" || text == "<|message|>" || text == "<|start|>" ||
        text == "<|constrain|>") {
      attr = kAttrUserDefined;
    }
  }
}

void BuildEogSet(const Vocab& v, VocabConfig* c) {
  std::vector<TokenId> eog;
  for (TokenId id : {c->fim_pad, c->fim_rep, c->fim_sep}) {
    if (id != kNoToken) eog.push_back(id);
  }
  for (size_t i = 0; i < v.tokens.size(); ++i) {
    if (kEogTexts.count(v.tokens[i])) {
      eog.push_back(static_cast<TokenId>(i));
      c->attrs[i] |= kAttrControl;
    }
  }
  for (TokenId id : {c->eos, c->eot, c->eom}) {
    if (id != kNoToken) eog.push_back(id);
  }
  std::sort(eog.begin(), eog.end());
  eog.erase(std::unique(eog.begin(), eog.end()), eog.end());
  c->eog_ids = std::move(eog);
}

// llama.cpp's exceptions to its EOG list for vocabularies where a listed text means
// something else.
void ApplyEogWorkarounds(const Vocab& v, VocabConfig* c) {
  std::vector<TokenId>& eog = c->eog_ids;
  auto find_text = [&](std::string_view t) {
    for (TokenId id : eog) {
      if (v.tokens[id] == t) return id;
    }
    return kNoToken;
  };
  // gpt-oss / solar-open: <|end|> ends a message, not the generation.
  TokenId end = find_text("<|end|>");
  bool has_call = find_text("<|call|>") != kNoToken || find_text("<|calls|>") != kNoToken;
  if (end != kNoToken && has_call &&
      (find_text("<|return|>") != kNoToken || find_text("<|flush|>") != kNoToken)) {
    std::erase(eog, end);
    c->attrs[end] = kAttrUserDefined;
  }
  // gemma4 / paddleocr: </s> is an ordinary token there.
  TokenId s = find_text("</s>");
  if (s != kNoToken && find_text("<|tool_response>") != kNoToken) {
    std::erase(eog, s);
    c->attrs[s] = kAttrNormal;
  }
}

void SetPerModelAttrs(const Vocab& v, VocabConfig* c) {
  std::string name = v.name;
  for (char& ch : name) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  auto set = [&](std::string_view text, uint32_t bit, bool on) {
    for (size_t i = 0; i < v.tokens.size(); ++i) {
      if (v.tokens[i] != text) continue;
      c->attrs[i] = on ? (c->attrs[i] | bit) : (c->attrs[i] & ~bit);
      return;
    }
  };
  auto has = [](const std::string& s, std::string_view sub) {
    return s.find(sub) != std::string::npos;
  };
  if (has(v.pre, "jina-v2-de") || has(v.pre, "jina-v2-es") || has(v.pre, "jina-v2-code") ||
      has(v.architecture, "nomic-bert-moe") || has(v.architecture, "jina-bert-v3")) {
    set("<mask>", kAttrLstrip, true);
  } else if (has(name, "phi-3") || has(name, "phi3")) {
    const uint32_t special = kAttrControl | kAttrUserDefined | kAttrUnknown;
    for (uint32_t& a : c->attrs) {
      if (a & special) a |= kAttrRstrip;
    }
    set("</s>", kAttrRstrip, true);
    for (std::string_view t : {"<unk>", "<s>", "<|endoftext|>"}) set(t, kAttrRstrip, false);
  } else if (has(name, "modern-bert")) {
    set("[MASK]", kAttrLstrip, true);
  }
}

Status CheckArrays(const Vocab& v) {
  const size_t n = v.tokens.size();
  if (n == 0) return InvalidArgument("vocabulary has no tokens (tokenizer.ggml.tokens)");
  if (!v.scores.empty() && v.scores.size() < n) {
    return InvalidArgument("tokenizer.ggml.scores has " + std::to_string(v.scores.size()) +
                           " entries for " + std::to_string(n) + " tokens");
  }
  if (!v.types.empty() && v.types.size() < n) {
    return InvalidArgument("tokenizer.ggml.token_type has " + std::to_string(v.types.size()) +
                           " entries for " + std::to_string(n) + " tokens");
  }
  return Status::Ok();
}

// Attributes from token types; fails on a duplicate text (llama.cpp refuses those too).
Status InitAttrs(const Vocab& v, VocabConfig* c) {
  const size_t n = v.tokens.size();
  std::unordered_map<std::string_view, size_t> seen;
  seen.reserve(n);
  c->attrs.resize(n);
  for (size_t i = 0; i < n; ++i) {
    auto [it, inserted] = seen.emplace(v.tokens[i], i);
    if (!inserted) {
      return InvalidArgument("duplicate token in vocabulary: '" + v.tokens[i] + "' has ids " +
                             std::to_string(it->second) + " and " + std::to_string(i));
    }
    c->attrs[i] = v.types.empty() ? uint32_t(kAttrNormal) : AttrOfType(v.types[i]);
  }
  return Status::Ok();
}

}  // namespace

Result<VocabConfig> ResolveVocabConfig(const Vocab& v) {
  MLE_RETURN_IF_ERROR(CheckArrays(v));
  VocabConfig c;
  MLE_RETURN_IF_ERROR(ResolveModel(v, &c));
  if (c.type == VocabType::kBpe && v.merges.empty()) {
    return InvalidArgument("BPE vocabulary has no tokenizer.ggml.merges");
  }
  if (v.add_space_prefix) c.add_space_prefix = *v.add_space_prefix;
  MLE_RETURN_IF_ERROR(InitAttrs(v, &c));
  ResolveSpecialIds(v, &c);
  if (v.add_bos) c.add_bos = *v.add_bos;
  if (v.add_eos) c.add_eos = *v.add_eos;
  if (c.pre_type == PreType::kGemma4) c.add_bos = true;  // llama.cpp overrides it for Gemma 4
  if (c.add_bos && c.bos == kNoToken) {
    return InvalidArgument("tokenizer.ggml.add_bos_token is true, but bos_token_id is not set");
  }
  if (c.add_eos && c.eos == kNoToken) {
    return InvalidArgument("tokenizer.ggml.add_eos_token is true, but eos_token_id is not set");
  }
  DetectSpecialIds(v, &c);
  MarkUnusedAndHacks(v, &c);
  BuildEogSet(v, &c);
  ApplyEogWorkarounds(v, &c);
  SetPerModelAttrs(v, &c);
  return c;
}

}  // namespace mle::text
