// Jinja lexer (see jinja_lexer.h). The rules mirror jinja2/lexer.py: the root state finds the
// first "{{", "{%" or "{#"; inside a tag the end delimiter is tried before every token, but
// only while no bracket is open; lstrip_blocks applies only where the tag starts a line
// (the text since the last newline is all whitespace, or the previous tag ended a line).
#include "text/jinja_lexer.h"

#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "text/jinja_strutil.h"
#include "text/jinja_value.h"

namespace mle::text::jinja {
namespace {

constexpr const char* kOperators[] = {"//", "**", "==", "!=", ">=", "<=", "+", "-", "/",
                                      "*",  "%",  "~",  "[",  "]",  "(",  ")", "{", "}",
                                      ">",  "<",  "=",  ".",  ":",  "|",  ",", ";"};

bool IsDigit(char c) {
  return c >= '0' && c <= '9';
}
bool IsNameStart(unsigned char c) {
  return c == '_' || std::isalpha(c) || c >= 0x80;
}
bool IsNameChar(unsigned char c) {
  return IsNameStart(c) || IsDigit(static_cast<char>(c));
}

std::string NormalizeNewlines(std::string_view source) {
  std::string out;
  out.reserve(source.size());
  for (size_t i = 0; i < source.size(); ++i) {
    if (source[i] == '\r') {
      out += '\n';
      if (i + 1 < source.size() && source[i + 1] == '\n') ++i;
    } else {
      out += source[i];
    }
  }
  if (!out.empty() && out.back() == '\n') out.pop_back();  // keep_trailing_newline=False
  return out;
}

// Length of the Python-whitespace run starting at pos (in bytes).
size_t SpaceRun(std::string_view s, size_t pos) {
  size_t start = pos;
  while (pos < s.size()) {
    size_t next = ByteOffsetOfIndex(s.substr(pos), 1);
    std::u32string cp = DecodeUtf8(s.substr(pos, next));
    if (cp.empty() || !IsPySpace(cp[0])) break;
    pos += next;
  }
  return pos - start;
}

bool AllSpace(std::string_view s) {
  return SpaceRun(s, 0) == s.size();
}

std::string RStripSpace(std::string_view s) {
  std::u32string u = DecodeUtf8(s);
  while (!u.empty() && IsPySpace(u.back())) u.pop_back();
  return EncodeUtf8(u);
}

class Lexer {
 public:
  Lexer(std::string_view source, const LexerOptions& options)
      : src_(NormalizeNewlines(source)), opts_(options) {}

  std::vector<Token> Run();

 private:
  [[noreturn]] void Fail(const std::string& message) {
    throw JinjaError(ErrorKind::kSyntax, message, line_);
  }
  bool At(size_t pos, std::string_view s) const { return src_.compare(pos, s.size(), s) == 0; }
  // Moves to `pos`, counting the newlines passed.
  void Advance(size_t pos) {
    for (size_t i = pos_; i < pos && i < src_.size(); ++i) line_ += src_[i] == '\n';
    pos_ = pos;
  }
  void Emit(TokenType type, std::string text = {}) {
    Token t;
    t.type = type;
    t.text = std::move(text);
    t.line = line_;
    tokens_.push_back(std::move(t));
  }
  void EmitText(std::string text, char sign, bool is_variable);
  size_t MatchRawBegin(size_t p, char* sign) const;
  void LexRaw(size_t body_start);
  void LexComment(size_t content_start);
  void LexTag(bool is_block);
  bool TryTagEnd(bool is_block);
  void LexNumber();
  void LexString();
  void LexOperator();
  size_t MatchDigits(size_t pos) const;
  size_t MatchFloat(size_t pos) const;
  size_t MatchInt(size_t pos, int* base, size_t* digits_start) const;

