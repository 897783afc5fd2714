// Python's str.format (fields, conversions, the format-spec mini-language) and printf-style
// `%` formatting, for Jinja values (see jinja_builtins.h). Floats go through the C library's
// correctly rounded printf, which agrees with Python's digits.
#include <cmath>
#include <cstdio>
#include <cstring>
#include <optional>

#include "text/jinja_builtins.h"
#include "text/jinja_strutil.h"

namespace mle::text::jinja {
namespace {

struct Spec {
  std::string fill = " ";
  char align = 0;  // < > ^ =
  char sign = '-';
  bool alt = false;
  char grouping = 0;  // , or _
  int64_t width = -1;
  int64_t precision = -1;
  char type = 0;
};

bool IsDigit(char c) {
  return c >= '0' && c <= '9';
}

int64_t ReadNumber(std::string_view s, size_t* i) {
  int64_t n = 0;
  while (*i < s.size() && IsDigit(s[*i])) {
    n = std::min<int64_t>(n * 10 + (s[*i] - '0'), 1 << 24);
    ++*i;
  }
  return n;
}

Spec ParseSpec(std::string_view s) {
  Spec spec;
  size_t i = 0;
  auto is_align = [](char c) { return c == '<' || c == '>' || c == '^' || c == '='; };
  size_t first_len = s.empty() ? 0 : ByteOffsetOfIndex(s, 1);
  if (s.size() > first_len && is_align(s[first_len])) {
    spec.fill = std::string(s.substr(0, first_len));
    spec.align = s[first_len];
    i = first_len + 1;
  } else if (!s.empty() && is_align(s[0])) {
    spec.align = s[0];
    i = 1;
  }
  if (i < s.size() && (s[i] == '+' || s[i] == '-' || s[i] == ' ')) spec.sign = s[i++];
  if (i < s.size() && s[i] == '#') spec.alt = true, ++i;
  if (i < s.size() && s[i] == '0') {
    if (!spec.align) spec.fill = "0", spec.align = '=';
    ++i;
  }
  if (i < s.size() && IsDigit(s[i])) spec.width = ReadNumber(s, &i);
  if (i < s.size() && (s[i] == ',' || s[i] == '_')) spec.grouping = s[i++];
  if (i < s.size() && s[i] == '.') {
    ++i;
    if (i >= s.size() || !IsDigit(s[i])) ThrowRuntime("Format specifier missing precision");
    spec.precision = ReadNumber(s, &i);
  }
  if (i < s.size()) spec.type = s[i++];
  if (i != s.size()) ThrowRuntime("Invalid format specifier '" + std::string(s) + "'");
  return spec;
}

void Group(std::string& digits, char sep, size_t every) {
  size_t end = digits.find_first_not_of("0123456789abcdefABCDEF");
  if (end == std::string::npos) end = digits.size();
  for (int64_t pos = static_cast<int64_t>(end) - static_cast<int64_t>(every); pos > 0;
       pos -= static_cast<int64_t>(every)) {
    digits.insert(static_cast<size_t>(pos), 1, sep);
  }
}

std::string IntBody(int64_t i, char type, bool alt, bool* negative) {
  *negative = i < 0;
  uint64_t u = *negative ? 0 - static_cast<uint64_t>(i) : static_cast<uint64_t>(i);
  char buf[80];
  if (type == 'x' || type == 'X' || type == 'o') {
    std::snprintf(buf, sizeof(buf), type == 'x' ? "%llx" : (type == 'X' ? "%llX" : "%llo"),
                  static_cast<unsigned long long>(u));
    std::string prefix = alt ? (type == 'o' ? "0o" : (type == 'x' ? "0x" : "0X")) : "";
    return prefix + buf;
  }
  if (type == 'b') {
    std::string bits;
    do bits.insert(bits.begin(), static_cast<char>('0' + (u & 1)));
    while (u >>= 1);
    return (alt ? "0b" : "") + bits;
  }
  if (type == 'c') {
    std::string s;
    AppendUtf8(s, static_cast<char32_t>(u));
    return s;
  }
  if (type && type != 'd' && type != 'n') {
    ThrowRuntime(std::string("Unknown format code '") + type + "' for object of type 'int'");
  }
  std::snprintf(buf, sizeof(buf), "%llu", static_cast<unsigned long long>(u));
  return buf;
}

std::string FloatBody(double d, char type, int64_t precision, bool alt, bool* negative) {
  *negative = std::signbit(d) && !std::isnan(d);
  d = std::fabs(d);
  if (type && !std::strchr("eEfFgGn%", type)) {
    ThrowRuntime(std::string("Unknown format code '") + type + "' for object of type 'float'");
  }
  if (std::isinf(d) || std::isnan(d)) {
    std::string s = std::isinf(d) ? "inf" : "nan";
    bool upper = type == 'E' || type == 'F' || type == 'G';
    return upper ? PyUpper(s) : s + (type == '%' ? "%" : "");
  }
  if (!type && precision < 0) return FormatFloat(d);
  char buf[512];
  int p = static_cast<int>(std::min<int64_t>(precision < 0 ? 6 : precision, 300));
  char t = type ? type : 'g';
  if (t == '%') d *= 100, t = 'f';
  if (t == 'n') t = 'g';
  std::string f = std::string("%") + (alt ? "#" : "") + ".*" + t;
  std::snprintf(buf, sizeof(buf), f.c_str(), p, d);
  std::string s = buf;
  if (!type && s.find_first_of(".en") == std::string::npos) s += ".0";
  if (type == '%') s += "%";
  return s;
}

// The digits of a number in a given presentation type, without sign or padding.
std::string NumberBody(const Value& v, char type, int64_t precision, bool alt, bool* negative) {
  bool as_float = v.is_float() || (type && std::strchr("eEfFgG%", type));
  if (as_float) return FloatBody(v.AsDouble(), type, precision, alt, negative);
  return IntBody(v.AsInt(), type, alt, negative);
}

std::string PadTo(const std::string& body, const Spec& spec, char default_align, size_t sign_len) {
  int64_t len = CodePointCount(body);
  if (spec.width <= len) return body;
  int64_t pad = spec.width - len;
  char align = spec.align ? spec.align : default_align;
  auto fill = [&](int64_t n) {
    std::string out;
    for (int64_t i = 0; i < n; ++i) out += spec.fill;
    return out;
  };
  if (align == '<') return body + fill(pad);
  if (align == '^') return fill(pad / 2) + body + fill(pad - pad / 2);
  if (align == '=') return body.substr(0, sign_len) + fill(pad) + body.substr(sign_len);
  return fill(pad) + body;
}

std::string FormatSpec(const Value& v, std::string_view spec_text) {
  if (spec_text.empty() && !(v.is_number() && !v.is_bool())) return ToStr(v);
  Spec spec = ParseSpec(spec_text);
  if (v.is_string() || v.is_undefined()) {
    if (spec.type && spec.type != 's') {
      ThrowRuntime(std::string("Unknown format code '") + spec.type + "' for object of type 'str'");
    }
    if (spec.align == '=') ThrowRuntime("'=' alignment not allowed in string format specifier");
    std::string s = ToStr(v);
    if (spec.precision >= 0) s = s.substr(0, ByteOffsetOfIndex(s, spec.precision));
    return PadTo(s, spec, '<', 0);
  }
  if (!v.is_number()) {
    ThrowRuntime("unsupported format string passed to " + TypeName(v) + ".__format__");
  }
  bool negative = false;
  std::string body = NumberBody(v, spec.type, spec.precision, spec.alt, &negative);
  if (spec.grouping) {
    bool binary_like = spec.type == 'b' || spec.type == 'o' || spec.type == 'x' || spec.type == 'X';
    if (!binary_like) Group(body, spec.grouping, 3);
  }
  std::string sign = negative ? "-" : (spec.sign == '+' ? "+" : (spec.sign == ' ' ? " " : ""));
  return PadTo(sign + body, spec, '>', sign.size());
}

// Looks up "0.name[key]" / "name" / "" among the arguments.
Value ResolveField(Interpreter& in, std::string_view field, const CallArgs& args, int* auto_idx) {
  size_t end = field.find_first_of(".[");
  std::string_view head = field.substr(0, end);
  Value v;
  bool numeric = !head.empty() && head.find_first_not_of("0123456789") == std::string_view::npos;
  if (head.empty() || numeric) {
    if (head.empty() && *auto_idx < 0) {
      ThrowRuntime("cannot switch from manual field specification to automatic field numbering");
    }
    if (!head.empty() && *auto_idx > 0) {
      ThrowRuntime("cannot switch from automatic field numbering to manual field specification");
    }
    size_t idx = head.empty() ? static_cast<size_t>((*auto_idx)++)
                              : std::strtoull(std::string(head).c_str(), nullptr, 10);
    if (!head.empty()) *auto_idx = -1;
    if (idx >= args.args.size()) {
      ThrowRuntime("Replacement index " + std::to_string(idx) +
                   " out of range for positional args tuple");
    }
    v = args.args[idx];
  } else {
    bool found = false;
    for (const auto& [k, val] : args.kwargs) {
      if (k == head) v = val, found = true;
    }
    if (!found) ThrowRuntime("KeyError: '" + std::string(head) + "'");
  }
  while (end != std::string_view::npos && end < field.size()) {
    if (v.is_undefined()) ThrowUndefined(v);
    if (field[end] == '.') {
      size_t next = field.find_first_of(".[", end + 1);
      v = in.GetAttr(v, std::string(field.substr(end + 1, next - end - 1)));
      end = next;
    } else {
      size_t close = field.find(']', end);
      if (close == std::string_view::npos) ThrowRuntime("Missing ']' in format string");
      std::string key(field.substr(end + 1, close - end - 1));
      bool digits = !key.empty() && key.find_first_not_of("0123456789") == std::string::npos;
      v = in.GetItem(v,
                     digits ? Value::Int(std::strtoll(key.c_str(), nullptr, 10)) : Value::Str(key));
      end = close + 1;
    }
  }
  return v;
}

// One replacement field "{name!c:spec}" starting at fmt[open].
struct Field {
  std::string_view name;
  char conversion = 0;
  std::string_view spec;
  size_t end = 0;  // index of the closing brace
};

Field ScanField(std::string_view fmt, size_t open) {
  size_t j = open + 1, conv = std::string_view::npos, colon = std::string_view::npos;
  int depth = 1, bracket = 0;
  for (; j < fmt.size(); ++j) {
    char d = fmt[j];
    bracket += (d == '[') - (d == ']');
    bool top = bracket == 0 && colon == std::string_view::npos;
    if (top && conv == std::string_view::npos && d == '!') conv = j;
    if (top && d == ':') colon = j;
    depth += (d == '{') - (d == '}');
    if (d == '}' && depth == 0) break;
  }
  if (j >= fmt.size()) ThrowRuntime("expected '}' before end of string");
  Field f;
  f.end = j;
  f.name = fmt.substr(open + 1, std::min({conv, colon, j}) - open - 1);
  if (conv != std::string_view::npos) f.conversion = conv + 1 < j ? fmt[conv + 1] : '?';
  if (colon != std::string_view::npos) f.spec = fmt.substr(colon + 1, j - colon - 1);
  return f;
}

// One printf-style conversion "%(key)-08.3f" after its '%': fills spec and type, and the
// mapping key (empty optional when none) ; `*i` ends on the type character.
std::optional<std::string_view> ParsePercentSpec(std::string_view fmt, size_t* i, Spec* spec) {
  std::optional<std::string_view> key;
  if (fmt[*i] == '(') {
    size_t close = fmt.find(')', *i);
    if (close == std::string_view::npos) ThrowRuntime("incomplete format key");
    key = fmt.substr(*i + 1, close - *i - 1);
    *i = close + 1;
  }
  for (; *i < fmt.size() && std::strchr("-+ #0", fmt[*i]); ++*i) {
    char f = fmt[*i];
    if (f == '-') spec->align = '<';
    if (f == '+' || (f == ' ' && spec->sign != '+')) spec->sign = f;
    if (f == '#') spec->alt = true;
    if (f == '0' && spec->align != '<') spec->fill = "0", spec->align = '=';
  }
  if (*i < fmt.size() && IsDigit(fmt[*i])) spec->width = ReadNumber(fmt, i);
  if (*i < fmt.size() && fmt[*i] == '.') {
    ++*i;
    spec->precision = ReadNumber(fmt, i);
  }
  while (*i < fmt.size() && std::strchr("hlL", fmt[*i])) ++*i;
  if (*i >= fmt.size()) ThrowRuntime("incomplete format");
  return key;
}

std::string PercentOne(Value v, char type, Spec spec) {
  if (type == 's' || type == 'r' || type == 'a') {
    std::string s = type == 's' ? ToStr(v) : Repr(v);
    if (spec.precision >= 0) s = s.substr(0, ByteOffsetOfIndex(s, spec.precision));
    if (spec.align == '=') spec.fill = " ", spec.align = 0;
    return PadTo(s, spec, '>', 0);
  }
  if (type == 'c' && v.is_string()) {
    if (CodePointCount(v.str()) != 1) ThrowRuntime("%c requires int or char");
    return PadTo(v.str(), spec, '>', 0);
  }
  if (!std::strchr("diufFeEgGxXoc", type)) {
    ThrowRuntime(std::string("unsupported format character '") + type + "'");
  }
  if (!v.is_number()) {
    ThrowRuntime(std::string("%") + type + " format: a real number is required, not " +
                 TypeName(v));
  }
  if (type == 'i' || type == 'u') type = 'd';
  if (std::strchr("dxXoc", type) && v.is_float()) {
    v = Value::Int(static_cast<int64_t>(v.float_value()));
  }
  bool negative = false;
  std::string body = NumberBody(v, type, spec.precision, spec.alt, &negative);
  std::string sign = negative ? "-" : (spec.sign == '+' ? "+" : (spec.sign == ' ' ? " " : ""));
  return PadTo(sign + body, spec, '>', sign.size());
}

}  // namespace

std::string PyFormat(Interpreter& in, std::string_view fmt, const CallArgs& args) {
  std::string out;
  int auto_idx = 0;
  for (size_t i = 0; i < fmt.size(); ++i) {
    char c = fmt[i];
    if (c == '}') {
      if (i + 1 < fmt.size() && fmt[i + 1] == '}') {
        out += '}';
        ++i;
        continue;
      }
      ThrowRuntime("Single '}' encountered in format string");
    }
    if (c != '{') {
      out += c;
      continue;
    }
    if (i + 1 < fmt.size() && fmt[i + 1] == '{') {
      out += '{';
      ++i;
      continue;
    }
    Field field = ScanField(fmt, i);
    Value v = ResolveField(in, field.name, args, &auto_idx);
    if (field.conversion == 'r' || field.conversion == 'a') {
      v = Value::Str(Repr(v));
    } else if (field.conversion == 's') {
      v = Value::Str(ToStr(v));
    } else if (field.conversion) {
      ThrowRuntime("Unknown conversion specifier " + std::string(1, field.conversion));
    }
    std::string spec(field.spec);
    if (spec.find('{') != std::string::npos) spec = PyFormat(in, spec, args);
    out += FormatSpec(v, spec);
    in.CheckSize(out.size());
    i = field.end;
  }
  return out;
}

std::string PercentFormat(std::string_view fmt, const Value& args) {
  std::vector<Value> positional = args.is_tuple() ? args.list().items : std::vector<Value>{args};
  size_t next = 0;
  std::string out;
  for (size_t i = 0; i < fmt.size(); ++i) {
    if (fmt[i] != '%') {
      out += fmt[i];
      continue;
    }
    if (++i >= fmt.size()) ThrowRuntime("incomplete format");
    Spec spec;
    std::optional<std::string_view> key = ParsePercentSpec(fmt, &i, &spec);
    if (fmt[i] == '%') {
      out += '%';
      continue;
    }
    Value v;
    if (key) {
      if (!args.is_dict()) ThrowRuntime("format requires a mapping");
      const Value* found = args.dict().FindStr(*key);
      if (!found) ThrowRuntime("KeyError: '" + std::string(*key) + "'");
      v = *found;
    } else {
      if (next >= positional.size()) ThrowRuntime("not enough arguments for format string");
      v = positional[next++];
    }
    out += PercentOne(std::move(v), fmt[i], spec);
  }
  if (next < positional.size() && !args.is_dict()) {
    ThrowRuntime("not all arguments converted during string formatting");
  }
  return out;
}

}  // namespace mle::text::jinja
