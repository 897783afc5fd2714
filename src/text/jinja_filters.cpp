// Jinja filters on strings and numbers, the filter registry and argument binding (see
// jinja_builtins.h). Each filter follows jinja2/filters.py 3.1; tojson is the one Hugging
// Face installs (json.dumps with ensure_ascii=False, indent, separators, sort_keys).
#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <unordered_map>

#include "text/jinja_builtins.h"
#include "text/jinja_strutil.h"

namespace mle::text::jinja {

ArgBinder::ArgBinder(std::string_view fn, const CallArgs& args,
                     std::initializer_list<const char*> names, size_t n_required)
    : fn_(fn), names_(names), values_(names.size()), given_(names.size(), false) {
  if (args.args.size() > names_.size()) {
    ThrowRuntime(fn_ + "() takes at most " + std::to_string(names_.size()) + " argument(s) (" +
                 std::to_string(args.args.size()) + " given)");
  }
  for (size_t i = 0; i < args.args.size(); ++i) {
    values_[i] = args.args[i];
    given_[i] = true;
  }
  for (const auto& [name, v] : args.kwargs) {
    size_t i = 0;
    while (i < names_.size() && name != names_[i]) ++i;
    if (i == names_.size()) {
      ThrowRuntime(fn_ + "() got an unexpected keyword argument '" + name + "'");
    }
    if (given_[i]) ThrowRuntime(fn_ + "() got multiple values for argument '" + name + "'");
    values_[i] = v;
    given_[i] = true;
  }
  for (size_t i = 0; i < n_required && i < names_.size(); ++i) {
    if (!given_[i]) ThrowRuntime(fn_ + "() missing required argument '" + names_[i] + "'");
  }
}

int64_t ArgBinder::integer(size_t i, int64_t fallback) const {
  if (!given_[i]) return fallback;
  const Value& v = values_[i];
  if (v.is_int() || v.is_bool()) return v.AsInt();
  if (v.is_undefined()) ThrowUndefined(v);
  ThrowRuntime(fn_ + "(): '" + TypeName(v) + "' object cannot be interpreted as an integer");
}

std::optional<std::string> ArgBinder::opt_string(size_t i) const {
  if (!given_[i] || values_[i].is_none()) return std::nullopt;
  if (values_[i].is_string()) return values_[i].str();
  if (values_[i].is_undefined()) ThrowUndefined(values_[i]);
  ThrowRuntime(fn_ + "() argument must be str or None, not " + TypeName(values_[i]));
}

namespace {

// Removes Python's digit-group underscores ("1_000"); nullopt when one is misplaced.
std::optional<std::string> StripUnderscores(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '_') {
      out += s[i];
      continue;
    }
    bool ok = i > 0 && i + 1 < s.size() && std::isalnum(static_cast<unsigned char>(s[i - 1])) &&
              std::isalnum(static_cast<unsigned char>(s[i + 1]));
    if (!ok) return std::nullopt;
  }
  return out;
}

}  // namespace

std::optional<int64_t> ParsePyInt(std::string_view s, int base) {
  std::string t = PyStrip(s, std::nullopt, true, true);
  size_t i = 0;
  bool neg = false;
  if (i < t.size() && (t[i] == '+' || t[i] == '-')) neg = t[i++] == '-';
  std::string body = t.substr(i);
  if (body.size() > 2 && body[0] == '0') {
    char p = static_cast<char>(std::tolower(static_cast<unsigned char>(body[1])));
    if ((p == 'x' && base == 16) || (p == 'o' && base == 8) || (p == 'b' && base == 2)) {
      body = body.substr(body[2] == '_' ? 3 : 2);
    }
  }
  std::optional<std::string> digits = StripUnderscores(body);
  if (!digits || digits->empty() || base < 2 || base > 36 ||
      !std::isalnum(static_cast<unsigned char>((*digits)[0]))) {
    return std::nullopt;
  }
  errno = 0;
  char* end = nullptr;
  long long v = std::strtoll(digits->c_str(), &end, base);
  if (*end != 0 || errno == ERANGE || (*digits)[0] == '+' || (*digits)[0] == '-') {
    return std::nullopt;
  }
  return neg ? -v : v;
}

