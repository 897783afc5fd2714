// The library a Jinja template can call: filters (`x|name`), tests (`x is name`), global
// functions, and the methods of str, list and dict values (`s.split()`), each with the
// semantics and error messages of Jinja2 3.1 and Python. Also Python's str.format and
// printf-style `%` formatting, json.dumps (HF's tojson), and ArgBinder, which binds call
// arguments to a Python-style signature. Internal to src/text.
#pragma once

#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "text/jinja_interp.h"
#include "text/jinja_value.h"

namespace mle::text::jinja {

using FilterFn = Value (*)(Interpreter&, const Value& operand, CallArgs& args);
using TestFn = bool (*)(Interpreter&, const Value& operand, CallArgs& args);

// nullptr when there is no filter/test of that name.
FilterFn FindFilter(std::string_view name);
TestFn FindTest(std::string_view name);

// The sequence filters (jinja_filters_seq.cpp), merged into FindFilter's table.
std::vector<std::pair<const char*, FilterFn>> SequenceFilters();

// Defines range, dict, namespace, cycler, joiner, raise_exception and strftime_now.
void DefineGlobals(Scope& scope);

// A bound method of a str, list or dict value; for an unsafe (mutating) method while
// mutation is off, an undefined whose use raises the sandbox's error; nullopt when `obj` has
// no such method.
std::optional<Value> FindMethod(Interpreter& in, const Value& obj, const std::string& name);

// Python's fmt.format(*args, **kwargs).
std::string PyFormat(Interpreter& in, std::string_view fmt, const CallArgs& args);
// Python's fmt % args (args: a tuple, a dict for %(name)s, or one value).
std::string PercentFormat(std::string_view fmt, const Value& args);

struct JsonDumpOptions {
  std::optional<std::string> indent;  // each level's indentation; empty optional: one line
  std::string item_separator = ", ";
  std::string key_separator = ": ";
  bool sort_keys = false;
  bool ensure_ascii = false;
};
// Python's json.dumps. Throws for values JSON cannot hold (undefined, callables).
std::string JsonDumps(const Value& v, const JsonDumpOptions& options);
// JSON to a value: objects become dicts in member order, integers ints (past int64: floats).
// Throws a runtime error for nesting deeper than 512 levels.
Value ValueFromJson(const nlohmann::ordered_json& j, int depth = 0);

// Binds a call's arguments to a signature given as parameter names in order; reports
// Python's errors for too many arguments, unknown or repeated keywords and missing
// required parameters (the first `n_required`).
class ArgBinder {
 public:
  ArgBinder(std::string_view fn, const CallArgs& args, std::initializer_list<const char*> names,
            size_t n_required = 0);
  bool has(size_t i) const { return given_[i]; }
  // The argument, or undefined when it was not given.
  const Value& operator[](size_t i) const { return values_[i]; }
  Value get(size_t i, Value fallback) const { return given_[i] ? values_[i] : fallback; }
  // Python truthiness of the argument, `fallback` when absent.
  bool flag(size_t i, bool fallback) const { return given_[i] ? Truthy(values_[i]) : fallback; }
  // An int argument (bool accepted, as in Python); throws a TypeError otherwise.
  int64_t integer(size_t i, int64_t fallback) const;
  // A str argument or None (nullopt); throws a TypeError otherwise.
  std::optional<std::string> opt_string(size_t i) const;

 private:
  std::string fn_;
  std::vector<const char*> names_;
  std::vector<Value> values_;
  std::vector<bool> given_;
};

// Python's int(str, base) and float(str); nullopt where Python raises ValueError.
std::optional<int64_t> ParsePyInt(std::string_view s, int base);
std::optional<double> ParsePyFloat(std::string_view s);

// The getter behind map(attribute=), selectattr, sort(attribute=) etc.: "a.b.0" looks up
// each part with getitem (digits as ints). With a default, an undefined step yields it.
Value GetAttributePath(Interpreter& in, const Value& item, const Value& path,
                       const Value* fallback);

}  // namespace mle::text::jinja
