// PreTokenizer: the stage list of each PreType, and the two large scanners: GPT-2's regex and
// the Llama-3 / Qwen2 family. Both restate llama.cpp's unicode_regex_split_custom_gpt2 /
// _llama3 (src/unicode.cpp): chunk edges read as "no character" (flags 0), and only the
// Unicode classes of unicode.h decide.
#include "text/pretokenize.h"

#include <array>

#include "text/unicode.h"

namespace mle::text {
namespace {

constexpr uint32_t kOutOfRange = 0xFFFFFFFF;

const std::array<uint8_t, 128>& AsciiFlags() {
  static const std::array<uint8_t, 128> table = [] {
    std::array<uint8_t, 128> t{};
    for (uint32_t c = 0; c < 128; ++c) t[c] = CpFlags(c) | CpText::kValidCp;
    return t;
  }();
  return table;
}

bool IsWordish(uint8_t f) {
  return IsWhitespace(f) || IsLetter(f) || IsNumber(f);
}

// Tracks the end of the last piece so empty pieces are never emitted.
struct Emitter {
  std::vector<uint32_t>* ends;
  size_t prev;
  void Add(size_t end) {
    if (end > prev) ends->push_back(static_cast<uint32_t>(end));
    prev = end;
  }
};

// The contraction alternatives 's 't 're 've 'm 'll 'd at `pos`; returns the match length (0
// when none). `fold` lowercases ASCII (Llama 3's (?i:...)); no non-ASCII letter lowercases to
// one of these ASCII letters, so ASCII folding equals llama.cpp's unicode_tolower here.
size_t ContractionAt(const CpText& t, size_t pos, size_t end, bool fold) {
  if (t.cps[pos] != '\'' || pos + 1 >= end) return 0;
  auto lower = [fold](uint32_t c) { return fold && c >= 'A' && c <= 'Z' ? c + 32 : c; };
  uint32_t a = lower(t.cps[pos + 1]);
  if (a == 's' || a == 't' || a == 'm' || a == 'd') return 2;
  if (pos + 2 >= end) return 0;
  uint32_t b = lower(t.cps[pos + 2]);
  if ((a == 'r' && b == 'e') || (a == 'v' && b == 'e') || (a == 'l' && b == 'l')) return 3;
  return 0;
}

// White space run at pos: its length, and the index after its last \r or \n (0 if none).
size_t WhitespaceRun(const CpText& t, size_t pos, size_t begin, size_t end, size_t* last_rn) {
  size_t n = 0;
  *last_rn = 0;
  while (IsWhitespace(t.FlagsIn(pos + n, begin, end))) {
    uint32_t c = t.cps[pos + n];
    if (c == '\r' || c == '\n') *last_rn = pos + n + 1;
    ++n;
  }
  return n;
}

// The last alternatives of both regex families, tried at `pos` when nothing else matched:
// \s*[\r\n]+ (Llama 3 only, `newlines`), \s+(?!\S), \s+, else one character alone.
// Returns where the piece ends.
size_t WhitespaceTail(const CpText& t, size_t pos, size_t begin, size_t end, bool newlines) {
  size_t last_rn = 0;
  const size_t n_ws = WhitespaceRun(t, pos, begin, end, &last_rn);
  if (newlines && last_rn > 0) return last_rn;
  if (n_ws > 1 && pos + n_ws < end) return pos + n_ws - 1;  // leave one for the next word
  if (n_ws > 0) return pos + n_ws;
  return pos + 1;
}

// Llama 3: (?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}|
//          ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+
// Qwen2 is the same with \p{N} (one digit per piece) and case-sensitive contractions.
void Llama3Family(const CpText& t, size_t begin, size_t end, size_t max_digits, bool fold,
                  std::vector<uint32_t>* ends) {
  Emitter out{ends, begin};
  auto flags_at = [&](size_t i) { return t.FlagsIn(i, begin, end); };
  for (size_t pos = begin; pos < end;) {
    const uint32_t cpt = t.cps[pos];
    const uint8_t flags = t.flags[pos];
    if (size_t n = ContractionAt(t, pos, end, fold)) {
      out.Add(pos += n);
      continue;
    }
    if (!(cpt == '\r' || cpt == '\n' || IsNumber(flags)) &&
        (IsLetter(flags) || IsLetter(flags_at(pos + 1)))) {
      ++pos;
      while (IsLetter(flags_at(pos))) ++pos;
      out.Add(pos);
      continue;
    }
    if (IsNumber(flags)) {
      size_t ini = pos;
      while (IsNumber(flags_at(pos))) {
        if (++pos - ini >= max_digits) {
          out.Add(pos);
          ini = pos;
        }
      }
      out.Add(pos);
      continue;
    }
    uint8_t flags2 = cpt == ' ' ? flags_at(pos + 1) : flags;
    if (!IsWordish(flags2) && flags != 0) {
      pos += (cpt == ' ');
      while (!IsWordish(flags2) && flags2 != 0) flags2 = flags_at(++pos);
      while (pos < end && (t.cps[pos] == '\r' || t.cps[pos] == '\n')) ++pos;
      out.Add(pos);
      continue;
    }
    out.Add(pos = WhitespaceTail(t, pos, begin, end, /*newlines=*/true));
  }
}

}  // namespace

void CpText::Assign(std::string_view text) {
  const size_t n_bytes = text.size();
  cps.resize(n_bytes);
  flags.resize(n_bytes);
  offsets.resize(n_bytes + 1);
  const auto& ascii = AsciiFlags();
  size_t n = 0;
  size_t pos = 0;
  while (pos < n_bytes) {
    offsets[n] = static_cast<uint32_t>(pos);
    const auto c = static_cast<uint8_t>(text[pos]);
    if (c < 0x80) {
      cps[n] = c;
      flags[n] = ascii[c];
      ++pos;
    } else {
      const uint32_t cp = DecodeUtf8(text, &pos);
      cps[n] = cp;
      flags[n] = CpFlags(cp) | kValidCp;
    }
    ++n;
  }
  offsets[n] = static_cast<uint32_t>(n_bytes);
  cps.resize(n);
  flags.resize(n);
  offsets.resize(n + 1);
}

namespace pretok {

// GPT-2: 's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
void Gpt2(const CpText& t, size_t begin, size_t end, std::vector<uint32_t>* ends) {
  Emitter out{ends, begin};
  auto flags_at = [&](size_t i) { return t.FlagsIn(i, begin, end); };
  for (size_t pos = begin; pos < end;) {
    const uint32_t cpt = t.cps[pos];
    if (size_t n = ContractionAt(t, pos, end, /*fold=*/false)) {
      out.Add(pos += n);
      continue;
    }
    uint8_t f2 = cpt == ' ' ? flags_at(pos + 1) : t.flags[pos];
    // One branch per class: letters, numbers, then "anything else but white space".
    bool (*same_class)(uint8_t) = nullptr;
    if (IsLetter(f2)) {
      same_class = [](uint8_t f) { return IsLetter(f); };
    } else if (IsNumber(f2)) {
      same_class = [](uint8_t f) { return IsNumber(f); };
    } else if (!IsWordish(f2) && f2 != 0) {
      same_class = [](uint8_t f) { return !IsWordish(f) && f != 0; };
    }
    if (same_class != nullptr) {
      pos += (cpt == ' ');
      while (same_class(f2)) f2 = flags_at(++pos);
      out.Add(pos);
      continue;
    }
    out.Add(pos = WhitespaceTail(t, pos, begin, end, /*newlines=*/false));
  }
}

void Llama3(const CpText& t, size_t begin, size_t end, std::vector<uint32_t>* ends) {
  Llama3Family(t, begin, end, 3, /*fold=*/true, ends);
}

void Qwen2(const CpText& t, size_t begin, size_t end, std::vector<uint32_t>* ends) {
  Llama3Family(t, begin, end, 1, /*fold=*/true, ends);
}

}  // namespace pretok

PreTokenizer::PreTokenizer(PreType type) : type_(type) {
  using namespace pretok;
  switch (type) {
    case PreType::kGpt2:
      stages_ = {Gpt2};
      break;
    case PreType::kLlama3:
      stages_ = {Llama3};
      break;
    case PreType::kQwen2:
      stages_ = {Qwen2};
      break;
    case PreType::kStarcoder:
      stages_ = {EachNumber, Gpt2};
      break;
    case PreType::kFalcon:
      stages_ = {PunctRunsFalcon, Gpt2, AsciiDigitTriples};
      break;
    case PreType::kDeepseekLlm:
      stages_ = {EachNewline, DeepseekLlmLetters, DeepseekLlmPunct, TrailingSpace,
                 CjkRuns,     NumberRuns};
      break;
    case PreType::kDeepseekCoder:
      stages_ = {EachNewline, SpaceLetters, SpacePunct, CjkRuns, EachNumber};
      break;
    case PreType::kGemma4:
      stages_ = {NewlineRuns};
      break;
    case PreType::kDefault:
      stages_ = {PunctRunsDefault, Gpt2, NumberRuns, AsciiDigitTriples};
      break;
  }
}

void PreTokenizer::Split(std::string_view text, CpText* t, std::vector<uint32_t>* word_ends) const {
  t->Assign(text);
  std::vector<uint32_t> cur;
  std::vector<uint32_t> next;
  if (t->size() > 0) cur.push_back(static_cast<uint32_t>(t->size()));
  for (SplitStage stage : stages_) {
    next.clear();
    next.reserve(cur.size() + t->size() / 4);
    size_t begin = 0;
    for (uint32_t end : cur) {
      stage(*t, begin, end, &next);
      begin = end;
    }
    cur.swap(next);
  }
  for (uint32_t e : cur) word_ends->push_back(t->offsets[e]);
}

}  // namespace mle::text