std::optional<double> ParsePyFloat(std::string_view s) {
  std::string t = PyLower(PyStrip(s, std::nullopt, true, true));
  std::string_view body = t;
  if (!body.empty() && (body[0] == '+' || body[0] == '-')) body.remove_prefix(1);
  if (body == "inf" || body == "infinity" || body == "nan") {
    return std::strtod(t.c_str(), nullptr);
  }
  std::optional<std::string> clean = StripUnderscores(t);
  if (!clean || clean->empty()) return std::nullopt;
  // Python's grammar: sign? (digits (. digits?)? | . digits) (e sign? digits)?
  size_t i = 0, n = clean->size(), n_digits = 0;
  const std::string& c = *clean;
  if (c[i] == '+' || c[i] == '-') ++i;
  while (i < n && std::isdigit(static_cast<unsigned char>(c[i]))) ++i, ++n_digits;
  if (i < n && c[i] == '.') {
    ++i;
    while (i < n && std::isdigit(static_cast<unsigned char>(c[i]))) ++i, ++n_digits;
  }
  if (n_digits == 0) return std::nullopt;
  if (i < n && c[i] == 'e') {
    ++i;
    if (i < n && (c[i] == '+' || c[i] == '-')) ++i;
    size_t e_start = i;
    while (i < n && std::isdigit(static_cast<unsigned char>(c[i]))) ++i;
    if (i == e_start) return std::nullopt;
  }
  if (i != n) return std::nullopt;
  return std::strtod(c.c_str(), nullptr);
}

Value GetAttributePath(Interpreter& in, const Value& item, const Value& path,
                       const Value* fallback) {
  std::vector<Value> parts;
  if (path.is_string()) {
    for (const std::string& p : PySplit(path.str(), std::string("."), -1)) {
      bool digits = !p.empty() && p.find_first_not_of("0123456789") == std::string::npos;
      parts.push_back(digits ? Value::Int(std::strtoll(p.c_str(), nullptr, 10)) : Value::Str(p));
    }
  } else if (!path.is_none()) {
    parts.push_back(path);
  }
  Value v = item;
  for (const Value& part : parts) {
    if (v.is_undefined()) ThrowUndefined(v);
    v = in.GetItem(v, part);
    if (fallback && !fallback->is_none() && v.is_undefined()) v = *fallback;
  }
  return v;
}

