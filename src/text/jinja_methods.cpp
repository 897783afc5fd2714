// Methods of str, list and dict values (`s.strip()`, `d.get(k)`, `l.index(x)`), with Python's
// semantics. Mutating list/dict methods exist only when RenderConfig::allow_mutation is on;
// otherwise, as in Jinja2's ImmutableSandboxedEnvironment, looking one up gives an undefined
// value whose use raises "access to attribute 'append' of 'list' object is unsafe.".
#include <algorithm>
#include <set>

#include "text/jinja_builtins.h"
#include "text/jinja_strutil.h"

namespace mle::text::jinja {
namespace {

const std::set<std::string, std::less<>> kStrMethods = {
    "capitalize",   "casefold",   "center",    "count",      "endswith",   "find",
    "format",       "format_map", "index",     "isalnum",    "isalpha",    "isdecimal",
    "isdigit",      "islower",    "isnumeric", "isspace",    "istitle",    "isupper",
    "join",         "ljust",      "lower",     "lstrip",     "partition",  "removeprefix",
    "removesuffix", "replace",    "rfind",     "rindex",     "rjust",      "rpartition",
    "rsplit",       "rstrip",     "split",     "splitlines", "startswith", "strip",
    "swapcase",     "title",      "upper",     "zfill"};
const std::set<std::string, std::less<>> kListMethods = {"copy", "count", "index"};
const std::set<std::string, std::less<>> kListMutators = {"append", "clear",  "extend",  "insert",
                                                          "pop",    "remove", "reverse", "sort"};
const std::set<std::string, std::less<>> kDictMethods = {"copy", "get", "items", "keys", "values"};
const std::set<std::string, std::less<>> kDictMutators = {"clear", "pop", "popitem", "setdefault",
                                                          "update"};

std::optional<int64_t> OptIndex(const ArgBinder& b, size_t i) {
  if (!b.has(i) || b[i].is_none()) return std::nullopt;
  return b.integer(i, 0);
}

// startswith/endswith accept a str or a tuple of str.
bool AffixMatch(const std::string& s, const Value& affix, bool prefix, const ArgBinder& b,
                const std::string& name) {
  std::vector<Value> options = affix.is_tuple() ? affix.list().items : std::vector<Value>{affix};
  std::optional<int64_t> start = OptIndex(b, 1), end = OptIndex(b, 2);
  int64_t length = CodePointCount(s);
  if (start && *start > length) return false;
  ClampSliceBounds(length, &start, &end);
  size_t bb = ByteOffsetOfIndex(s, *start);
  std::string window = *start <= *end ? s.substr(bb, ByteOffsetOfIndex(s, *end) - bb) : "";
  for (const Value& o : options) {
    if (!o.is_string()) {
      ThrowRuntime(name + " first arg must be str or a tuple of str, not " + TypeName(o));
    }
    const std::string& a = o.str();
    if (a.size() > window.size()) continue;
    if (prefix ? window.compare(0, a.size(), a) == 0
               : window.compare(window.size() - a.size(), a.size(), a) == 0) {
      return true;
    }
  }
  return false;
}

Value StrList(const std::vector<std::string>& parts) {
  std::vector<Value> out;
  out.reserve(parts.size());
  for (const std::string& p : parts) out.push_back(Value::Str(p));
  return Value::MakeList(std::move(out));
}

std::string Pad(const std::string& s, int64_t width, const Value& fill, int align) {
  std::string f = fill.is_string() ? fill.str() : " ";
  if (CodePointCount(f) != 1) ThrowRuntime("The fill character must be exactly one character long");
  int64_t marg = width - CodePointCount(s);
  if (marg <= 0) return s;
  int64_t left = align < 0 ? 0 : (align > 0 ? marg : marg / 2 + (marg & width & 1));
  std::string out;
  for (int64_t i = 0; i < left; ++i) out += f;
  out += s;
  for (int64_t i = 0; i < marg - left; ++i) out += f;
  return out;
}

bool AllChars(const std::string& s, bool (*pred)(char32_t)) {
  std::u32string u = DecodeUtf8(s);
  return !u.empty() && std::all_of(u.begin(), u.end(), pred);
}

bool IsDigitChar(char32_t c) {
  return (c >= '0' && c <= '9') || (c >= 0xFF10 && c <= 0xFF19);
}
bool IsAlphaChar(char32_t c) {
  return IsWordChar(c) && !IsDigitChar(c) && c != '_';
}
bool IsAlnumChar(char32_t c) {
  return IsWordChar(c) && c != '_';
}

Value Partition(const std::string& s, const std::string& sep, bool reverse) {
  if (sep.empty()) ThrowRuntime("empty separator");
  size_t pos = reverse ? s.rfind(sep) : s.find(sep);
  if (pos == std::string::npos) {
    return reverse ? Value::MakeTuple({Value::Str(""), Value::Str(""), Value::Str(s)})
                   : Value::MakeTuple({Value::Str(s), Value::Str(""), Value::Str("")});
  }
  return Value::MakeTuple(
      {Value::Str(s.substr(0, pos)), Value::Str(sep), Value::Str(s.substr(pos + sep.size()))});
}

Value StringMethodCase(const std::string& s, const std::string& name, CallArgs& args) {
  ArgBinder b(name, args, {});
  if (name == "upper") return Value::Str(PyUpper(s));
  if (name == "lower" || name == "casefold") return Value::Str(PyLower(s));
  if (name == "title") return Value::Str(PyTitle(s));
  if (name == "capitalize") return Value::Str(PyCapitalize(s));
  if (name == "swapcase") return Value::Str(PySwapCase(s));
  if (name == "isupper") return Value::Bool(PyIsUpper(s));
  if (name == "islower") return Value::Bool(PyIsLower(s));
  if (name == "istitle") return Value::Bool(!s.empty() && PyTitle(s) == s && PyIsUpper(PyUpper(s)));
  if (name == "isspace") return Value::Bool(AllChars(s, IsPySpace));
  if (name == "isdigit" || name == "isdecimal" || name == "isnumeric") {
    return Value::Bool(AllChars(s, IsDigitChar));
  }
  if (name == "isalpha") return Value::Bool(AllChars(s, IsAlphaChar));
  return Value::Bool(AllChars(s, IsAlnumChar));  // isalnum
}

// strip, split, splitlines, partition, startswith/endswith.
std::optional<Value> StringMethodSplit(const std::string& s, const std::string& name,
                                       CallArgs& args) {
  if (name == "strip" || name == "lstrip" || name == "rstrip") {
    ArgBinder b(name, args, {"chars"});
    return Value::Str(PyStrip(s, b.opt_string(0), name != "rstrip", name != "lstrip"));
  }
  if (name == "split" || name == "rsplit") {
    ArgBinder b(name, args, {"sep", "maxsplit"});
    std::optional<std::string> sep = b.opt_string(0);
    if (sep && sep->empty()) ThrowRuntime("empty separator");
    int64_t maxsplit = b.integer(1, -1);
    return StrList(name == "split" ? PySplit(s, sep, maxsplit) : PyRSplit(s, sep, maxsplit));
  }
  if (name == "splitlines") {
    ArgBinder b(name, args, {"keepends"});
    return StrList(PySplitLines(s, b.flag(0, false)));
  }
  if (name == "partition" || name == "rpartition") {
    ArgBinder b(name, args, {"sep"}, 1);
    return Partition(s, ToStr(b[0]), name == "rpartition");
  }
  if (name == "startswith" || name == "endswith") {
    ArgBinder b(name, args, {"prefix", "start", "end"}, 1);
    return Value::Bool(AffixMatch(s, b[0], name == "startswith", b, name));
  }
  return std::nullopt;
}

// replace, find/rfind/index/rindex, count, removeprefix/removesuffix.
std::optional<Value> StringMethodSearch(Interpreter& in, const std::string& s,
                                        const std::string& name, CallArgs& args) {
  if (name == "replace") {
    ArgBinder b(name, args, {"old", "new", "count"}, 2);
    if (!b[0].is_string() || !b[1].is_string()) ThrowRuntime("replace() arguments must be str");
    std::string out = PyReplace(s, b[0].str(), b[1].str(), b.integer(2, -1));
    in.CheckSize(out.size());
    return Value::Str(std::move(out));
  }
  if (name == "find" || name == "rfind" || name == "index" || name == "rindex" || name == "count") {
    ArgBinder b(name, args, {"sub", "start", "end"}, 1);
    if (!b[0].is_string()) ThrowRuntime("must be str, not " + TypeName(b[0]));
    if (name == "count") return Value::Int(PyCount(s, b[0].str(), OptIndex(b, 1), OptIndex(b, 2)));
    int64_t pos = PyFind(s, b[0].str(), OptIndex(b, 1), OptIndex(b, 2), name[0] == 'r');
    if (pos < 0 && name.find("index") != std::string::npos) ThrowRuntime("substring not found");
    return Value::Int(pos);
  }
  if (name == "removeprefix" || name == "removesuffix") {
    ArgBinder b(name, args, {"affix"}, 1);
    std::string a = ToStr(b[0]);
    bool prefix = name == "removeprefix";
    if (s.size() >= a.size() && s.compare(prefix ? 0 : s.size() - a.size(), a.size(), a) == 0) {
      return Value::Str(prefix ? s.substr(a.size()) : s.substr(0, s.size() - a.size()));
    }
    return Value::Str(s);
  }
  return std::nullopt;
}

// format, format_map, join, center/ljust/rjust, zfill.
std::optional<Value> StringMethodBuild(Interpreter& in, const std::string& s,
                                       const std::string& name, CallArgs& args) {
  if (name == "format") return Value::Str(PyFormat(in, s, args));
  if (name == "format_map") {
    ArgBinder b(name, args, {"mapping"}, 1);
    CallArgs kw;
    if (!b[0].is_dict()) ThrowRuntime("format_map() argument must be a mapping");
    for (const auto& [k, v] : b[0].dict().entries()) kw.kwargs.emplace_back(ToStr(k), v);
    return Value::Str(PyFormat(in, s, kw));
  }
  if (name == "join") {
    ArgBinder b(name, args, {"iterable"}, 1);
    std::string out;
    size_t i = 0;
    for (const Value& item : in.Iterate(b[0])) {
      if (!item.is_string()) {
        ThrowRuntime("sequence item " + std::to_string(i) + ": expected str instance, " +
                     TypeName(item) + " found");
      }
      if (i++) out += s;
      out += item.str();
      in.CheckSize(out.size());
    }
    return Value::Str(std::move(out));
  }
  if (name != "center" && name != "ljust" && name != "rjust" && name != "zfill") {
    return std::nullopt;
  }
  ArgBinder b(name, args, {"width", "fillchar"}, 1);
  int64_t width = b.integer(0, 0);
  in.CheckSize(static_cast<size_t>(std::max<int64_t>(width, 0)));
  if (name != "zfill") {
    int align = name == "center" ? 0 : (name == "ljust" ? -1 : 1);
    return Value::Str(Pad(s, width, b.get(1, Value::Str(" ")), align));
  }
  int64_t fill = width - CodePointCount(s);
  if (fill <= 0) return Value::Str(s);
  size_t sign = (!s.empty() && (s[0] == '+' || s[0] == '-')) ? 1 : 0;
  return Value::Str(s.substr(0, sign) + std::string(fill, '0') + s.substr(sign));
}

Value CallStringMethod(Interpreter& in, const std::string& s, const std::string& name,
                       CallArgs& args) {
  if (auto v = StringMethodSplit(s, name, args)) return *v;
  if (auto v = StringMethodSearch(in, s, name, args)) return *v;
  if (auto v = StringMethodBuild(in, s, name, args)) return *v;
  return StringMethodCase(s, name, args);
}

Value ListMutate(Interpreter& in, std::vector<Value>& items, const std::string& name,
                 CallArgs& args);
Value DictMutate(Dict& d, const std::string& name, CallArgs& args);

Value CallListMethod(Interpreter& in, const Value& obj, const std::string& name, CallArgs& args) {
  std::vector<Value>& items = obj.list().items;
  if (name == "copy") return Value::MakeList(items);
  if (name == "count") {
    ArgBinder b(name, args, {"value"}, 1);
    return Value::Int(
        std::count_if(items.begin(), items.end(), [&](const Value& v) { return Equals(v, b[0]); }));
  }
  if (name == "index") {
    ArgBinder b(name, args, {"value", "start", "stop"}, 1);
    int64_t n = static_cast<int64_t>(items.size());
    std::optional<int64_t> start = OptIndex(b, 1), stop = OptIndex(b, 2);
    ClampSliceBounds(n, &start, &stop);
    for (int64_t i = *start; i < *stop; ++i) {
      if (Equals(items[i], b[0])) return Value::Int(i);
    }
    ThrowRuntime(Repr(b[0]) + " is not in list");
  }
  return ListMutate(in, items, name, args);
}

// The mutating list methods (only reachable with RenderConfig::allow_mutation).
Value ListMutate(Interpreter& in, std::vector<Value>& items, const std::string& name,
                 CallArgs& args) {
  if (name == "append") {
    ArgBinder b(name, args, {"object"}, 1);
    in.CheckSize(items.size() + 1);
    items.push_back(b[0]);
  } else if (name == "extend") {
    ArgBinder b(name, args, {"iterable"}, 1);
    std::vector<Value> more = in.Iterate(b[0]);
    in.CheckSize(items.size() + more.size());
    items.insert(items.end(), more.begin(), more.end());
  } else if (name == "insert") {
    ArgBinder b(name, args, {"index", "object"}, 2);
    int64_t n = static_cast<int64_t>(items.size()), i = b.integer(0, 0);
    i = std::clamp<int64_t>(i < 0 ? i + n : i, 0, n);
    items.insert(items.begin() + i, b[1]);
  } else if (name == "pop") {
    ArgBinder b(name, args, {"index"});
    int64_t n = static_cast<int64_t>(items.size()), i = b.integer(0, -1);
    if (n == 0) ThrowRuntime("pop from empty list");
    if (i < 0) i += n;
    if (i < 0 || i >= n) ThrowRuntime("pop index out of range");
    Value v = items[i];
    items.erase(items.begin() + i);
    return v;
  } else if (name == "remove") {
    ArgBinder b(name, args, {"value"}, 1);
    auto it =
        std::find_if(items.begin(), items.end(), [&](const Value& v) { return Equals(v, b[0]); });
    if (it == items.end()) ThrowRuntime("list.remove(x): x not in list");
    items.erase(it);
  } else if (name == "clear") {
    items.clear();
  } else if (name == "reverse") {
    std::reverse(items.begin(), items.end());
  } else if (name == "sort") {
    ArgBinder b(name, args, {"key", "reverse"});
    if (b.has(0) && !b[0].is_none()) ThrowRuntime("list.sort(key=...) is not supported");
    bool rev = b.flag(1, false);
    std::stable_sort(items.begin(), items.end(), [rev](const Value& x, const Value& y) {
      return rev ? Compare(y, x) < 0 : Compare(x, y) < 0;
    });
  }
  return Value::None();
}

Value CallDictMethod(Interpreter&, const Value& obj, const std::string& name, CallArgs& args) {
  Dict& d = obj.dict();
  if (name == "get") {
    ArgBinder b(name, args, {"key", "default"}, 1);
    const Value* v = d.Find(b[0]);
    return v ? *v : b.get(1, Value::None());
  }
  std::vector<Value> out;
  if (name == "items" || name == "keys" || name == "values") {
    ArgBinder b(name, args, {});
    for (const auto& [k, v] : d.entries()) {
      out.push_back(name == "items" ? Value::MakeTuple({k, v}) : (name == "keys" ? k : v));
    }
    return Value::MakeList(std::move(out));
  }
  if (name == "copy") {
    Value c = Value::MakeDict();
    c.dict() = d;
    return c;
  }
  return DictMutate(d, name, args);
}

// The mutating dict methods (only reachable with RenderConfig::allow_mutation).
Value DictMutate(Dict& d, const std::string& name, CallArgs& args) {
  if (name == "pop" || name == "setdefault") {
    ArgBinder b(name, args, {"key", "default"}, 1);
    if (const Value* v = d.Find(b[0])) {
      Value rv = *v;
      if (name == "pop") d.Erase(b[0]);
      return rv;
    }
    if (name == "setdefault") {
      d.Set(b[0], b.get(1, Value::None()));
      return b.get(1, Value::None());
    }
    if (!b.has(1)) ThrowRuntime("KeyError: " + Repr(b[0]));
    return b[1];
  }
  if (name == "popitem") {
    if (d.size() == 0) ThrowRuntime("popitem(): dictionary is empty");
    auto [k, v] = d.entries().back();
    d.entries().pop_back();
    return Value::MakeTuple({k, v});
  }
  if (name == "update") {
    if (args.args.size() > 1) ThrowRuntime("update expected at most 1 argument");
    if (!args.args.empty()) {
      const Value& other = args.args[0];
      if (!other.is_dict()) ThrowRuntime("update() argument must be a mapping");
      for (const auto& [k, v] : other.dict().entries()) d.Set(k, v);
    }
    for (const auto& [k, v] : args.kwargs) d.Set(Value::Str(k), v);
    return Value::None();
  }
  d.entries().clear();  // clear
  return Value::None();
}

Value Unsafe(const Value& obj, const std::string& name) {
  return Value::Undefined("access to attribute '" + name + "' of '" + TypeName(obj) +
                          "' object is unsafe.");
}

}  // namespace

std::optional<Value> FindMethod(Interpreter& in, const Value& obj, const std::string& name) {
  if (obj.is_string()) {
    if (!kStrMethods.count(name)) return std::nullopt;
    return Value::FromCallable(name, [s = obj.str(), name](Interpreter& i, CallArgs& args) {
      return CallStringMethod(i, s, name, args);
    });
  }
  bool is_list = obj.is_list(), is_dict = obj.is_dict();
  if (!is_list && !is_dict) return std::nullopt;
  const auto& safe = is_list ? kListMethods : kDictMethods;
  const auto& mutators = is_list ? kListMutators : kDictMutators;
  bool mutator = mutators.count(name) > 0 && !obj.is_tuple();
  bool known = safe.count(name) > 0 && !(obj.is_tuple() && name == "copy");
  if (!known && !mutator) return std::nullopt;
  if (mutator && !in.config().allow_mutation) return Unsafe(obj, name);
  return Value::FromCallable(name, [obj, name, is_list](Interpreter& i, CallArgs& args) {
    return is_list ? CallListMethod(i, obj, name, args) : CallDictMethod(i, obj, name, args);
  });
}

}  // namespace mle::text::jinja
