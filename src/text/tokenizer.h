// Tokenizer: text <-> token ids exactly as llama.cpp's llama_tokenize / llama_token_to_piece /
// llama_detokenize do, for SentencePiece ("llama") and byte-level BPE ("gpt2") vocabularies.
// Built once from a Vocab (see vocab.h); afterwards every method is const and thread-safe.
//
//   auto tok = Tokenizer::FromGguf("model.gguf");             // Result<unique_ptr<Tokenizer>>
//   std::vector<TokenId> ids = (*tok)->Tokenize("Hello", /*add_special=*/true,
//                                               /*parse_special=*/false);
//   std::string text = (*tok)->Detokenize(ids, /*remove_special=*/true, /*unparse_special=*/false);
#pragma once

#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "text/vocab.h"

namespace mle::text {

namespace internal {
struct TokenizerImpl;
}

class Tokenizer {
 public:
  ~Tokenizer();
  Tokenizer(const Tokenizer&) = delete;
  Tokenizer& operator=(const Tokenizer&) = delete;

  // Errors: those of ResolveVocabConfig (unknown model or pre-tokenizer, bad arrays).
  static Result<std::unique_ptr<Tokenizer>> Create(Vocab vocab);
  // LoadVocabFromGgufPath + Create.
  static Result<std::unique_ptr<Tokenizer>> FromGguf(const std::string& path);

  // Encodes `text` (any bytes; malformed UTF-8 is handled as llama.cpp does).
  // REQUIRES: text.size() < 4 GiB (callers bound request sizes far below that).
  // add_special: prepend BOS / append EOS where the vocabulary asks for them (add_bos/add_eos).
  // parse_special: text equal to a control token's text becomes that token; without it only
  // user-defined tokens are split out (llama.cpp's rule). Longest special tokens match first.
  std::vector<TokenId> Tokenize(std::string_view text, bool add_special, bool parse_special) const;
  // Appends to *out instead of returning a new vector.
  void TokenizeAppend(std::string_view text, bool add_special, bool parse_special,
                      std::vector<TokenId>* out) const;

  // The bytes token `id` stands for: SPM "▁" -> ' ', "<0xXX>" -> that byte; BPE byte-level
  // chars -> bytes. Control and unknown tokens render as their text when `special`, else as
  // "". Ids outside the vocabulary render as "". The bytes need not be valid UTF-8 alone.
  std::string_view TokenToPiece(TokenId id, bool special) const;

  // Concatenates the pieces as llama_detokenize does: drops the leading space the SPM
  // tokenizer added, optionally the BOS/EOS it added (remove_special), and applies the
  // vocabulary's clean-up of spaces before punctuation (BPE vocabularies such as GPT-2).
  std::string Detokenize(std::span<const TokenId> ids, bool remove_special,
                         bool unparse_special) const;

  // Vocabulary facts.
  const VocabConfig& config() const;
  VocabType type() const { return config().type; }
  PreType pre_type() const { return config().pre_type; }
  int32_t n_tokens() const;
  const std::string& TokenText(TokenId id) const;  // REQUIRES: 0 <= id < n_tokens()
  float TokenScore(TokenId id) const;              // REQUIRES: 0 <= id < n_tokens()
  uint32_t TokenAttrs(TokenId id) const;           // TokenAttr bits; 0 outside the vocabulary
  TokenId FindToken(std::string_view text) const;  // exact token text -> id, or kNoToken
  bool IsEog(TokenId id) const;                    // end of generation (EOS, EOT, <|im_end|>...)
  bool IsControl(TokenId id) const { return (TokenAttrs(id) & kAttrControl) != 0; }
  TokenId bos() const { return config().bos; }
  TokenId eos() const { return config().eos; }
  TokenId eot() const { return config().eot; }
  TokenId pad() const { return config().pad; }
  bool add_bos() const { return config().add_bos; }
  bool add_eos() const { return config().add_eos; }

 private:
  explicit Tokenizer(std::unique_ptr<internal::TokenizerImpl> impl);
  std::unique_ptr<internal::TokenizerImpl> impl_;
};

// Streaming detokenization: Push() returns the text that is complete so far and holds back
// a trailing partial UTF-8 character (a multi-byte character split across byte tokens)
// until the tokens completing it arrive. Not thread-safe; one per stream.
class StreamDetokenizer {
 public:
  // `special`: render control tokens as their text. `strip_leading_space`: drop one space at
  // the start of the stream, as Detokenize does for SPM vocabularies (add_space_prefix).
  StreamDetokenizer(const Tokenizer& tokenizer, bool special, bool strip_leading_space);
  // Returns the newly completed text (possibly empty).
  std::string Push(TokenId id);
  // Returns whatever is held back (an incomplete character at the end of the stream).
  std::string Flush();

 private:
  const Tokenizer& tokenizer_;
  bool special_;
  bool strip_space_;
  std::string pending_;
};

}  // namespace mle::text