namespace {

std::string Str(const Value& v) {
  return ToStr(v);
}

Value FilterDefault(Interpreter&, const Value& v, CallArgs& args) {
  ArgBinder b("default", args, {"default_value", "boolean"});
  if (v.is_undefined() || (b.flag(1, false) && !Truthy(v))) {
    return b.get(0, Value::Str(""));
  }
  return v;
}

Value FilterString(Interpreter&, const Value& v, CallArgs& args) {
  ArgBinder b("string", args, {});
  return Value::Str(Str(v));
}

Value FilterUpper(Interpreter&, const Value& v, CallArgs& args) {
  ArgBinder b("upper", args, {});
  return Value::Str(PyUpper(Str(v)));
}

Value FilterLower(Interpreter&, const Value& v, CallArgs& args) {
  ArgBinder b("lower", args, {});
  return Value::Str(PyLower(Str(v)));
}

Value FilterCapitalize(Interpreter&, const Value& v, CallArgs& args) {
  ArgBinder b("capitalize", args, {});
  return Value::Str(PyCapitalize(Str(v)));
}

// Jinja's title: a word starts after '-', '(', '{', '[', '<' or whitespace.
Value FilterTitle(Interpreter&, const Value& v, CallArgs& args) {
  ArgBinder b("title", args, {});
  std::u32string out;
  bool at_start = true;
  for (char32_t c : DecodeUtf8(Str(v))) {
    bool delim = c == '-' || c == '(' || c == '{' || c == '[' || c == '<' || IsPySpace(c);
    if (delim) {
      out += c;
      at_start = true;
    } else {
      out += at_start ? UpperChar(c) : LowerChar(c);
      at_start = false;
    }
  }
  return Value::Str(EncodeUtf8(out));
}

Value FilterTrim(Interpreter&, const Value& v, CallArgs& args) {
  ArgBinder b("trim", args, {"chars"});
  return Value::Str(PyStrip(Str(v), b.opt_string(0), true, true));
}

Value FilterReplace(Interpreter& in, const Value& v, CallArgs& args) {
  ArgBinder b("replace", args, {"old", "new", "count"}, 2);
  int64_t count = b.has(2) && !b[2].is_none() ? b.integer(2, -1) : -1;
  std::string out = PyReplace(Str(v), Str(b[0]), Str(b[1]), count);
  in.CheckSize(out.size());
  return Value::Str(std::move(out));
}

Value FilterEscape(Interpreter&, const Value& v, CallArgs& args) {
  ArgBinder b("escape", args, {});
  return Value::Str(HtmlEscape(Str(v)));
}

Value FilterSafe(Interpreter&, const Value& v, CallArgs& args) {
  ArgBinder b("safe", args, {});
  return v.is_string() ? v : Value::Str(Str(v));
}

Value FilterIndent(Interpreter&, const Value& v, CallArgs& args) {
  ArgBinder b("indent", args, {"width", "first", "blank"});
  if (v.is_undefined()) ThrowUndefined(v);
  if (!v.is_string()) {
    ThrowRuntime("unsupported operand type(s) for +=: '" + TypeName(v) + "' and 'str'");
  }
  std::string pad = b.has(0) && b[0].is_string()
                        ? b[0].str()
                        : std::string(std::max<int64_t>(0, b.integer(0, 4)), ' ');
  std::vector<std::string> lines = PySplitLines(v.str() + "\n", false);
  std::string rv;
  if (b.flag(2, false)) {
    for (size_t i = 0; i < lines.size(); ++i) rv += (i ? "\n" + pad : "") + lines[i];
  } else {
    rv = lines.empty() ? "" : lines[0];
    for (size_t i = 1; i < lines.size(); ++i) {
      rv += "\n" + (lines[i].empty() ? lines[i] : pad + lines[i]);
    }
  }
  if (b.flag(1, false)) rv = pad + rv;
  return Value::Str(std::move(rv));
}

Value FilterCenter(Interpreter&, const Value& v, CallArgs& args) {
  ArgBinder b("center", args, {"width"});
  std::string s = Str(v);
  int64_t width = b.integer(0, 80), len = CodePointCount(s);
  int64_t marg = width - len;
  if (marg <= 0) return Value::Str(s);
  int64_t left = marg / 2 + (marg & width & 1);
  return Value::Str(std::string(left, ' ') + s + std::string(marg - left, ' '));
}

Value FilterTruncate(Interpreter&, const Value& v, CallArgs& args) {
  ArgBinder b("truncate", args, {"length", "killwords", "end", "leeway"});
  std::string s = Str(v);
  int64_t length = b.integer(0, 255), leeway = b.has(3) ? b.integer(3, 5) : 5;
  std::string end = b.has(2) ? Str(b[2]) : "...";
  int64_t n_end = CodePointCount(end);
  if (length < n_end) ThrowRuntime("expected length >= " + std::to_string(n_end));
  if (leeway < 0) ThrowRuntime("expected leeway >= 0");
  if (CodePointCount(s) <= length + leeway) return Value::Str(s);
  std::string head = s.substr(0, ByteOffsetOfIndex(s, length - n_end));
  if (b.flag(1, false)) return Value::Str(head + end);
  return Value::Str(PyRSplit(head, std::string(" "), 1)[0] + end);
}

Value FilterWordcount(Interpreter&, const Value& v, CallArgs& args) {
  ArgBinder b("wordcount", args, {});
  int64_t n = 0;
  bool in_word = false;
  for (char32_t c : DecodeUtf8(Str(v))) {
    bool w = IsWordChar(c);
    if (w && !in_word) ++n;
    in_word = w;
  }
  return Value::Int(n);
}

Value FilterFormat(Interpreter&, const Value& v, CallArgs& args) {
  if (!args.args.empty() && !args.kwargs.empty()) {
    ThrowRuntime("can't handle positional and keyword arguments at the same time");
  }
  Value params;
  if (!args.kwargs.empty()) {
    params = Value::MakeDict();
    for (const auto& [k, val] : args.kwargs) params.dict().Set(Value::Str(k), val);
  } else {
    params = Value::MakeTuple(args.args);
  }
  return Value::Str(PercentFormat(Str(v), params));
}

Value FilterInt(Interpreter&, const Value& v, CallArgs& args) {
  ArgBinder b("int", args, {"default", "base"});
  Value fallback = b.get(0, Value::Int(0));
  if (v.is_undefined()) ThrowUndefined(v);
  if (v.is_int() || v.is_bool()) return Value::Int(v.AsInt());
  if (v.is_float()) {
    double d = v.float_value();
    if (std::isfinite(d) && std::fabs(d) < 9.2e18) return Value::Int(static_cast<int64_t>(d));
    return fallback;
  }
  if (v.is_string()) {
    if (auto i = ParsePyInt(v.str(), static_cast<int>(b.integer(1, 10)))) return Value::Int(*i);
    if (auto d = ParsePyFloat(v.str()); d && std::isfinite(*d) && std::fabs(*d) < 9.2e18) {
      return Value::Int(static_cast<int64_t>(*d));
    }
  }
  return fallback;
}

Value FilterFloat(Interpreter&, const Value& v, CallArgs& args) {
  ArgBinder b("float", args, {"default"});
  if (v.is_undefined()) ThrowUndefined(v);
  if (v.is_number()) return Value::Float(v.AsDouble());
  if (v.is_string()) {
    if (auto d = ParsePyFloat(v.str())) return Value::Float(*d);
  }
  return b.get(0, Value::Float(0.0));
}

Value FilterAbs(Interpreter&, const Value& v, CallArgs& args) {
  ArgBinder b("abs", args, {});
  if (v.is_undefined()) ThrowUndefined(v);
  if (v.is_float()) return Value::Float(std::fabs(v.float_value()));
  if (v.is_int() || v.is_bool()) {
    int64_t i = v.AsInt();
    if (i == INT64_MIN) ThrowRuntime("integer overflow");
    return Value::Int(i < 0 ? -i : i);
  }
  ThrowRuntime("bad operand type for abs(): '" + TypeName(v) + "'");
}

// Python's round(x, n): correctly rounded, ties to even (printf rounds the exact binary value
// the same way).
double PyRound(double x, int64_t n) {
  if (!std::isfinite(x) || n > 300) return x;
  if (n >= 0) {
    char buf[512];
    std::snprintf(buf, sizeof(buf), "%.*f", static_cast<int>(n), x);
    return std::strtod(buf, nullptr);
  }
  double scale = std::pow(10.0, static_cast<double>(-n));
  return std::nearbyint(x / scale) * scale;
}

Value FilterRound(Interpreter&, const Value& v, CallArgs& args) {
  ArgBinder b("round", args, {"precision", "method"});
  int64_t precision = b.integer(0, 0);
  std::string method = b.has(1) ? Str(b[1]) : "common";
  if (method != "common" && method != "ceil" && method != "floor") {
    ThrowRuntime("method must be common, ceil or floor");
  }
  if (v.is_undefined()) ThrowUndefined(v);
  if (!v.is_number()) ThrowRuntime("type " + TypeName(v) + " doesn't define __round__ method");
  if (method == "common") {
    if (!v.is_float()) {
      if (precision >= 0) return Value::Int(v.AsInt());
      return Value::Int(static_cast<int64_t>(PyRound(v.AsDouble(), precision)));
    }
    return Value::Float(PyRound(v.float_value(), precision));
  }
  double scale = std::pow(10.0, static_cast<double>(precision));
  double scaled = v.AsDouble() * scale;
  return Value::Float((method == "ceil" ? std::ceil(scaled) : std::floor(scaled)) / scale);
}

Value FilterAttr(Interpreter& in, const Value& v, CallArgs& args) {
  ArgBinder b("attr", args, {"name"}, 1);
  std::string name = Str(b[0]);
  if (v.is_undefined()) ThrowUndefined(v);
  if (std::optional<Value> method = FindMethod(in, v, name)) return *method;
  if (v.is_namespace()) {
    if (const Value* a = v.ns().attrs.FindStr(name)) return *a;
  }
  return Value::Undefined("'" + TypeName(v) + " object' has no attribute '" + name + "'");
}

Value FilterToJson(Interpreter& in, const Value& v, CallArgs& args) {
  ArgBinder b("tojson", args, {"ensure_ascii", "indent", "separators", "sort_keys"});
  JsonDumpOptions o;
  o.ensure_ascii = b.flag(0, false);
  o.sort_keys = b.flag(3, false);
  if (b.has(1) && !b[1].is_none()) {
    o.indent =
        b[1].is_string() ? b[1].str() : std::string(std::max<int64_t>(0, b.integer(1, 0)), ' ');
    o.item_separator = ",";
  }
  if (b.has(2) && !b[2].is_none()) {
    const Value& sep = b[2];
    if (!sep.is_list() || sep.list().items.size() != 2 || !sep.list().items[0].is_string() ||
        !sep.list().items[1].is_string()) {
      ThrowRuntime("tojson(): separators must be a pair of strings");
    }
    o.item_separator = sep.list().items[0].str();
    o.key_separator = sep.list().items[1].str();
  }
  std::string out = JsonDumps(v, o);
  in.CheckSize(out.size());
  return Value::Str(std::move(out));
}

const std::unordered_map<std::string_view, FilterFn>& FilterTable() {
  static const auto* table = [] {
    auto* t = new std::unordered_map<std::string_view, FilterFn>{
        {"abs", FilterAbs},
        {"attr", FilterAttr},
        {"capitalize", FilterCapitalize},
        {"center", FilterCenter},
        {"d", FilterDefault},
        {"default", FilterDefault},
        {"e", FilterEscape},
        {"escape", FilterEscape},
        {"float", FilterFloat},
        {"forceescape", FilterEscape},
        {"format", FilterFormat},
        {"indent", FilterIndent},
        {"int", FilterInt},
        {"lower", FilterLower},
        {"replace", FilterReplace},
        {"round", FilterRound},
        {"safe", FilterSafe},
        {"string", FilterString},
        {"title", FilterTitle},
        {"tojson", FilterToJson},
        {"trim", FilterTrim},
        {"truncate", FilterTruncate},
        {"upper", FilterUpper},
        {"wordcount", FilterWordcount},
    };
    for (const auto& [name, fn] : SequenceFilters()) t->emplace(name, fn);
    return t;
  }();
  return *table;
}

}  // namespace

FilterFn FindFilter(std::string_view name) {
  const auto& table = FilterTable();
  auto it = table.find(name);
  return it == table.end() ? nullptr : it->second;
}

}  // namespace mle::text::jinja
