// The own LLM's tokenizer: SentencePiece BPE with byte fallback, trained on the user's text
// (`ml-engine lm tokenizer`), loaded from its directory (tokenizer.model + tokenizer.json),
// and written into GGUF files so the engine's own tokenizer (src/text, llama.cpp's SPM
// algorithm) produces exactly the ids SentencePiece does.
//
// Ids: <unk>=0, <s>=1 (BOS), </s>=2 (EOS), <pad>=3, then <|im_start|>, <|im_end|>,
// <|fim_prefix|>, <|fim_suffix|>, <|fim_middle|> (4..8), then 256 byte pieces <0x00>..<0xFF>,
// then the learned pieces. The five <|...|> tokens are SentencePiece user-defined symbols, so
// Encode turns their text into their single id wherever it appears in raw text.
//
// No dummy prefix: the text is encoded as written ("Hello world" -> "Hello", "▁world"), both
// by SentencePiece (add_dummy_prefix=false) and by the engine (add_space_prefix=false). With a
// dummy prefix the two disagree around special tokens: llama.cpp adds the prefix after every
// special token, SentencePiece only at the start of the text.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace mle::gguf {
class GgufWriter;
}

namespace mle::lm {

namespace spm {
class Processor;
}

struct TokenizerTrainOptions {
  std::vector<std::string> inputs;  // files and directories (recursively; sorted)
  int vocab_size = 32000;
  std::string out_dir;              // TOK_DIR: must not exist or be empty
  int64_t max_sentences = 2000000;  // training samples, drawn deterministically from the input
  uint32_t seed = 1234;
  int threads = 0;  // for reading the inputs; 0 = all hardware threads
};

struct TokenizerTrainReport {
  int vocab_size;
  int64_t sentences;      // samples SentencePiece trained on (a sample is a run of lines)
  int64_t files_used;     // valid UTF-8 text files read
  int64_t files_skipped;  // binary or invalid UTF-8 files
};

// Trains the tokenizer and writes TOK_DIR atomically (a temp directory beside it, renamed
// into place), so an error leaves no TOK_DIR behind. Deterministic for the same inputs,
// vocab size, max_sentences and seed. Errors (InvalidArgument): no inputs, no usable text,
// a vocab size out of [kMinVocabSize, 1M] or larger or smaller than the corpus supports, an
// output directory that exists and is not empty.
Result<TokenizerTrainReport> TrainTokenizer(const TokenizerTrainOptions& opts);

inline constexpr int kMinVocabSize = 300;  // 9 special + 256 byte pieces + some characters

// A trained tokenizer directory, loaded. Immutable; every method is thread-safe.
class LmTokenizer {
 public:
  ~LmTokenizer();
  LmTokenizer(const LmTokenizer&) = delete;
  LmTokenizer& operator=(const LmTokenizer&) = delete;

  // Reads tokenizer.json and tokenizer.model and checks that the model's SHA-256 is the one
  // tokenizer.json records. Errors: NotFound (no such directory or file, with the command that
  // makes one), Corruption (bad JSON, bad model proto, checksum or vocab size mismatch).
  static Result<std::unique_ptr<LmTokenizer>> Load(const std::string& tok_dir);

  // SentencePiece encoding of `text` (valid UTF-8 expected; SentencePiece reads a malformed
  // byte as U+FFFD), with BOS first when add_bos. Never adds EOS.
  std::vector<int32_t> Encode(std::string_view text, bool add_bos) const;
  // The text of `ids` with every special token (ids 0..8) dropped. Ids outside the
  // vocabulary are dropped too.
  std::string Decode(std::span<const int32_t> ids) const;

  int vocab_size() const { return vocab_size_; }
  int32_t unk_id() const { return 0; }
  int32_t bos_id() const { return 1; }
  int32_t eos_id() const { return 2; }
  int32_t pad_id() const { return 3; }
  int32_t im_start_id() const { return 4; }
  int32_t im_end_id() const { return 5; }
  int32_t fim_prefix_id() const { return 6; }
  int32_t fim_suffix_id() const { return 7; }
  int32_t fim_middle_id() const { return 8; }
  const std::string& chat_template() const { return chat_template_; }
  const std::string& dir() const { return dir_; }  // absolute
  std::string sha256() const { return sha256_; }   // of tokenizer.model, hex

  // Vocabulary access (AddTokenizerToGguf and tests). REQUIRES: 0 <= id < vocab_size().
  const std::string& Piece(int32_t id) const;
  float Score(int32_t id) const;
  // GGUF tokenizer.ggml.token_type of `id` (text::TokenType values).
  int32_t GgufTokenType(int32_t id) const;

 private:
  LmTokenizer() = default;

  std::unique_ptr<spm::Processor> sp_;
  std::vector<std::string> pieces_;  // id -> piece, read once at load
  int vocab_size_ = 0;
  std::string chat_template_;
  std::string dir_;
  std::string sha256_;
};

// The ChatML template tokenizer.json and GGUF files carry.
extern const char* const kChatMlTemplate;

// Adds the tokenizer.ggml.* metadata (model "llama", tokens, scores, token_type, bos/eos/unk/
// padding ids, eot = <|im_end|>, fim ids, add_bos_token true, add_eos_token false,
// add_space_prefix false, remove_extra_whitespaces false) and tokenizer.chat_template to `w`.
Status AddTokenizerToGguf(const LmTokenizer& tok, gguf::GgufWriter& w);

}  // namespace mle::lm
