// Internal state shared by the tokenizer's .cpp files (not a public header): the SPM and BPE
// models, the special-token splitter, and the Tokenizer's pimpl.
#pragma once

#include <array>
#include <string>
#include <string_view>
#include <vector>

#include "text/pretokenize.h"
#include "text/token_map.h"
#include "text/tokenizer.h"
#include "text/vocab.h"

namespace mle::text::internal {

// "<0xXX>": the text of SentencePiece's byte token for `b`.
inline std::string ByteTokenText(uint8_t b) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  return {'<', '0', 'x', kHex[b >> 4], kHex[b & 15], '>'};
}

// A raw-text or special-token piece of the input after special tokens are split out.
struct Fragment {
  bool is_token;
  TokenId id;           // when is_token
  uint32_t begin, end;  // byte range of the input, when !is_token
};

// llama.cpp's tokenizer_st_partition: special tokens are tried longest first; each splits
// every remaining raw fragment at its occurrences, honouring lstrip / rstrip.
class SpecialSplitter {
 public:
  void Build(const std::vector<std::string>& texts, const std::vector<uint32_t>& attrs);
  void Partition(std::string_view text, bool parse_special, std::vector<Fragment>* out) const;

 private:
  struct Node {
    std::vector<std::pair<uint8_t, int32_t>> next;  // byte -> node
    int32_t order = -1;  // index into order_ when a special token ends here
  };
  void Detect(std::string_view text, bool parse_special, std::vector<uint8_t>* present) const;
  void SplitBy(std::string_view text, int32_t k, std::vector<Fragment>* frags) const;

  std::vector<TokenId> order_;           // special ids, longest text first
  std::vector<std::string_view> texts_;  // per order_ entry
  std::vector<uint32_t> attrs_;          // per order_ entry
  std::vector<Node> trie_;
  std::array<bool, 256> first_byte_{};
};

struct SpmSymbol {
  int32_t prev;
  int32_t next;
  uint32_t start;
  uint32_t n;  // bytes; 0 once merged into its left neighbour
};

struct SpmModel {
  TokenMap map;  // token text -> id
  std::vector<float> scores;
  std::array<TokenId, 256> byte_ids;  // <0xXX> (or the 1-byte token) per byte; -1 if none
  // A bit set over hashed (char, next char) pairs that occur inside some token. A clear bit
  // proves no token spans the pair; collisions only cost speed. 2^20 bits = 128 KiB.
  static constexpr int kPairBitsLog2 = 20;
  static constexpr size_t kPairBitsWords = (size_t{1} << kPairBitsLog2) / 64;
  std::vector<uint64_t> pair_bits;

  void BuildPairs(const std::vector<std::string>& tokens);
  bool MayPair(uint32_t a, uint32_t b) const;
  // Encodes one escaped fragment (spaces already replaced by U+2581).
  void Encode(std::string_view text, std::vector<TokenId>* out) const;

 private:
  template <typename Queue>
  int32_t MergeSegment(std::string_view text, int32_t seg, std::vector<SpmSymbol>* sym,
                       Queue* queue) const;
  void EmitSymbol(std::string_view piece, std::vector<TokenId>* out) const;
};

struct BpeModel {
  int32_t n_vocab = 0;
  bool byte_level = true;                // GPT-2 byte alphabet, else raw UTF-8 (gemma4)
  bool ignore_merges = false;            // a word that is a token is emitted whole (llama3)
  bool whole_newline_words = false;      // gemma4: a run of newlines that is a token stays whole
  TokenMap raw;                          // raw bytes -> id; ids >= n_vocab are merge-only strings
  PairMap merges;                        // (left id, right id) -> rank, result id
  std::array<int32_t, 256> byte_sym;     // initial symbol id of each byte; -1 if none
  std::array<TokenId, 256> single_char;  // token whose text is this one byte; -1 if none
  std::array<TokenId, 256> byte_tokens;  // <0xXX> tokens (fallback when !byte_level)
  Status Build(const Vocab& vocab, const VocabConfig& config);
  // Encodes one pre-tokenized word (raw bytes).
  void EncodeWord(std::string_view word, std::vector<TokenId>* out) const;

 private:
  bool EmitWhole(std::string_view word, std::vector<TokenId>* out) const;
  void Fallback(std::string_view bytes, std::vector<TokenId>* out) const;
};

struct TokenizerImpl {
  Vocab vocab;
  VocabConfig config;
  TokenMap text_map;                // token text -> id (FindToken)
  std::vector<std::string> pieces;  // TokenToPiece(id, special=true)
  SpecialSplitter specials;
  SpmModel spm;
  BpeModel bpe;
  PreTokenizer pre{PreType::kDefault};

  void EncodeSpm(std::string_view text, const std::vector<Fragment>& frags,
                 std::vector<TokenId>* out) const;
  void EncodeBpe(std::string_view text, const std::vector<Fragment>& frags,
                 std::vector<TokenId>* out) const;
  void BuildPieces();
};

}  // namespace mle::text::internal
