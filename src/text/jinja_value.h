// Values of the Jinja interpreter, modelled on the Python objects Jinja2 works with: undefined
// (carrying the message of the error raised when it is used), None, bool, int (64-bit;
// overflow is an error, not a bigint), float, str (UTF-8), list/tuple, insertion-ordered dict,
// callables and namespaces; lists, dicts and namespaces are shared by reference as in Python.
// Also JinjaError (thrown inside, a Status outside) and Python's str/repr/==/<. Internal.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace mle::text::jinja {

class Value;
class Interpreter;
struct List;
class Dict;
struct Namespace;
struct Callable;
using ListPtr = std::shared_ptr<List>;
using DictPtr = std::shared_ptr<Dict>;
using CallablePtr = std::shared_ptr<Callable>;
using NamespacePtr = std::shared_ptr<Namespace>;

struct CallArgs {
  std::vector<Value> args;
  std::vector<std::pair<std::string, Value>> kwargs;
};

using NativeFn = std::function<Value(Interpreter&, CallArgs&)>;

struct UndefinedInfo {
  std::string hint;  // e.g. "'foo' is undefined"
};

class Value {
 public:
  enum class Kind {
    kUndefined,
    kNone,
    kBool,
    kInt,
    kFloat,
    kString,
    kList,
    kDict,
    kCallable,
    kNamespace
  };

  Value() = default;  // undefined, without a hint
  static Value Undefined(std::string hint) { return Value(UndefinedInfo{std::move(hint)}); }
  static Value None() { return Value(nullptr); }
  static Value Bool(bool b) { return Value(b); }
  static Value Int(int64_t i) { return Value(i); }
  static Value Float(double d) { return Value(d); }
  static Value Str(std::string s) { return Value(std::move(s)); }
  static Value MakeList(std::vector<Value> items = {});
  static Value MakeTuple(std::vector<Value> items);
  static Value MakeDict();
  static Value FromCallable(std::string name, NativeFn fn, bool is_macro = false);
  static Value FromNamespace(NamespacePtr ns);

  Kind kind() const { return static_cast<Kind>(v_.index()); }
  bool is_undefined() const { return kind() == Kind::kUndefined; }
  bool is_none() const { return kind() == Kind::kNone; }
  bool is_bool() const { return kind() == Kind::kBool; }
  bool is_int() const { return kind() == Kind::kInt; }
  bool is_float() const { return kind() == Kind::kFloat; }
  // int, float or bool (Python's bool is an int).
  bool is_number() const { return is_int() || is_float() || is_bool(); }
  bool is_string() const { return kind() == Kind::kString; }
  bool is_list() const { return kind() == Kind::kList; }  // list or tuple
  bool is_tuple() const;
  bool is_dict() const { return kind() == Kind::kDict; }
  bool is_callable() const;
  bool is_namespace() const { return kind() == Kind::kNamespace; }

  bool bool_value() const { return std::get<bool>(v_); }
  int64_t int_value() const { return std::get<int64_t>(v_); }
  double float_value() const { return std::get<double>(v_); }
  // int, float or bool as a double. REQUIRES: is_number().
  double AsDouble() const;
  // int or bool as an int. REQUIRES: is_int() || is_bool().
  int64_t AsInt() const { return is_bool() ? (bool_value() ? 1 : 0) : int_value(); }
  const std::string& str() const { return std::get<std::string>(v_); }
  List& list() const { return *std::get<ListPtr>(v_); }
  const ListPtr& list_ptr() const { return std::get<ListPtr>(v_); }
  Dict& dict() const { return *std::get<DictPtr>(v_); }
  const DictPtr& dict_ptr() const { return std::get<DictPtr>(v_); }
  const Callable& callable() const;
  Namespace& ns() const { return *std::get<NamespacePtr>(v_); }
  const NamespacePtr& ns_ptr() const { return std::get<NamespacePtr>(v_); }
  const std::string& undefined_hint() const { return std::get<UndefinedInfo>(v_).hint; }

 private:
  explicit Value(UndefinedInfo u) : v_(std::move(u)) {}
  explicit Value(std::nullptr_t) : v_(nullptr) {}
  explicit Value(bool b) : v_(b) {}
  explicit Value(int64_t i) : v_(i) {}
  explicit Value(double d) : v_(d) {}
  explicit Value(std::string s) : v_(std::move(s)) {}
  explicit Value(ListPtr l) : v_(std::move(l)) {}
  explicit Value(DictPtr d) : v_(std::move(d)) {}
  explicit Value(CallablePtr c) : v_(std::move(c)) {}
  explicit Value(NamespacePtr n) : v_(std::move(n)) {}

