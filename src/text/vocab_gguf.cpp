// LoadVocabFromGguf: the tokenizer.ggml.* metadata keys (names as llama.cpp's llama-arch.cpp
// spells them, including its "seperator" typo) read into a Vocab.
#include <initializer_list>
#include <string_view>

#include "gguf/gguf_file.h"
#include "text/vocab.h"

namespace mle::text {
namespace {

// Reads an optional integer key into `out`; absent keys leave it empty.
Status ReadOptionalId(const gguf::GgufFile& f, std::string_view key, std::optional<int64_t>* out) {
  if (f.Find(key) == nullptr) return Status::Ok();
  MLE_ASSIGN_OR_RETURN(int64_t v, f.GetInt(key));
  *out = v;
  return Status::Ok();
}

Status ReadOptionalBool(const gguf::GgufFile& f, std::string_view key, std::optional<bool>* out) {
  if (f.Find(key) == nullptr) return Status::Ok();
  MLE_ASSIGN_OR_RETURN(bool v, f.GetBool(key));
  *out = v;
  return Status::Ok();
}

Status ReadIds(const gguf::GgufFile& f, Vocab* v) {
  struct Key {
    std::string_view key;
    std::optional<int64_t>* out;
  };
  // Later entries win: the deprecated FIM keys override the new ones, as in llama.cpp.
  const Key keys[] = {
      {"tokenizer.ggml.bos_token_id", &v->bos_id},
      {"tokenizer.ggml.eos_token_id", &v->eos_id},
      {"tokenizer.ggml.eot_token_id", &v->eot_id},
      {"tokenizer.ggml.eom_token_id", &v->eom_id},
      {"tokenizer.ggml.unknown_token_id", &v->unk_id},
      {"tokenizer.ggml.separator_token_id", &v->sep_id},
      {"tokenizer.ggml.seperator_token_id", &v->sep_id},
      {"tokenizer.ggml.padding_token_id", &v->pad_id},
      {"tokenizer.ggml.mask_token_id", &v->mask_id},
      {"tokenizer.ggml.fim_pre_token_id", &v->fim_pre_id},
      {"tokenizer.ggml.fim_suf_token_id", &v->fim_suf_id},
      {"tokenizer.ggml.fim_mid_token_id", &v->fim_mid_id},
      {"tokenizer.ggml.fim_pad_token_id", &v->fim_pad_id},
      {"tokenizer.ggml.fim_rep_token_id", &v->fim_rep_id},
      {"tokenizer.ggml.fim_sep_token_id", &v->fim_sep_id},
      {"tokenizer.ggml.prefix_token_id", &v->fim_pre_id},
      {"tokenizer.ggml.suffix_token_id", &v->fim_suf_id},
      {"tokenizer.ggml.middle_token_id", &v->fim_mid_id},
  };
  for (const Key& k : keys) MLE_RETURN_IF_ERROR(ReadOptionalId(f, k.key, k.out));
  MLE_RETURN_IF_ERROR(ReadOptionalBool(f, "tokenizer.ggml.add_bos_token", &v->add_bos));
  MLE_RETURN_IF_ERROR(ReadOptionalBool(f, "tokenizer.ggml.add_eos_token", &v->add_eos));
  MLE_RETURN_IF_ERROR(ReadOptionalBool(f, "tokenizer.ggml.add_space_prefix", &v->add_space_prefix));
  return ReadOptionalBool(f, "tokenizer.ggml.remove_extra_whitespaces",
                          &v->remove_extra_whitespaces);
}

// Scores are float32 in practice; llama.cpp also accepts int32 arrays.
Status ReadScores(const gguf::GgufFile& f, Vocab* v) {
  constexpr std::string_view kKey = "tokenizer.ggml.scores";
  if (f.Find(kKey) == nullptr) return Status::Ok();
  auto floats = f.GetFloatArray(kKey);
  if (floats.ok()) {
    v->scores = std::move(floats).value();
    return Status::Ok();
  }
  auto ints = f.GetIntArray(kKey);
  if (!ints.ok()) return floats.status();
  v->scores.assign(ints->begin(), ints->end());
  return Status::Ok();
}

}  // namespace

Result<Vocab> LoadVocabFromGguf(const gguf::GgufFile& f) {
  Vocab v;
  MLE_ASSIGN_OR_RETURN(v.model, f.GetString("tokenizer.ggml.model"));
  MLE_ASSIGN_OR_RETURN(v.pre, f.GetStringOr("tokenizer.ggml.pre", ""));
  MLE_ASSIGN_OR_RETURN(v.name, f.GetStringOr("general.name", ""));
  MLE_ASSIGN_OR_RETURN(v.architecture, f.GetStringOr("general.architecture", ""));
  MLE_ASSIGN_OR_RETURN(v.tokens, f.GetStringArray("tokenizer.ggml.tokens"));
  MLE_RETURN_IF_ERROR(ReadScores(f, &v));
  if (f.Find("tokenizer.ggml.token_type") != nullptr) {
    MLE_ASSIGN_OR_RETURN(v.types, f.GetIntArray("tokenizer.ggml.token_type"));
  }
  if (f.Find("tokenizer.ggml.merges") != nullptr) {
    MLE_ASSIGN_OR_RETURN(v.merges, f.GetStringArray("tokenizer.ggml.merges"));
  }
  MLE_RETURN_IF_ERROR(ReadIds(f, &v));
  return v;
}

Result<Vocab> LoadVocabFromGgufPath(const std::string& path) {
  MLE_ASSIGN_OR_RETURN(std::unique_ptr<gguf::GgufFile> file, gguf::GgufFile::Open(path));
  auto vocab = LoadVocabFromGguf(*file);
  if (!vocab.ok()) return vocab.status().WithContext(path);
  return vocab;
}

}  // namespace mle::text
