// Pre-tokenizers: split text into the words that byte-level BPE then encodes one by one.
// Each PreType is a list of regexes applied in turn, each refining the pieces of the one
// before (llama.cpp's unicode_regex_split). We implement every regex as a hand-written
// scanner with the exact semantics llama.cpp gets from its custom splitters or std::regex
// (leftmost match, ordered alternation, backtracking), using Unicode classes from unicode.h.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "text/vocab.h"

namespace mle::text {

// Code points of one text with their flags and byte offsets; scratch reused across calls.
struct CpText {
  std::vector<uint32_t> cps;
  std::vector<uint8_t> flags;                // CpFlags | kValidCp
  std::vector<uint32_t> offsets;             // byte offset of cps[i]; offsets[n] = text size
  static constexpr uint8_t kValidCp = 0x10;  // set for every real code point (never 0)

  void Assign(std::string_view text);
  size_t size() const { return cps.size(); }
  // Flags at i, or 0 outside [begin, end) (how llama.cpp's splitters see chunk edges).
  uint8_t FlagsIn(size_t i, size_t begin, size_t end) const {
    return i >= begin && i < end ? flags[i] : 0;
  }
};

// One stage: appends to `ends` the end index (exclusive, in code points) of each piece of
// the chunk [begin, end), in order; the last appended end is `end`.
using SplitStage = void (*)(const CpText& t, size_t begin, size_t end, std::vector<uint32_t>* ends);

class PreTokenizer {
 public:
  explicit PreTokenizer(PreType type);

  // Appends the byte offset where each word of `text` ends. REQUIRES: `text` is what
  // NormalizeUtf8 leaves unchanged. `scratch` holds working memory between calls.
  void Split(std::string_view text, CpText* scratch, std::vector<uint32_t>* word_ends) const;

  PreType type() const { return type_; }

 private:
  PreType type_;
  std::vector<SplitStage> stages_;
};

namespace pretok {
// The stages, exposed for tests. Names follow the regex each implements.
void Gpt2(const CpText& t, size_t begin, size_t end, std::vector<uint32_t>* ends);
void Llama3(const CpText& t, size_t begin, size_t end, std::vector<uint32_t>* ends);
void Qwen2(const CpText& t, size_t begin, size_t end, std::vector<uint32_t>* ends);
void EachNumber(const CpText& t, size_t begin, size_t end, std::vector<uint32_t>* ends);
void NumberRuns(const CpText& t, size_t begin, size_t end, std::vector<uint32_t>* ends);
void AsciiDigitTriples(const CpText& t, size_t begin, size_t end, std::vector<uint32_t>* ends);
void PunctRunsDefault(const CpText& t, size_t begin, size_t end, std::vector<uint32_t>* ends);
void PunctRunsFalcon(const CpText& t, size_t begin, size_t end, std::vector<uint32_t>* ends);
void EachNewline(const CpText& t, size_t begin, size_t end, std::vector<uint32_t>* ends);
void DeepseekLlmLetters(const CpText& t, size_t begin, size_t end, std::vector<uint32_t>* ends);
void DeepseekLlmPunct(const CpText& t, size_t begin, size_t end, std::vector<uint32_t>* ends);
void TrailingSpace(const CpText& t, size_t begin, size_t end, std::vector<uint32_t>* ends);
void CjkRuns(const CpText& t, size_t begin, size_t end, std::vector<uint32_t>* ends);
void SpaceLetters(const CpText& t, size_t begin, size_t end, std::vector<uint32_t>* ends);
void SpacePunct(const CpText& t, size_t begin, size_t end, std::vector<uint32_t>* ends);
void NewlineRuns(const CpText& t, size_t begin, size_t end, std::vector<uint32_t>* ends);
}  // namespace pretok

}  // namespace mle::text
