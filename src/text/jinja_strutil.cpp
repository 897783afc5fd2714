// Python string semantics over UTF-8 (see jinja_strutil.h): decoding with surrogateescape,
// whitespace, case tables, strip/split/replace/find over code point indices.
#include "text/jinja_strutil.h"

#include <algorithm>

namespace mle::text::jinja {
namespace {

bool IsCont(unsigned char c) {
  return (c & 0xC0) == 0x80;
}

// Decodes the code point at s[pos]; returns the position after it. Invalid bytes decode to
// U+DC80+byte (surrogateescape) and take one byte.
size_t NextCodePoint(std::string_view s, size_t pos, char32_t* cp) {
  auto b0 = static_cast<unsigned char>(s[pos]);
  size_t n = s.size();
  if (b0 < 0x80) {
    *cp = b0;
    return pos + 1;
  }
  auto at = [&](size_t i) { return static_cast<unsigned char>(s[i]); };
  if (b0 >= 0xC2 && b0 <= 0xDF && pos + 1 < n && IsCont(at(pos + 1))) {
    *cp = (char32_t(b0 & 0x1F) << 6) | (at(pos + 1) & 0x3F);
    return pos + 2;
  }
  if (b0 >= 0xE0 && b0 <= 0xEF && pos + 2 < n && IsCont(at(pos + 1)) && IsCont(at(pos + 2))) {
    unsigned char b1 = at(pos + 1);
    bool ok = !(b0 == 0xE0 && b1 < 0xA0) && !(b0 == 0xED && b1 >= 0xA0);
    if (ok) {
      *cp = (char32_t(b0 & 0x0F) << 12) | (char32_t(b1 & 0x3F) << 6) | (at(pos + 2) & 0x3F);
      return pos + 3;
    }
  }
  if (b0 >= 0xF0 && b0 <= 0xF4 && pos + 3 < n && IsCont(at(pos + 1)) && IsCont(at(pos + 2)) &&
      IsCont(at(pos + 3))) {
    unsigned char b1 = at(pos + 1);
    bool ok = !(b0 == 0xF0 && b1 < 0x90) && !(b0 == 0xF4 && b1 >= 0x90);
    if (ok) {
      *cp = (char32_t(b0 & 0x07) << 18) | (char32_t(b1 & 0x3F) << 12) |
            (char32_t(at(pos + 2) & 0x3F) << 6) | (at(pos + 3) & 0x3F);
      return pos + 4;
    }
  }
  *cp = 0xDC00 + b0;
  return pos + 1;
}

bool IsLowerChar(char32_t c) {
  return c == 0xDF || UpperChar(c) != c;
}
bool IsUpperChar(char32_t c) {
  return LowerChar(c) != c;
}
bool IsCased(char32_t c) {
  return IsLowerChar(c) || IsUpperChar(c);
}

// Full upper-casing of one code point (ß becomes SS, as in Python).
void AppendUpper(std::u32string& out, char32_t c) {
  if (c == 0xDF) {
    out += U"SS";
  } else {
    out += UpperChar(c);
  }
}

template <typename F>
std::string MapChars(std::string_view s, F f) {
  std::u32string in = DecodeUtf8(s);
  std::u32string out;
  out.reserve(in.size());
  bool prev_cased = false;
  for (size_t i = 0; i < in.size(); ++i) {
    f(out, in[i], i, prev_cased);
    prev_cased = IsCased(in[i]);
  }
  return EncodeUtf8(out);
}

}  // namespace

std::u32string DecodeUtf8(std::string_view s) {
  std::u32string out;
  out.reserve(s.size());
  size_t pos = 0;
  while (pos < s.size()) {
    char32_t cp;
    pos = NextCodePoint(s, pos, &cp);
    out += cp;
  }
  return out;
}

void AppendUtf8(std::string& out, char32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp >= 0xDC80 && cp <= 0xDCFF) {
    out += static_cast<char>(cp - 0xDC00);  // surrogateescape: the original byte
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    cp = std::min<char32_t>(cp, 0x10FFFF);
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

std::string EncodeUtf8(std::u32string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char32_t c : s) AppendUtf8(out, c);
  return out;
}

int64_t CodePointCount(std::string_view s) {
  int64_t n = 0;
  size_t pos = 0;
  char32_t cp;
  while (pos < s.size()) {
    pos = NextCodePoint(s, pos, &cp);
    ++n;
  }
  return n;
}

bool IsPySpace(char32_t c) {
  if (c <= 0x20) return c == 0x20 || (c >= 0x09 && c <= 0x0D) || (c >= 0x1C && c <= 0x1F);
  if (c < 0x85) return false;
  return c == 0x85 || c == 0xA0 || c == 0x1680 || (c >= 0x2000 && c <= 0x200A) || c == 0x2028 ||
         c == 0x2029 || c == 0x202F || c == 0x205F || c == 0x3000;
}

bool IsWordChar(char32_t c) {
  if (c < 0x80)
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
  if (IsPySpace(c) || (c >= 0x80 && c <= 0xBF && c != 0xAA && c != 0xB5 && c != 0xBA)) {
    return false;
  }
  if (c == 0xD7 || c == 0xF7) return false;
  bool punct = (c >= 0x2000 && c <= 0x206F) || (c >= 0x3000 && c <= 0x303F) ||
               (c >= 0xFF00 && c <= 0xFF0F) || (c >= 0xFF1A && c <= 0xFF20) ||
               (c >= 0xDC80 && c <= 0xDCFF);
  return !punct;
}

char32_t UpperChar(char32_t c) {
  if (c >= 'a' && c <= 'z') return c - 32;
  if (c < 0xB5) return c;
  if (c == 0xB5) return 0x39C;
  if (c >= 0xE0 && c <= 0xFE && c != 0xF7) return c - 32;
  if (c == 0xFF) return 0x178;
  if ((c >= 0x1C4 && c <= 0x1CC) || (c >= 0x1F1 && c <= 0x1F3)) {  // DŽ Dž dž, LJ, NJ, DZ
    return c - (c - (c >= 0x1F1 ? 0x1F1 : 0x1C4)) % 3;
  }
  if (c >= 0x100 && c <= 0x17F) {
    if (c == 0x131) return 'I';
    if (c == 0x17F) return 'S';
    bool odd_upper = (c >= 0x139 && c <= 0x148) || (c >= 0x179 && c <= 0x17E);
    if (c == 0x138 || c == 0x149 || c == 0x178 || c == 0x130) return c;
    if (odd_upper) return (c % 2 == 0) ? c - 1 : c;
    return (c % 2 == 1) ? c - 1 : c;
  }
  if (c >= 0x3B1 && c <= 0x3C9) return c == 0x3C2 ? 0x3A3 : c - 32;
  if (c == 0x3AC) return 0x386;
  if (c >= 0x3AD && c <= 0x3AF) return c - 37;
  if (c == 0x3CC) return 0x38C;
  if (c == 0x3CD || c == 0x3CE) return c - 63;
  if (c >= 0x430 && c <= 0x44F) return c - 32;
  if (c >= 0x450 && c <= 0x45F) return c - 80;
  if (((c >= 0x461 && c <= 0x481) || (c >= 0x48B && c <= 0x4BF)) && c % 2 == 1) return c - 1;
  if (c >= 0x561 && c <= 0x586) return c - 48;
  if (c >= 0xFF41 && c <= 0xFF5A) return c - 32;
  return c;
}

char32_t LowerChar(char32_t c) {
  if (c >= 'A' && c <= 'Z') return c + 32;
  if (c < 0xC0) return c;
  if (c >= 0xC0 && c <= 0xDE && c != 0xD7) return c + 32;
  if (c == 0x178) return 0xFF;
  if ((c >= 0x1C4 && c <= 0x1CC) || (c >= 0x1F1 && c <= 0x1F3)) {
    return c - (c - (c >= 0x1F1 ? 0x1F1 : 0x1C4)) % 3 + 2;
  }
  if (c >= 0x100 && c <= 0x17F) {
    if (c == 0x130) return 'i';
    if (c == 0x138 || c == 0x149 || c == 0x131 || c == 0x17F) return c;
    bool odd_upper = (c >= 0x139 && c <= 0x148) || (c >= 0x179 && c <= 0x17E);
    if (odd_upper) return (c % 2 == 1) ? c + 1 : c;
    return (c % 2 == 0) ? c + 1 : c;
  }
  if (c >= 0x391 && c <= 0x3A9 && c != 0x3A2) return c + 32;
  if (c == 0x386) return 0x3AC;
  if (c >= 0x388 && c <= 0x38A) return c + 37;
  if (c == 0x38C) return 0x3CC;
  if (c == 0x38E || c == 0x38F) return c + 63;
  if (c >= 0x410 && c <= 0x42F) return c + 32;
  if (c >= 0x400 && c <= 0x40F) return c + 80;
  if (((c >= 0x460 && c <= 0x480) || (c >= 0x48A && c <= 0x4BE)) && c % 2 == 0) return c + 1;
  if (c >= 0x531 && c <= 0x556) return c + 48;
  if (c >= 0xFF21 && c <= 0xFF3A) return c + 32;
  return c;
}

std::string PyUpper(std::string_view s) {
  return MapChars(s, [](std::u32string& out, char32_t c, size_t, bool) { AppendUpper(out, c); });
}

std::string PyLower(std::string_view s) {
  return MapChars(s, [](std::u32string& out, char32_t c, size_t, bool) { out += LowerChar(c); });
}

std::string PyCapitalize(std::string_view s) {
  return MapChars(s, [](std::u32string& out, char32_t c, size_t i, bool) {
    if (i == 0) {
      out += (c == 0xDF) ? std::u32string(U"Ss") : std::u32string(1, UpperChar(c));
    } else {
      out += LowerChar(c);
    }
  });
}

std::string PyTitle(std::string_view s) {
  return MapChars(s, [](std::u32string& out, char32_t c, size_t, bool prev_cased) {
    if (prev_cased) {
      out += LowerChar(c);
    } else {
      out += (c == 0xDF) ? std::u32string(U"Ss") : std::u32string(1, UpperChar(c));
    }
  });
}

std::string PySwapCase(std::string_view s) {
  return MapChars(s, [](std::u32string& out, char32_t c, size_t, bool) {
    if (IsUpperChar(c)) {
      out += LowerChar(c);
    } else {
      AppendUpper(out, c);
    }
  });
}

bool PyIsUpper(std::string_view s) {
  bool cased = false;
  for (char32_t c : DecodeUtf8(s)) {
    if (IsLowerChar(c)) return false;
    if (IsUpperChar(c)) cased = true;
  }
  return cased;
}

bool PyIsLower(std::string_view s) {
  bool cased = false;
  for (char32_t c : DecodeUtf8(s)) {
    if (IsUpperChar(c)) return false;
    if (IsLowerChar(c)) cased = true;
  }
  return cased;
}

std::string PyStrip(std::string_view s, const std::optional<std::string>& chars, bool left,
                    bool right) {
  std::u32string u = DecodeUtf8(s);
  std::u32string set = chars ? DecodeUtf8(*chars) : std::u32string();
  auto strip_it = [&](char32_t c) {
    return chars ? set.find(c) != std::u32string::npos : IsPySpace(c);
  };
  size_t b = 0, e = u.size();
  if (left) {
    while (b < e && strip_it(u[b])) ++b;
  }
  if (right) {
    while (e > b && strip_it(u[e - 1])) --e;
  }
  return EncodeUtf8(std::u32string_view(u).substr(b, e - b));
}

namespace {

std::vector<std::string> SplitWhitespace(std::string_view s, int64_t maxsplit, bool reverse) {
  std::u32string u = DecodeUtf8(s);
  if (reverse) std::reverse(u.begin(), u.end());
  std::vector<std::u32string> parts;
  size_t i = 0, n = u.size();
  int64_t left = maxsplit < 0 ? INT64_MAX : maxsplit;
  while (left-- > 0) {
    while (i < n && IsPySpace(u[i])) ++i;
    if (i == n) break;
    size_t j = i;
    while (i < n && !IsPySpace(u[i])) ++i;
    parts.push_back(u.substr(j, i - j));
  }
  if (i < n) {
    while (i < n && IsPySpace(u[i])) ++i;
    if (i != n) parts.push_back(u.substr(i));
  }
  std::vector<std::string> out;
  for (auto& p : parts) {
    if (reverse) std::reverse(p.begin(), p.end());
    out.push_back(EncodeUtf8(p));
  }
  if (reverse) std::reverse(out.begin(), out.end());
  return out;
}

}  // namespace

std::vector<std::string> PySplit(std::string_view s, const std::optional<std::string>& sep,
                                 int64_t maxsplit) {
  if (!sep) return SplitWhitespace(s, maxsplit, false);
  std::vector<std::string> out;
  size_t pos = 0;
  int64_t left = maxsplit < 0 ? INT64_MAX : maxsplit;
  while (left-- > 0) {
    size_t hit = s.find(*sep, pos);
    if (hit == std::string_view::npos) break;
    out.emplace_back(s.substr(pos, hit - pos));
    pos = hit + sep->size();
  }
  out.emplace_back(s.substr(pos));
  return out;
}

std::vector<std::string> PyRSplit(std::string_view s, const std::optional<std::string>& sep,
                                  int64_t maxsplit) {
  if (!sep) return SplitWhitespace(s, maxsplit, true);
  std::vector<std::string> out;
  size_t end = s.size();
  int64_t left = maxsplit < 0 ? INT64_MAX : maxsplit;
  while (left-- > 0 && end >= sep->size()) {
    size_t hit = s.rfind(*sep, end - sep->size());
    if (hit == std::string_view::npos) break;
    out.emplace_back(s.substr(hit + sep->size(), end - hit - sep->size()));
    end = hit;
  }
  out.emplace_back(s.substr(0, end));
  std::reverse(out.begin(), out.end());
  return out;
}

std::vector<std::string> PySplitLines(std::string_view s, bool keepends) {
  std::u32string u = DecodeUtf8(s);
  std::vector<std::string> out;
  size_t start = 0, i = 0;
  while (i < u.size()) {
    char32_t c = u[i];
    bool brk = c == '\n' || c == '\r' || c == 0x0B || c == 0x0C || (c >= 0x1C && c <= 0x1E) ||
               c == 0x85 || c == 0x2028 || c == 0x2029;
    if (!brk) {
      ++i;
      continue;
    }
    size_t eol = i + ((c == '\r' && i + 1 < u.size() && u[i + 1] == '\n') ? 2 : 1);
    out.push_back(EncodeUtf8(std::u32string_view(u).substr(start, (keepends ? eol : i) - start)));
    start = i = eol;
  }
  if (start < u.size()) out.push_back(EncodeUtf8(std::u32string_view(u).substr(start)));
  return out;
}

std::string PyReplace(std::string_view s, std::string_view from, std::string_view to,
                      int64_t count) {
  if (count < 0) count = INT64_MAX;
  std::string out;
  if (from.empty()) {
    size_t pos = 0;
    char32_t cp;
    while (count > 0) {
      out += to;
      --count;
      if (pos >= s.size()) break;
      size_t next = NextCodePoint(s, pos, &cp);
      out += s.substr(pos, next - pos);
      pos = next;
    }
    out += s.substr(std::min(pos, s.size()));
    return out;
  }
  size_t pos = 0;
  while (count > 0) {
    size_t hit = s.find(from, pos);
    if (hit == std::string_view::npos) break;
    out += s.substr(pos, hit - pos);
    out += to;
    pos = hit + from.size();
    --count;
  }
  out += s.substr(pos);
  return out;
}

size_t ByteOffsetOfIndex(std::string_view s, int64_t index) {
  size_t pos = 0;
  char32_t cp;
  while (index > 0 && pos < s.size()) {
    pos = NextCodePoint(s, pos, &cp);
    --index;
  }
  return pos;
}

int64_t IndexOfByteOffset(std::string_view s, size_t offset) {
  return CodePointCount(s.substr(0, std::min(offset, s.size())));
}

void ClampSliceBounds(int64_t length, std::optional<int64_t>* start, std::optional<int64_t>* end) {
  auto adjust = [length](int64_t v) {
    if (v < 0) v += length;
    return std::clamp<int64_t>(v, 0, length);
  };
  *start = start->has_value() ? adjust(**start) : 0;
  *end = end->has_value() ? adjust(**end) : length;
}

int64_t PyFind(std::string_view s, std::string_view sub, std::optional<int64_t> start,
               std::optional<int64_t> end, bool reverse) {
  int64_t length = CodePointCount(s);
  if (start && *start > length) return -1;
  ClampSliceBounds(length, &start, &end);
  if (*start > *end) return -1;
  size_t b = ByteOffsetOfIndex(s, *start);
  size_t e = ByteOffsetOfIndex(s, *end);
  std::string_view window = s.substr(b, e - b);
  size_t hit = reverse ? window.rfind(sub) : window.find(sub);
  if (hit == std::string_view::npos) return -1;
  return *start + IndexOfByteOffset(window, hit);
}

int64_t PyCount(std::string_view s, std::string_view sub, std::optional<int64_t> start,
                std::optional<int64_t> end) {
  int64_t length = CodePointCount(s);
  if (start && *start > length) return 0;
  ClampSliceBounds(length, &start, &end);
  if (*start > *end) return 0;
  if (sub.empty()) return *end - *start + 1;
  size_t b = ByteOffsetOfIndex(s, *start);
  std::string_view window = s.substr(b, ByteOffsetOfIndex(s, *end) - b);
  int64_t n = 0;
  for (size_t pos = window.find(sub); pos != std::string_view::npos;
       pos = window.find(sub, pos + sub.size())) {
    ++n;
  }
  return n;
}

std::string HtmlEscape(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '\'':
        out += "&#39;";
        break;
      case '"':
        out += "&#34;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

}  // namespace mle::text::jinja