  std::variant<UndefinedInfo, std::nullptr_t, bool, int64_t, double, std::string, ListPtr, DictPtr,
               CallablePtr, NamespacePtr>
      v_;
};

// Lists and dicts destroy their elements iteratively, so that deeply nested values cannot
// overflow the stack when they are freed.
struct List {
  List() = default;
  List(const List&) = default;
  List& operator=(const List&) = default;
  ~List();
  std::vector<Value> items;
  bool is_tuple = false;
};

// Insertion-ordered mapping with Python key equality (1 == 1.0 == True).
class Dict {
 public:
  Dict() = default;
  Dict(const Dict&) = default;
  Dict& operator=(const Dict&) = default;
  ~Dict();
  Value* Find(const Value& key);
  const Value* Find(const Value& key) const;
  const Value* FindStr(std::string_view key) const;
  void Set(Value key, Value value);
  bool Erase(const Value& key);
  size_t size() const { return entries_.size(); }
  const std::vector<std::pair<Value, Value>>& entries() const { return entries_; }
  std::vector<std::pair<Value, Value>>& entries() { return entries_; }

 private:
  std::vector<std::pair<Value, Value>> entries_;
};

struct Callable {
  std::string name;
  bool is_macro = false;
  NativeFn fn;
};

// namespace() objects, and the `loop` variable of for loops (is_loop; callable when the loop
// is recursive).
struct Namespace {
  Dict attrs;
  bool is_loop = false;
  std::shared_ptr<Callable> call;
};

inline bool Value::is_tuple() const {
  return is_list() && std::get<ListPtr>(v_)->is_tuple;
}

void RegisterInArena(const ListPtr& l, const DictPtr& d, const NamespacePtr& n,
                     const CallablePtr& c);

// Records every list, dict, namespace and callable made on this thread while it lives, and
// on destruction empties those still alive: that breaks reference cycles (a macro kept in the
// scope it captures, `ns.self = ns`) so that a render leaks nothing. Nests.
class ValueArena {
 public:
  ValueArena();
  ~ValueArena();
  ValueArena(const ValueArena&) = delete;
  ValueArena& operator=(const ValueArena&) = delete;

 private:
  struct State;
  std::unique_ptr<State> state_;
  ValueArena* previous_;
  friend void RegisterInArena(const ListPtr&, const DictPtr&, const NamespacePtr&,
                              const CallablePtr&);
};

// What went wrong, for the Status code the public API returns.
enum class ErrorKind { kSyntax, kRuntime, kRaised, kLimit };

// Thrown inside the interpreter; line 0 means "not known yet" (the evaluator fills in the line
// of the innermost node that was running).
class JinjaError : public std::exception {
 public:
  JinjaError(ErrorKind kind, std::string message, int line = 0)
      : kind_(kind), message_(std::move(message)), line_(line) {}
  const char* what() const noexcept override { return message_.c_str(); }
  ErrorKind kind() const { return kind_; }
  const std::string& message() const { return message_; }
  int line() const { return line_; }
  void set_line(int line) { line_ = line; }

 private:
  ErrorKind kind_;
  std::string message_;
  int line_;
};

[[noreturn]] void ThrowRuntime(std::string message);
// Throws the error that using `v` (undefined) raises.
[[noreturn]] void ThrowUndefined(const Value& v);

// Python's type(v).__name__ ("str", "int", "list", "dict", "NoneType", "Undefined", ...).
std::string TypeName(const Value& v);
// Python's str(v); undefined prints as "".
std::string ToStr(const Value& v);
// Python's repr(v).
std::string Repr(const Value& v);
// repr() of a float ("1.0", "0.1", "1e+16", "inf").
std::string FormatFloat(double d);
// repr() of a str (quotes chosen as Python does).
std::string ReprString(std::string_view s);
// Python's bool(v).
bool Truthy(const Value& v);
// Python's ==. Undefined equals only undefined; list never equals tuple.
bool Equals(const Value& a, const Value& b);
// Python's ordering for <, sort, min, max: -1, 0 or 1. Throws a TypeError-like error for
// values Python cannot order ("'<' not supported between instances of 'str' and 'int'").
int Compare(const Value& a, const Value& b);

}  // namespace mle::text::jinja