  std::string src_;
  LexerOptions opts_;
  std::vector<Token> tokens_;
  std::string brackets_;  // closers expected, innermost last
  size_t pos_ = 0;
  int line_ = 1;
  bool line_starting_ = true;
};

std::vector<Token> Lexer::Run() {
  while (pos_ < src_.size()) {
    size_t p = pos_;
    while ((p = src_.find('{', p)) != std::string::npos) {
      if (p + 1 < src_.size() && std::strchr("{%#", src_[p + 1])) break;
      ++p;
    }
    if (p == std::string::npos) {
      EmitText(src_.substr(pos_), 0, true);
      Advance(src_.size());
      break;
    }
    char kind = src_[p + 1];
    char sign =
        (p + 2 < src_.size() && (src_[p + 2] == '-' || src_[p + 2] == '+')) ? src_[p + 2] : 0;
    char raw_sign = 0;
    size_t raw_end = kind == '%' ? MatchRawBegin(p, &raw_sign) : 0;
    EmitText(src_.substr(pos_, p - pos_), raw_end ? raw_sign : sign, kind == '{');
    Advance(p);
    if (raw_end) {
      Advance(raw_end);
      line_starting_ = src_[raw_end - 1] == '\n';
      LexRaw(raw_end);
    } else if (kind == '#') {
      LexComment(p + 2 + (sign ? 1 : 0));
    } else {
      Emit(kind == '%' ? TokenType::kBlockBegin : TokenType::kVarBegin);
      Advance(p + 2 + (sign ? 1 : 0));
      LexTag(kind == '%');
    }
  }
  Emit(TokenType::kEof);
  return std::move(tokens_);
}

// Whitespace control for the text before a tag (Jinja2's OptionalLStrip).
void Lexer::EmitText(std::string text, char sign, bool is_variable) {
  if (sign == '-') {
    text = RStripSpace(text);
  } else if (sign != '+' && opts_.lstrip_blocks && !is_variable) {
    size_t nl = text.rfind('\n');
    size_t l_pos = nl == std::string::npos ? 0 : nl + 1;
    if (l_pos > 0 || line_starting_) {
      std::string_view tail = std::string_view(text).substr(l_pos);
      if (!tail.empty() && AllSpace(tail)) text.resize(l_pos);
    }
  }
  if (!text.empty()) Emit(TokenType::kText, std::move(text));
}

// "{%[-+]?\s*raw\s*(-%}\s*|%})" at p: returns the end of the match, or 0.
size_t Lexer::MatchRawBegin(size_t p, char* sign) const {
  size_t q = p + 2;
  *sign = 0;
  if (q < src_.size() && (src_[q] == '-' || src_[q] == '+')) *sign = src_[q++];
  q += SpaceRun(src_, q);
  if (!At(q, "raw")) return 0;
  q += 3;
  q += SpaceRun(src_, q);
  if (At(q, "-%}")) return q + 3 + SpaceRun(src_, q + 3);
  if (At(q, "%}")) return q + 2;
  return 0;
}

void Lexer::LexRaw(size_t body_start) {
  for (size_t p = src_.find("{%", body_start); p != std::string::npos; p = src_.find("{%", p + 1)) {
    size_t q = p + 2;
    char sign = 0;
    if (q < src_.size() && (src_[q] == '-' || src_[q] == '+')) sign = src_[q++];
    q += SpaceRun(src_, q);
    if (!At(q, "endraw")) continue;
    q += 6;
    q += SpaceRun(src_, q);
    size_t end;
    if (At(q, "+%}")) {
      end = q + 3;
    } else if (At(q, "-%}")) {
      end = q + 3 + SpaceRun(src_, q + 3);
    } else if (At(q, "%}")) {
      end = q + 2 + ((opts_.trim_blocks && At(q + 2, "\n")) ? 1 : 0);
    } else {
      continue;
    }
    EmitText(src_.substr(body_start, p - body_start), sign, false);
    Advance(end);
    line_starting_ = src_[end - 1] == '\n';
    return;
  }
  Fail("missing end of raw directive ({% endraw %})");
}

void Lexer::LexComment(size_t content_start) {
  size_t j = src_.find("#}", content_start);
  if (j == std::string::npos) Fail("missing end of comment tag (#})");
  size_t end = j + 2;
  char sign = (j > content_start && (src_[j - 1] == '-' || src_[j - 1] == '+')) ? src_[j - 1] : 0;
  if (sign == '-') {
    end += SpaceRun(src_, end);
  } else if (sign == 0 && opts_.trim_blocks && At(end, "\n")) {
    end += 1;
  }
  Advance(end);
  line_starting_ = src_[end - 1] == '\n';
}

// Matches the end delimiter of the current tag at pos_ (when no bracket is open).
bool Lexer::TryTagEnd(bool is_block) {
  if (!brackets_.empty()) return false;
  const char* close = is_block ? "%}" : "}}";
  size_t end;
  if (is_block && At(pos_, "+%}")) {
    end = pos_ + 3;
  } else if (pos_ < src_.size() && src_[pos_] == '-' && At(pos_ + 1, close)) {
    end = pos_ + 3 + SpaceRun(src_, pos_ + 3);
  } else if (At(pos_, close)) {
    end = pos_ + 2 + ((is_block && opts_.trim_blocks && At(pos_ + 2, "\n")) ? 1 : 0);
  } else {
    return false;
  }
  Emit(is_block ? TokenType::kBlockEnd : TokenType::kVarEnd);
  Advance(end);
  line_starting_ = src_[end - 1] == '\n';
  return true;
}

void Lexer::LexTag(bool is_block) {
  while (pos_ < src_.size()) {
    if (TryTagEnd(is_block)) return;
    size_t space = SpaceRun(src_, pos_);
    if (space > 0) {
      Advance(pos_ + space);
      continue;
    }
    unsigned char c = static_cast<unsigned char>(src_[pos_]);
    if (IsDigit(static_cast<char>(c))) {
      LexNumber();
    } else if (IsNameStart(c)) {
      size_t end = pos_;
      while (end < src_.size() && IsNameChar(static_cast<unsigned char>(src_[end])) &&
             SpaceRun(src_, end) == 0) {
        ++end;
      }
      Emit(TokenType::kName, src_.substr(pos_, end - pos_));
      Advance(end);
    } else if (c == '\'' || c == '"') {
      LexString();
    } else {
      LexOperator();
    }
  }
  // End of input inside a tag: the parser reports what it expected.
}

size_t Lexer::MatchDigits(size_t pos) const {
  if (pos >= src_.size() || !IsDigit(src_[pos])) return 0;
  while (pos < src_.size()) {
    if (IsDigit(src_[pos])) {
      ++pos;
    } else if (src_[pos] == '_' && pos + 1 < src_.size() && IsDigit(src_[pos + 1])) {
      pos += 2;
    } else {
      break;
    }
  }
  return pos;
}

// Jinja2's float_re: digits then (.digits)?e[+-]?digits or .digits; 0 when no match.
size_t Lexer::MatchFloat(size_t pos) const {
  if (pos > 0 && src_[pos - 1] == '.') return 0;
  size_t int_end = MatchDigits(pos);
  if (!int_end) return 0;
  size_t frac_end = (int_end < src_.size() && src_[int_end] == '.') ? MatchDigits(int_end + 1) : 0;
  for (size_t base : {frac_end, int_end}) {
    if (!base || base >= src_.size() || (src_[base] != 'e' && src_[base] != 'E')) continue;
    size_t r = base + 1;
    if (r < src_.size() && (src_[r] == '+' || src_[r] == '-')) ++r;
    if (size_t e = MatchDigits(r)) return e;
  }
  return frac_end;
}

// Jinja2's integer_re at pos: 0b.., 0o.., 0x.., [1-9](_?\d)* or 0(_?0)*. Returns the end of
// the match and sets the base and where the digits start.
size_t Lexer::MatchInt(size_t pos, int* base, size_t* digits_start) const {
  char p1 = pos + 1 < src_.size() ? static_cast<char>(std::tolower(src_[pos + 1])) : 0;
  *base = 10;
  *digits_start = pos;
  if (src_[pos] == '0' && (p1 == 'b' || p1 == 'o' || p1 == 'x')) {
    int b = p1 == 'b' ? 2 : (p1 == 'o' ? 8 : 16);
    auto digit_ok = [b](char ch) {
      ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
      return b == 16 ? (IsDigit(ch) || (ch >= 'a' && ch <= 'f')) : (ch >= '0' && ch < '0' + b);
    };
    size_t end = pos + 2;
    while (end < src_.size() &&
           (digit_ok(src_[end]) ||
            (src_[end] == '_' && end + 1 < src_.size() && digit_ok(src_[end + 1])))) {
      end += src_[end] == '_' ? 2 : 1;
    }
    if (end > pos + 2) {
      *base = b;
      *digits_start = pos + 2;
      return end;
    }
  }
  if (src_[pos] != '0') return MatchDigits(pos);
  size_t end = pos + 1;  // "0", "00", "0_0": Jinja2 reads "007" as 0 followed by 7
  while (end < src_.size() && (src_[end] == '0' || (src_[end] == '_' && At(end + 1, "0")))) ++end;
  return end;
}

void Lexer::LexNumber() {
  auto strip = [](std::string_view s) {
    std::string out;
    for (char c : s) {
      if (c != '_') out += c;
    }
    return out;
  };
  if (size_t end = MatchFloat(pos_)) {
    Emit(TokenType::kFloat, src_.substr(pos_, end - pos_));
    tokens_.back().float_value = std::strtod(strip(tokens_.back().text).c_str(), nullptr);
    Advance(end);
    return;
  }
  int base;
  size_t start;
  size_t end = MatchInt(pos_, &base, &start);
  std::string digits = strip(std::string_view(src_).substr(start, end - start));
  errno = 0;
  long long v = std::strtoll(digits.c_str(), nullptr, base);
  if (errno == ERANGE) Fail("integer literal '" + digits + "' is too large");
  Emit(TokenType::kInt, src_.substr(pos_, end - pos_));
  tokens_.back().int_value = v;
  Advance(end);
}

// The character a one-letter escape stands for (\n, \t, ...); 0 when `e` is not one.
char SimpleEscape(char e) {
  static constexpr char kFrom[] = "\\'\"abfnrtv";
  static constexpr char kTo[] = "\\'\"\a\b\f\n\r\t\v";
  const char* hit = std::strchr(kFrom, e);
  return (e && hit) ? kTo[hit - kFrom] : 0;
}

// Python's unicode-escape decoding of a string literal's body (what Jinja2's lexer applies);
// unknown escapes stay as they are.
std::string Unescape(std::string_view body, int line) {
  std::string out;
  for (size_t i = 0; i < body.size(); ++i) {
    if (body[i] != '\\' || i + 1 >= body.size()) {
      out += body[i];
      continue;
    }
    char e = body[++i];
    auto hex = [&](size_t n) {
      std::string h(body.substr(i + 1, n));
      if (h.size() != n || h.find_first_not_of("0123456789abcdefABCDEF") != std::string::npos) {
        throw JinjaError(ErrorKind::kSyntax,
                         "truncated \\" + std::string(1, e) + " escape in string literal", line);
      }
      i += n;
      return static_cast<char32_t>(std::strtoul(h.c_str(), nullptr, 16));
    };
    if (e == '\n') continue;  // line continuation
    if (char simple = SimpleEscape(e)) {
      out += simple;
    } else if (e == 'x' || e == 'u' || e == 'U') {
      AppendUtf8(out, std::min<char32_t>(hex(e == 'x' ? 2 : (e == 'u' ? 4 : 8)), 0x10FFFF));
    } else if (e >= '0' && e <= '7') {
      char32_t v = e - '0';
      for (int k = 0; k < 2 && i + 1 < body.size() && body[i + 1] >= '0' && body[i + 1] <= '7';
           ++k) {
        v = v * 8 + (body[++i] - '0');
      }
      AppendUtf8(out, v);
    } else if (e == 'N') {
      throw JinjaError(ErrorKind::kSyntax, "\\N{...} escapes are not supported", line);
    } else {
      out += '\\';
      out += e;
    }
  }
  return out;
}

void Lexer::LexString() {
  char quote = src_[pos_];
  size_t i = pos_ + 1;
  while (i < src_.size() && src_[i] != quote) i += (src_[i] == '\\') ? 2 : 1;
  if (i >= src_.size()) Fail("unterminated string literal");
  Emit(TokenType::kString, Unescape(std::string_view(src_).substr(pos_ + 1, i - pos_ - 1), line_));
  Advance(i + 1);
}

void Lexer::LexOperator() {
  for (const char* op : kOperators) {
    if (!At(pos_, op)) continue;
    char c = op[0];
    if (op[1] == 0 && (c == '(' || c == '[' || c == '{')) {
      brackets_ += c == '(' ? ')' : (c == '[' ? ']' : '}');
    } else if (op[1] == 0 && (c == ')' || c == ']' || c == '}')) {
      if (brackets_.empty()) Fail(std::string("unexpected '") + c + "'");
      if (brackets_.back() != c) {
        Fail(std::string("unexpected '") + c + "', expected '" + brackets_.back() + "'");
      }
      brackets_.pop_back();
    }
    Emit(TokenType::kOp, op);
    Advance(pos_ + std::strlen(op));
    return;
  }
  std::string ch = src_.substr(pos_, ByteOffsetOfIndex(std::string_view(src_).substr(pos_), 1));
  Fail("unexpected character '" + ch + "' in tag");
}

}  // namespace

std::vector<Token> Tokenize(std::string_view source, const LexerOptions& options) {
  return Lexer(source, options).Run();
}

}  // namespace mle::text::jinja
