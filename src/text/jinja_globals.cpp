// Jinja tests (`x is name`) and global functions (see jinja_builtins.h), after
// jinja2/tests.py, jinja2/defaults.py and the sandbox's range limit; raise_exception and
// strftime_now are the two globals Hugging Face adds for chat templates.
#include <ctime>
#include <unordered_map>

#include "text/jinja_builtins.h"
#include "text/jinja_strutil.h"

namespace mle::text::jinja {
namespace {

// The sandbox refuses ranges longer than this (jinja2.sandbox.MAX_RANGE).
constexpr int64_t kMaxRange = 100000;

const Value& Arg(const CallArgs& args, const char* test) {
  if (args.args.empty()) ThrowRuntime(std::string(test) + "() missing required argument");
  return args.args[0];
}

bool TestDefined(Interpreter&, const Value& v, CallArgs&) {
  return !v.is_undefined();
}
bool TestUndefined(Interpreter&, const Value& v, CallArgs&) {
  return v.is_undefined();
}
bool TestNone(Interpreter&, const Value& v, CallArgs&) {
  return v.is_none();
}
bool TestBoolean(Interpreter&, const Value& v, CallArgs&) {
  return v.is_bool();
}
bool TestTrue(Interpreter&, const Value& v, CallArgs&) {
  return v.is_bool() && v.bool_value();
}
bool TestFalse(Interpreter&, const Value& v, CallArgs&) {
  return v.is_bool() && !v.bool_value();
}
bool TestInteger(Interpreter&, const Value& v, CallArgs&) {
  return v.is_int();
}
bool TestFloat(Interpreter&, const Value& v, CallArgs&) {
  return v.is_float();
}
bool TestNumber(Interpreter&, const Value& v, CallArgs&) {
  return v.is_number();
}
bool TestString(Interpreter&, const Value& v, CallArgs&) {
  return v.is_string();
}
bool TestMapping(Interpreter&, const Value& v, CallArgs&) {
  return v.is_dict();
}
bool TestCallable(Interpreter&, const Value& v, CallArgs&) {
  return v.is_callable();
}
bool TestEscaped(Interpreter&, const Value&, CallArgs&) {
  return false;
}

// Python: iter(v) works. Undefined is iterable (empty).
bool TestIterable(Interpreter&, const Value& v, CallArgs&) {
  return v.is_undefined() || v.is_string() || v.is_list() || v.is_dict();
}

// Python: len(v) and v.__getitem__ work.
bool TestSequence(Interpreter&, const Value& v, CallArgs&) {
  return v.is_undefined() || v.is_string() || v.is_list() || v.is_dict();
}

bool TestLower(Interpreter&, const Value& v, CallArgs&) {
  return PyIsLower(ToStr(v));
}
bool TestUpper(Interpreter&, const Value& v, CallArgs&) {
  return PyIsUpper(ToStr(v));
}

bool TestOdd(Interpreter& in, const Value& v, CallArgs&) {
  return Equals(ApplyBinary(in, BinOp::kMod, v, Value::Int(2)), Value::Int(1));
}
bool TestEven(Interpreter& in, const Value& v, CallArgs&) {
  return Equals(ApplyBinary(in, BinOp::kMod, v, Value::Int(2)), Value::Int(0));
}
bool TestDivisibleBy(Interpreter& in, const Value& v, CallArgs& args) {
  return Equals(ApplyBinary(in, BinOp::kMod, v, Arg(args, "divisibleby")), Value::Int(0));
}

bool TestEq(Interpreter&, const Value& v, CallArgs& a) {
  return Equals(v, Arg(a, "eq"));
}
bool TestNe(Interpreter&, const Value& v, CallArgs& a) {
  return !Equals(v, Arg(a, "ne"));
}
bool TestLt(Interpreter&, const Value& v, CallArgs& a) {
  return Compare(v, Arg(a, "lt")) < 0;
}
bool TestLe(Interpreter&, const Value& v, CallArgs& a) {
  return Compare(v, Arg(a, "le")) <= 0;
}
bool TestGt(Interpreter&, const Value& v, CallArgs& a) {
  return Compare(v, Arg(a, "gt")) > 0;
}
bool TestGe(Interpreter&, const Value& v, CallArgs& a) {
  return Compare(v, Arg(a, "ge")) >= 0;
}
bool TestIn(Interpreter&, const Value& v, CallArgs& a) {
  return Contains(Arg(a, "in"), v);
}

// Python's `is`: identity for containers, equality of type and value for scalars.
bool TestSameAs(Interpreter&, const Value& v, CallArgs& args) {
  const Value& other = Arg(args, "sameas");
  if (v.kind() != other.kind()) return false;
  switch (v.kind()) {
    case Value::Kind::kList:
      return v.list_ptr() == other.list_ptr();
    case Value::Kind::kDict:
      return v.dict_ptr() == other.dict_ptr();
    case Value::Kind::kNamespace:
      return v.ns_ptr() == other.ns_ptr();
    case Value::Kind::kCallable:
      return &v.callable() == &other.callable();
    default:
      return Equals(v, other);
  }
}

bool TestFilter(Interpreter&, const Value& v, CallArgs&) {
  return v.is_string() && FindFilter(v.str()) != nullptr;
}
bool TestTest(Interpreter&, const Value& v, CallArgs&) {
  return v.is_string() && FindTest(v.str()) != nullptr;
}

Value GlobalRange(Interpreter&, CallArgs& args) {
  if (!args.kwargs.empty()) ThrowRuntime("range() takes no keyword arguments");
  if (args.args.empty() || args.args.size() > 3) {
    ThrowRuntime("range expected 1 to 3 arguments, got " + std::to_string(args.args.size()));
  }
  int64_t p[3] = {0, 0, 1};
  for (size_t i = 0; i < args.args.size(); ++i) {
    const Value& a = args.args[i];
    if (a.is_undefined()) ThrowUndefined(a);
    if (!a.is_int() && !a.is_bool()) {
      ThrowRuntime("'" + TypeName(a) + "' object cannot be interpreted as an integer");
    }
    p[args.args.size() == 1 ? 1 : i] = a.AsInt();
  }
  int64_t start = p[0], stop = p[1], step = p[2];
  if (step == 0) ThrowRuntime("range() arg 3 must not be zero");
  __int128 span = step > 0 ? (__int128)stop - start : (__int128)start - stop;
  __int128 count =
      span <= 0 ? 0 : (span + (step > 0 ? step : -step) - 1) / (step > 0 ? step : -step);
  if (count > kMaxRange) {
    ThrowRuntime("Range too big. The sandbox blocks ranges larger than MAX_RANGE (100000).");
  }
  std::vector<Value> out;
  for (int64_t i = 0; i < static_cast<int64_t>(count); ++i)
    out.push_back(Value::Int(start + i * step));
  return Value::MakeList(std::move(out));
}

// Python's dict(mapping_or_pairs, **kwargs); namespace() takes the same arguments.
Value BuildDict(Interpreter& in, CallArgs& args, const char* fn) {
  if (args.args.size() > 1) {
    ThrowRuntime(std::string(fn) + " expected at most 1 argument, got " +
                 std::to_string(args.args.size()));
  }
  Value d = Value::MakeDict();
  if (!args.args.empty()) {
    const Value& src = args.args[0];
    if (src.is_dict()) {
      for (const auto& [k, v] : src.dict().entries()) d.dict().Set(k, v);
    } else {
      for (const Value& pair : in.Iterate(src)) {
        std::vector<Value> kv = pair.is_list() ? pair.list().items : in.Iterate(pair);
        if (kv.size() != 2) ThrowRuntime("dictionary update sequence element has wrong length");
        d.dict().Set(kv[0], kv[1]);
      }
    }
  }
  for (const auto& [k, v] : args.kwargs) d.dict().Set(Value::Str(k), v);
  return d;
}

Value GlobalNamespace(Interpreter& in, CallArgs& args) {
  auto ns = std::make_shared<Namespace>();
  ns->attrs = BuildDict(in, args, "namespace").dict();
  return Value::FromNamespace(std::move(ns));
}

Value GlobalRaiseException(Interpreter&, CallArgs& args) {
  std::string msg = args.args.empty() ? "" : ToStr(args.args[0]);
  throw JinjaError(ErrorKind::kRaised, msg);
}

// datetime.now().strftime(fmt) with the configured clock. %f (microseconds) is Python's own.
Value GlobalStrftimeNow(Interpreter& in, CallArgs& args) {
  ArgBinder b("strftime_now", args, {"format"}, 1);
  if (!b[0].is_string()) ThrowRuntime("strftime() argument 1 must be str, not " + TypeName(b[0]));
  std::tm tm{};
  if (in.config().now) {
    tm = *in.config().now;
    std::tm copy = tm;
    std::mktime(&copy);  // fills in the weekday and day of the year
    tm.tm_wday = copy.tm_wday;
    tm.tm_yday = copy.tm_yday;
  } else {
    std::time_t t = std::time(nullptr);
    localtime_r(&t, &tm);
  }
  std::string fmt = PyReplace(b[0].str(), "%f", "000000", -1);
  std::string out;
  for (size_t cap = 64; cap <= 65536; cap *= 4) {
    std::string buf(cap, '\0');
    std::string f = fmt + "\x01";  // so that an empty result is not mistaken for an error
    size_t n = std::strftime(buf.data(), cap, f.c_str(), &tm);
    if (n > 0) return Value::Str(buf.substr(0, n - 1));
  }
  ThrowRuntime("strftime_now(): format too long");
}

Value GlobalJoiner(Interpreter&, CallArgs& args) {
  ArgBinder b("joiner", args, {"sep"});
  std::string sep = b.has(0) ? ToStr(b[0]) : ", ";
  auto used = std::make_shared<bool>(false);
  return Value::FromCallable("joiner", [sep, used](Interpreter&, CallArgs&) {
    if (!*used) {
      *used = true;
      return Value::Str("");
    }
    return Value::Str(sep);
  });
}

// cycler(*items): .next() returns the items in turn, .current the one next() returns next,
// .reset() starts over.
Value GlobalCycler(Interpreter&, CallArgs& args) {
  if (args.args.empty()) ThrowRuntime("at least one item has to be provided");
  auto ns = std::make_shared<Namespace>();
  std::vector<Value> items = args.args;
  std::weak_ptr<Namespace> weak = ns;
  auto pos = std::make_shared<size_t>(0);
  ns->attrs.Set(Value::Str("current"), items[0]);
  ns->attrs.Set(Value::Str("next"),
                Value::FromCallable("next", [items, pos, weak](Interpreter&, CallArgs&) {
                  Value rv = items[*pos];
                  *pos = (*pos + 1) % items.size();
                  if (auto n = weak.lock()) n->attrs.Set(Value::Str("current"), items[*pos]);
                  return rv;
                }));
  ns->attrs.Set(Value::Str("reset"),
                Value::FromCallable("reset", [items, pos, weak](Interpreter&, CallArgs&) {
                  *pos = 0;
                  if (auto n = weak.lock()) n->attrs.Set(Value::Str("current"), items[0]);
                  return Value::None();
                }));
  return Value::FromNamespace(std::move(ns));
}

}  // namespace

TestFn FindTest(std::string_view name) {
  static const std::unordered_map<std::string_view, TestFn> kTests = {
      {"boolean", TestBoolean},
      {"callable", TestCallable},
      {"defined", TestDefined},
      {"divisibleby", TestDivisibleBy},
      {"eq", TestEq},
      {"equalto", TestEq},
      {"==", TestEq},
      {"escaped", TestEscaped},
      {"even", TestEven},
      {"false", TestFalse},
      {"filter", TestFilter},
      {"float", TestFloat},
      {"ge", TestGe},
      {">=", TestGe},
      {"gt", TestGt},
      {"greaterthan", TestGt},
      {">", TestGt},
      {"in", TestIn},
      {"integer", TestInteger},
      {"iterable", TestIterable},
      {"le", TestLe},
      {"<=", TestLe},
      {"lower", TestLower},
      {"lt", TestLt},
      {"lessthan", TestLt},
      {"<", TestLt},
      {"mapping", TestMapping},
      {"ne", TestNe},
      {"!=", TestNe},
      {"none", TestNone},
      {"number", TestNumber},
      {"odd", TestOdd},
      {"sameas", TestSameAs},
      {"sequence", TestSequence},
      {"string", TestString},
      {"test", TestTest},
      {"true", TestTrue},
      {"undefined", TestUndefined},
      {"upper", TestUpper},
  };
  auto it = kTests.find(name);
  return it == kTests.end() ? nullptr : it->second;
}

void DefineGlobals(Scope& scope) {
  scope.Set("range", Value::FromCallable("range", GlobalRange));
  scope.Set("dict", Value::FromCallable("dict", [](Interpreter& in, CallArgs& args) {
              return BuildDict(in, args, "dict");
            }));
  scope.Set("namespace", Value::FromCallable("namespace", GlobalNamespace));
  scope.Set("cycler", Value::FromCallable("cycler", GlobalCycler));
  scope.Set("joiner", Value::FromCallable("joiner", GlobalJoiner));
  scope.Set("raise_exception", Value::FromCallable("raise_exception", GlobalRaiseException));
  scope.Set("strftime_now", Value::FromCallable("strftime_now", GlobalStrftimeNow));
}

}  // namespace mle::text::jinja
