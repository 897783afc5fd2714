// Vocab: a tokenizer's vocabulary as GGUF stores it (tokens, scores, types, merges, special
// ids, flags), and VocabConfig: what llama.cpp derives from it (per-model defaults for absent
// keys, per-token attributes, the end-of-generation set). Tokenizer (tokenizer.h) is built
// from a Vocab; LoadVocabFromGguf reads one from a GGUF file's tokenizer.ggml.* metadata.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/status.h"

namespace mle::gguf {
class GgufFile;
}

namespace mle::text {

using TokenId = int32_t;
inline constexpr TokenId kNoToken = -1;

// GGUF tokenizer.ggml.token_type values (llama.cpp's llama_token_type).
enum class TokenType : int32_t {
  kUndefined = 0,
  kNormal = 1,
  kUnknown = 2,
  kControl = 3,
  kUserDefined = 4,
  kUnused = 5,
  kByte = 6,
};

// Per-token attribute bits (llama.cpp's llama_token_attr); a token may carry several.
enum TokenAttr : uint32_t {
  kAttrUndefined = 0,
  kAttrUnknown = 1u << 0,
  kAttrUnused = 1u << 1,
  kAttrNormal = 1u << 2,
  kAttrControl = 1u << 3,
  kAttrUserDefined = 1u << 4,
  kAttrByte = 1u << 5,
  kAttrLstrip = 1u << 7,  // strip white space before the token when splitting specials
  kAttrRstrip = 1u << 8,  // strip white space after it
};

// The raw vocabulary. Optional fields are "absent from the metadata": the tokenizer then
// applies llama.cpp's default for the model type (e.g. SPM: bos 1, eos 2, unk 0, add_bos).
struct Vocab {
  // tokenizer.ggml.model: "llama" (SentencePiece), "gpt2" (byte-level BPE) or "gemma4" (BPE
  // over raw UTF-8 with SentencePiece's ▁ for spaces and <0xXX> byte tokens).
  std::string model;
  std::string pre;           // tokenizer.ggml.pre: pre-tokenizer name; "" means "default"
  std::string name;          // general.name; llama.cpp sets a few attributes by model name (phi-3)
  std::string architecture;  // general.architecture

  std::vector<std::string> tokens;  // id -> text
  std::vector<float> scores;        // SPM merge priorities; empty = all 0
  std::vector<int32_t> types;       // TokenType values; empty = all kNormal
  std::vector<std::string> merges;  // BPE merges "left right", rank = index

  std::optional<int64_t> bos_id, eos_id, eot_id, eom_id, unk_id, sep_id, pad_id, mask_id;
  std::optional<int64_t> fim_pre_id, fim_suf_id, fim_mid_id, fim_pad_id, fim_rep_id, fim_sep_id;
  std::optional<bool> add_bos, add_eos, add_space_prefix, remove_extra_whitespaces;
};

enum class VocabType { kSpm, kBpe };

// Pre-tokenizer families (which regex list splits text before BPE), by tokenizer.ggml.pre.
enum class PreType {
  kDefault,        // "default" / absent
  kGpt2,           // gpt-2, phi-2, mpt, olmo, jais, ...
  kLlama3,         // llama-bpe, llama3, dbrx, smaug-bpe, chatglm-bpe, ...
  kQwen2,          // qwen2, stablelm2, deepseek-r1-qwen, megrez, hunyuan
  kStarcoder,      // starcoder, refact, command-r, smollm, codeshell, exaone, minerva-7b
  kFalcon,         // falcon
  kDeepseekLlm,    // deepseek-llm
  kDeepseekCoder,  // deepseek-coder
  kGemma4,         // model "gemma4": split only between newline and other runs
};

// Everything the tokenizer needs, resolved. Ids are kNoToken when the vocab has none.
struct VocabConfig {
  VocabType type = VocabType::kSpm;
  PreType pre_type = PreType::kDefault;
  TokenId bos = kNoToken, eos = kNoToken, eot = kNoToken, eom = kNoToken, unk = kNoToken;
  TokenId sep = kNoToken, pad = kNoToken, mask = kNoToken, linefeed = kNoToken;
  TokenId fim_pre = kNoToken, fim_suf = kNoToken, fim_mid = kNoToken;
  TokenId fim_pad = kNoToken, fim_rep = kNoToken, fim_sep = kNoToken;
  bool add_bos = false;
  bool add_eos = false;
  bool add_space_prefix = false;    // SPM: prefix the text (and text after a special) with ' '
  bool ignore_merges = false;       // BPE: a word that is a whole token skips merging (llama3)
  bool clean_spaces = false;        // detokenize: " ," -> "," etc. (clean_up_tokenization_spaces)
  bool byte_level = true;           // BPE: GPT-2 byte alphabet; false: raw UTF-8 + <0xXX> tokens
  bool escape_whitespaces = false;  // BPE: ' ' -> U+2581 before encoding (gemma4)
  std::vector<uint32_t> attrs;      // id -> TokenAttr bits
  std::vector<TokenId> eog_ids;     // end-of-generation ids, ascending
};

// Resolves `vocab` the way llama.cpp's llama_vocab::load does. Errors (InvalidArgument) for
// an unknown model or pre-tokenizer, array lengths that disagree, a duplicate token text, or
// add_bos/add_eos set without the id to add.
Result<VocabConfig> ResolveVocabConfig(const Vocab& vocab);

// Reads tokenizer.ggml.* (and general.name / general.architecture) from a GGUF file.
// Errors name the missing or mistyped key.
Result<Vocab> LoadVocabFromGguf(const gguf::GgufFile& file);
// Opens `path` and loads its vocabulary.
Result<Vocab> LoadVocabFromGgufPath(const std::string& path);

}  // namespace mle::text
