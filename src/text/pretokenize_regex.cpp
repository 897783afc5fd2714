// The simple regex stages of the pre-tokenizer lists (digits, punctuation runs, DeepSeek's
// character classes). llama.cpp runs these through std::regex, so each piece is the leftmost
// match and the text between matches becomes a piece of its own; SplitMatches does that.
#include <algorithm>
#include <iterator>

#include "text/pretokenize.h"
#include "text/unicode.h"

namespace mle::text::pretok {
namespace {

struct Range {
  uint32_t lo, hi;
};

bool InRanges(uint32_t cp, const Range* r, size_t n) {
  const Range* end = r + n;
  const Range* it =
      std::upper_bound(r, end, cp, [](uint32_t c, const Range& x) { return c < x.lo; });
  return it != r && cp <= (it - 1)->hi;
}

// deepseek-llm's letter class (its tokenizer.json spells it out: the cased letters).
constexpr Range kDeepseekLetters[] = {
    {0x41, 0x5A},       {0x61, 0x7A},       {0xB5, 0xB5},       {0xC0, 0xD6},
    {0xD8, 0xF6},       {0xF8, 0x1BA},      {0x1BC, 0x1BF},     {0x1C4, 0x293},
    {0x295, 0x2AF},     {0x370, 0x373},     {0x376, 0x377},     {0x37B, 0x37D},
    {0x37F, 0x37F},     {0x386, 0x386},     {0x388, 0x38A},     {0x38C, 0x38C},
    {0x38E, 0x3A1},     {0x3A3, 0x3F5},     {0x3F7, 0x481},     {0x48A, 0x52F},
    {0x531, 0x556},     {0x10A0, 0x10C5},   {0x13A0, 0x13F5},   {0x13F8, 0x13FD},
    {0x1C90, 0x1CBA},   {0x1CBD, 0x1CBF},   {0x1D00, 0x1D2B},   {0x1D6B, 0x1D77},
    {0x1D79, 0x1D9A},   {0x1E00, 0x1F15},   {0x1F18, 0x1F1D},   {0x1F20, 0x1F45},
    {0x1F48, 0x1F4D},   {0x1F50, 0x1F57},   {0x1F59, 0x1F59},   {0x1F5B, 0x1F5B},
    {0x1F5D, 0x1F5D},   {0x1F5F, 0x1F7D},   {0x1F80, 0x1FB4},   {0x1FB6, 0x1FBC},
    {0x1FBE, 0x1FBE},   {0x1FC2, 0x1FC4},   {0x1FC6, 0x1FCC},   {0x1FD0, 0x1FD3},
    {0x1FD6, 0x1FDB},   {0x1FE0, 0x1FEC},   {0x1FF2, 0x1FF4},   {0x1FF6, 0x1FFC},
    {0x2102, 0x2102},   {0x2107, 0x2107},   {0x210A, 0x2113},   {0x2115, 0x2115},
    {0x2119, 0x211D},   {0x2124, 0x2124},   {0x2126, 0x2126},   {0x2128, 0x2128},
    {0x212A, 0x212D},   {0x212F, 0x2134},   {0x2139, 0x2139},   {0x213C, 0x213F},
    {0x2145, 0x2149},   {0x214E, 0x214E},   {0x2183, 0x2184},   {0x2C00, 0x2C7B},
    {0x2C7E, 0x2CE4},   {0x2CEB, 0x2CEE},   {0x2CF2, 0x2CF3},   {0xA640, 0xA66D},
    {0xA680, 0xA69B},   {0xA722, 0xA76F},   {0xA771, 0xA787},   {0xA78B, 0xA78E},
    {0xAB70, 0xABBF},   {0xFB00, 0xFB06},   {0xFB13, 0xFB17},   {0xFF21, 0xFF3A},
    {0xFF41, 0xFF5A},   {0x10400, 0x1044F}, {0x104B0, 0x104D3}, {0x104D8, 0x104FB},
    {0x10C80, 0x10CB2}, {0x10CC0, 0x10CF2}, {0x118A0, 0x118DF}, {0x1E900, 0x1E943},
};
// [!-/:-~！-／：-～‘-‟　-。] (sorted)
constexpr Range kDeepseekPunct[] = {{0x21, 0x2F},     {0x3A, 0x7E},     {0x2018, 0x201F},
                                    {0x3000, 0x3002}, {0xFF01, 0xFF0F}, {0xFF1A, 0xFF5E}};
// [一-龥ࠀ-一가-퟿] (sorted, overlapping ends merged)
constexpr Range kCjk[] = {{0x800, 0x9FA5}, {0xAC00, 0xD7FF}};

// Emits the leftmost matches of a regex in [begin, end) and the text between them.
// `match_at(p)` returns the end of the match starting at p, or 0 when none starts there.
template <typename MatchAt>
void SplitMatches(size_t begin, size_t end, MatchAt match_at, std::vector<uint32_t>* ends) {
  size_t cur = begin;
  for (size_t p = begin; p < end;) {
    const size_t m = match_at(p);
    if (m == 0) {
      ++p;
      continue;
    }
    if (p > cur) ends->push_back(static_cast<uint32_t>(p));
    ends->push_back(static_cast<uint32_t>(m));
    cur = p = m;
  }
  if (cur < end) ends->push_back(static_cast<uint32_t>(end));
}

// [X]+ where `in` tests X.
template <typename In>
void SplitRuns(const CpText& t, size_t begin, size_t end, In in, std::vector<uint32_t>* ends) {
  SplitMatches(
      begin, end,
      [&](size_t p) -> size_t {
        if (!in(p)) return 0;
        while (p < end && in(p)) ++p;
        return p;
      },
      ends);
}

// \s?[X]+: one optional white space right before a run of X.
template <typename In>
void SplitSpaceRuns(const CpText& t, size_t begin, size_t end, In in, std::vector<uint32_t>* ends) {
  SplitMatches(
      begin, end,
      [&](size_t p) -> size_t {
        size_t q = p;
        if (IsWhitespace(t.flags[p]) && p + 1 < end && in(p + 1)) {
          q = p + 1;
        } else if (!in(p)) {
          return 0;
        }
        while (q < end && in(q)) ++q;
        return q;
      },
      ends);
}

bool IsPunctClass(uint8_t f) {
  return (f & kCpClassMask) == static_cast<uint8_t>(CpClass::kPunctuation);
}

}  // namespace

// \p{N}
void EachNumber(const CpText& t, size_t begin, size_t end, std::vector<uint32_t>* ends) {
  SplitMatches(
      begin, end, [&](size_t p) -> size_t { return IsNumber(t.flags[p]) ? p + 1 : 0; }, ends);
}

// \p{N}+
void NumberRuns(const CpText& t, size_t begin, size_t end, std::vector<uint32_t>* ends) {
  SplitRuns(
      t, begin, end, [&](size_t p) { return IsNumber(t.flags[p]); }, ends);
}

// [0-9][0-9][0-9]
void AsciiDigitTriples(const CpText& t, size_t begin, size_t end, std::vector<uint32_t>* ends) {
  auto digit = [&](size_t p) { return t.cps[p] >= '0' && t.cps[p] <= '9'; };
  SplitMatches(
      begin, end,
      [&](size_t p) -> size_t {
        return p + 2 < end && digit(p) && digit(p + 1) && digit(p + 2) ? p + 3 : 0;
      },
      ends);
}

// [\p{P}\$\+<=>\^~\|]+
void PunctRunsDefault(const CpText& t, size_t begin, size_t end, std::vector<uint32_t>* ends) {
  auto in = [&](size_t p) {
    uint32_t c = t.cps[p];
    return IsPunctClass(t.flags[p]) || c == '$' || c == '+' || c == '<' || c == '=' || c == '>' ||
           c == '^' || c == '~' || c == '|';
  };
  SplitRuns(t, begin, end, in, ends);
}

// [\p{P}\$\+<=>\^~\|`]+
void PunctRunsFalcon(const CpText& t, size_t begin, size_t end, std::vector<uint32_t>* ends) {
  auto in = [&](size_t p) {
    uint32_t c = t.cps[p];
    return IsPunctClass(t.flags[p]) || c == '$' || c == '+' || c == '<' || c == '=' || c == '>' ||
           c == '^' || c == '~' || c == '|' || c == '`';
  };
  SplitRuns(t, begin, end, in, ends);
}

// [\r\n]
void EachNewline(const CpText& t, size_t begin, size_t end, std::vector<uint32_t>* ends) {
  SplitMatches(
      begin, end,
      [&](size_t p) -> size_t { return t.cps[p] == '\r' || t.cps[p] == '\n' ? p + 1 : 0; }, ends);
}

void DeepseekLlmLetters(const CpText& t, size_t begin, size_t end, std::vector<uint32_t>* ends) {
  auto in = [&](size_t p) {
    return InRanges(t.cps[p], kDeepseekLetters, std::size(kDeepseekLetters));
  };
  SplitSpaceRuns(t, begin, end, in, ends);
}

void DeepseekLlmPunct(const CpText& t, size_t begin, size_t end, std::vector<uint32_t>* ends) {
  // White space is never in the class: llama.cpp maps non-ASCII spaces (U+3000) to \v first.
  auto in = [&](size_t p) {
    return !IsWhitespace(t.flags[p]) &&
           InRanges(t.cps[p], kDeepseekPunct, std::size(kDeepseekPunct));
  };
  SplitSpaceRuns(t, begin, end, in, ends);
}

// \s+$ : the white space that ends the chunk.
void TrailingSpace(const CpText& t, size_t begin, size_t end, std::vector<uint32_t>* ends) {
  size_t p = end;
  while (p > begin && IsWhitespace(t.flags[p - 1])) --p;
  if (p > begin) ends->push_back(static_cast<uint32_t>(p));
  if (end > begin) ends->push_back(static_cast<uint32_t>(end));
}

// [一-龥ࠀ-一가-퟿]+ (its range U+0800.. holds spaces such as U+3000, which llama.cpp maps to
// \v before matching, so they never match).
void CjkRuns(const CpText& t, size_t begin, size_t end, std::vector<uint32_t>* ends) {
  auto in = [&](size_t p) {
    return !IsWhitespace(t.flags[p]) && InRanges(t.cps[p], kCjk, std::size(kCjk));
  };
  SplitRuns(t, begin, end, in, ends);
}

// \s?\p{L}+
void SpaceLetters(const CpText& t, size_t begin, size_t end, std::vector<uint32_t>* ends) {
  SplitSpaceRuns(
      t, begin, end, [&](size_t p) { return IsLetter(t.flags[p]); }, ends);
}

// \s?\p{P}+
void SpacePunct(const CpText& t, size_t begin, size_t end, std::vector<uint32_t>* ends) {
  SplitSpaceRuns(
      t, begin, end, [&](size_t p) { return IsPunctClass(t.flags[p]); }, ends);
}

// [^\n]+|[\n]+ : runs of newlines and runs of anything else.
void NewlineRuns(const CpText& t, size_t begin, size_t end, std::vector<uint32_t>* ends) {
  for (size_t p = begin; p < end;) {
    const bool nl = t.cps[p] == '\n';
    while (p < end && (t.cps[p] == '\n') == nl) ++p;
    ends->push_back(static_cast<uint32_t>(p));
  }
}

}  // namespace mle::text::pretok
