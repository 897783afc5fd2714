// Jinja values and Python's str()/repr()/==/< on them (see jinja_value.h), and the arena and
// iterative destruction that keep cyclic and deeply nested values from leaking or crashing.
#include "text/jinja_value.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>

#include "text/jinja_strutil.h"

namespace mle::text::jinja {
namespace {

thread_local ValueArena* g_arena = nullptr;
thread_local std::vector<Value>* g_pending = nullptr;

// Destroys values without recursion: a list freed while another is being freed hands its
// elements to the outer loop instead of freeing them itself.
void DestroyIteratively(std::vector<Value>& values) {
  if (g_pending) {
    for (Value& v : values) g_pending->push_back(std::move(v));
    return;
  }
  std::vector<Value> pending = std::move(values);
  g_pending = &pending;
  while (!pending.empty()) {
    Value v = std::move(pending.back());
    pending.pop_back();
  }
  g_pending = nullptr;
}

}  // namespace

struct ValueArena::State {
  std::vector<std::weak_ptr<List>> lists;
  std::vector<std::weak_ptr<Dict>> dicts;
  std::vector<std::weak_ptr<Namespace>> namespaces;
  std::vector<std::weak_ptr<Callable>> callables;
};

ValueArena::ValueArena() : state_(std::make_unique<State>()), previous_(g_arena) {
  g_arena = this;
}

ValueArena::~ValueArena() {
  g_arena = previous_;
  std::vector<Value> graveyard;
  std::vector<NativeFn> dead_fns;
  std::vector<std::shared_ptr<Callable>> dead_calls;
  for (auto& w : state_->lists) {
    if (auto l = w.lock()) {
      for (Value& v : l->items) graveyard.push_back(std::move(v));
      l->items.clear();
    }
  }
  auto drain = [&](Dict& d) {
    for (auto& [k, v] : d.entries()) {
      graveyard.push_back(std::move(k));
      graveyard.push_back(std::move(v));
    }
    d.entries().clear();
  };
  for (auto& w : state_->dicts) {
    if (auto d = w.lock()) drain(*d);
  }
  for (auto& w : state_->namespaces) {
    if (auto n = w.lock()) {
      drain(n->attrs);
      dead_calls.push_back(std::move(n->call));
    }
  }
  for (auto& w : state_->callables) {
    if (auto c = w.lock()) dead_fns.push_back(std::move(c->fn));
  }
  DestroyIteratively(graveyard);
  dead_fns.clear();
  dead_calls.clear();
}

void RegisterInArena(const ListPtr& l, const DictPtr& d, const NamespacePtr& n,
                     const CallablePtr& c) {
  if (!g_arena) return;
  ValueArena::State& s = *g_arena->state_;
  if (l) s.lists.push_back(l);
  if (d) s.dicts.push_back(d);
  if (n) s.namespaces.push_back(n);
  if (c) s.callables.push_back(c);
}

List::~List() {
  DestroyIteratively(items);
}

Dict::~Dict() {
  std::vector<Value> values;
  values.reserve(entries_.size() * 2);
  for (auto& [k, v] : entries_) {
    values.push_back(std::move(k));
    values.push_back(std::move(v));
  }
  DestroyIteratively(values);
}

Value* Dict::Find(const Value& key) {
  for (auto& [k, v] : entries_) {
    if (Equals(k, key)) return &v;
  }
  return nullptr;
}

const Value* Dict::Find(const Value& key) const {
  return const_cast<Dict*>(this)->Find(key);
}

const Value* Dict::FindStr(std::string_view key) const {
  for (const auto& [k, v] : entries_) {
    if (k.is_string() && k.str() == key) return &v;
  }
  return nullptr;
}

void Dict::Set(Value key, Value value) {
  if (Value* existing = Find(key)) {
    *existing = std::move(value);
    return;
  }
  entries_.emplace_back(std::move(key), std::move(value));
}

bool Dict::Erase(const Value& key) {
  for (auto it = entries_.begin(); it != entries_.end(); ++it) {
    if (Equals(it->first, key)) {
      entries_.erase(it);
      return true;
    }
  }
  return false;
}

Value Value::MakeList(std::vector<Value> items) {
  auto l = std::make_shared<List>();
  l->items = std::move(items);
  RegisterInArena(l, nullptr, nullptr, nullptr);
  return Value(std::move(l));
}

Value Value::MakeTuple(std::vector<Value> items) {
  auto l = std::make_shared<List>();
  l->items = std::move(items);
  l->is_tuple = true;
  RegisterInArena(l, nullptr, nullptr, nullptr);
  return Value(std::move(l));
}

Value Value::MakeDict() {
  auto d = std::make_shared<Dict>();
  RegisterInArena(nullptr, d, nullptr, nullptr);
  return Value(std::move(d));
}

Value Value::FromNamespace(NamespacePtr ns) {
  RegisterInArena(nullptr, nullptr, ns, nullptr);
  return Value(std::move(ns));
}

Value Value::FromCallable(std::string name, NativeFn fn, bool is_macro) {
  auto c = std::make_shared<Callable>();
  c->name = std::move(name);
  c->fn = std::move(fn);
  c->is_macro = is_macro;
  RegisterInArena(nullptr, nullptr, nullptr, c);
  return Value(std::move(c));
}

bool Value::is_callable() const {
  if (kind() == Kind::kCallable) return true;
  return is_namespace() && ns().call != nullptr;
}

const Callable& Value::callable() const {
  if (kind() == Kind::kCallable) return *std::get<CallablePtr>(v_);
  return *ns().call;
}

double Value::AsDouble() const {
  if (is_float()) return float_value();
  return static_cast<double>(AsInt());
}

void ThrowRuntime(std::string message) {
  throw JinjaError(ErrorKind::kRuntime, std::move(message));
}

void ThrowUndefined(const Value& v) {
  std::string hint = v.is_undefined() ? v.undefined_hint() : "";
  ThrowRuntime(hint.empty() ? "value is undefined" : hint);
}

std::string TypeName(const Value& v) {
  switch (v.kind()) {
    case Value::Kind::kUndefined:
      return "Undefined";
    case Value::Kind::kNone:
      return "NoneType";
    case Value::Kind::kBool:
      return "bool";
    case Value::Kind::kInt:
      return "int";
    case Value::Kind::kFloat:
      return "float";
    case Value::Kind::kString:
      return "str";
    case Value::Kind::kList:
      return v.is_tuple() ? "tuple" : "list";
    case Value::Kind::kDict:
      return "dict";
    case Value::Kind::kCallable:
      return v.callable().is_macro ? "Macro" : "function";
    case Value::Kind::kNamespace:
      return v.ns().is_loop ? "LoopContext" : "Namespace";
  }
  return "object";
}

std::string FormatFloat(double d) {
  if (std::isnan(d)) return "nan";
  if (std::isinf(d)) return d < 0 ? "-inf" : "inf";
  char buf[64];
  auto res = std::to_chars(buf, buf + sizeof(buf), d, std::chars_format::scientific);
  std::string sci(buf, res.ptr);
  // sci is "[-]d[.ddd]e[+-]XX": split into sign, digits and exponent.
  std::string sign;
  size_t i = 0;
  if (sci[0] == '-') {
    sign = "-";
    i = 1;
  }
  size_t e_pos = sci.find('e');
  std::string digits;
  for (size_t k = i; k < e_pos; ++k) {
    if (sci[k] != '.') digits += sci[k];
  }
  int exp10 = std::stoi(sci.substr(e_pos + 1));
  int decpt = exp10 + 1;  // value = 0.DIGITS * 10^decpt
  int n = static_cast<int>(digits.size());
  if (decpt <= -4 || decpt > 16) {
    std::string out = sign + digits.substr(0, 1);
    if (n > 1) out += "." + digits.substr(1);
    char ebuf[16];
    std::snprintf(ebuf, sizeof(ebuf), "e%c%02d", exp10 < 0 ? '-' : '+', std::abs(exp10));
    return out + ebuf;
  }
  if (decpt <= 0) return sign + "0." + std::string(-decpt, '0') + digits;
  if (decpt >= n) return sign + digits + std::string(decpt - n, '0') + ".0";
  return sign + digits.substr(0, decpt) + "." + digits.substr(decpt);
}

namespace {

bool IsPrintable(char32_t c) {
  if (c < 0x20 || c == 0x7F) return false;
  if (c < 0xA0) return c < 0x80;
  if (c == 0xA0 || c == 0xAD || c == 0x1680 || c == 0x3000 || c == 0xFEFF) return false;
  if ((c >= 0x2000 && c <= 0x200F) || (c >= 0x2028 && c <= 0x202F)) return false;
  if ((c >= 0x205F && c <= 0x206F) || (c >= 0xD800 && c <= 0xF8FF)) return false;
  if (c >= 0xFFF9 && c <= 0xFFFB) return false;
  return c != 0xFFFE && c != 0xFFFF;
}

}  // namespace

std::string ReprString(std::string_view s) {
  bool has_single = s.find('\'') != std::string_view::npos;
  bool has_double = s.find('"') != std::string_view::npos;
  char quote = (has_single && !has_double) ? '"' : '\'';
  std::string out(1, quote);
  for (char32_t c : DecodeUtf8(s)) {
    char buf[16];
    if (c == static_cast<char32_t>(quote) || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c == '\t') {
      out += "\\t";
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\r') {
      out += "\\r";
    } else if (IsPrintable(c)) {
      AppendUtf8(out, c);
    } else {
      const char* fmt = c < 0x100 ? "\\x%02x" : (c < 0x10000 ? "\\u%04x" : "\\U%08x");
      std::snprintf(buf, sizeof(buf), fmt, static_cast<unsigned>(c));
      out += buf;
    }
  }
  out += quote;
  return out;
}

std::string ToStr(const Value& v) {
  switch (v.kind()) {
    case Value::Kind::kUndefined:
      return "";
    case Value::Kind::kString:
      return v.str();
    default:
      return Repr(v);
  }
}

namespace {

// Python raises RecursionError past ~1000 frames; values nested deeper than this (only
// possible through cycles or very deep data) raise instead of overflowing the stack.
constexpr int kMaxNesting = 400;
thread_local int g_nesting = 0;
// Containers whose repr is being built, for Python's "[...]" / "{...}" cycle markers.
thread_local std::vector<const void*> g_repr_active;

class NestingGuard {
 public:
  NestingGuard() {
    if (++g_nesting > kMaxNesting) {
      --g_nesting;
      ThrowRuntime("maximum recursion depth exceeded while comparing or printing a value");
    }
  }
  ~NestingGuard() { --g_nesting; }
  NestingGuard(const NestingGuard&) = delete;
  NestingGuard& operator=(const NestingGuard&) = delete;
};

// Marks a container as being printed; active() is false when it already was (a cycle).
class ReprScope {
 public:
  explicit ReprScope(const void* p) : p_(p) {
    active_ = std::find(g_repr_active.begin(), g_repr_active.end(), p) == g_repr_active.end();
    if (active_) g_repr_active.push_back(p);
  }
  ~ReprScope() {
    if (active_) g_repr_active.pop_back();
  }
  bool active() const { return active_; }

 private:
  const void* p_;
  bool active_;
};

std::string ReprList(const List& l) {
  ReprScope scope(&l);
  if (!scope.active()) return l.is_tuple ? "(...)" : "[...]";
  std::string out = l.is_tuple ? "(" : "[";
  for (size_t i = 0; i < l.items.size(); ++i) {
    if (i) out += ", ";
    out += Repr(l.items[i]);
  }
  if (l.is_tuple && l.items.size() == 1) out += ",";
  return out + (l.is_tuple ? ")" : "]");
}

std::string ReprDict(const Dict& d) {
  ReprScope scope(&d);
  if (!scope.active()) return "{...}";
  std::string out = "{";
  bool first = true;
  for (const auto& [k, val] : d.entries()) {
    if (!first) out += ", ";
    first = false;
    out += Repr(k) + ": " + Repr(val);
  }
  return out + "}";
}

std::string ReprNamespace(const Namespace& ns) {
  if (!ns.is_loop) return "<Namespace " + ReprDict(ns.attrs) + ">";
  const Value* index = ns.attrs.FindStr("index");
  const Value* length = ns.attrs.FindStr("length");
  return "<LoopContext " + (index ? Repr(*index) : "?") + "/" + (length ? Repr(*length) : "?") +
         ">";
}

}  // namespace

std::string Repr(const Value& v) {
  NestingGuard guard;
  switch (v.kind()) {
    case Value::Kind::kUndefined:
      return "Undefined";
    case Value::Kind::kNone:
      return "None";
    case Value::Kind::kBool:
      return v.bool_value() ? "True" : "False";
    case Value::Kind::kInt:
      return std::to_string(v.int_value());
    case Value::Kind::kFloat:
      return FormatFloat(v.float_value());
    case Value::Kind::kString:
      return ReprString(v.str());
    case Value::Kind::kList:
      return ReprList(v.list());
    case Value::Kind::kDict:
      return ReprDict(v.dict());
    case Value::Kind::kCallable:
      return v.callable().is_macro ? "<Macro " + ReprString(v.callable().name) + ">"
                                   : "<built-in function " + v.callable().name + ">";
    case Value::Kind::kNamespace:
      return ReprNamespace(v.ns());
  }
  return "?";
}

bool Truthy(const Value& v) {
  switch (v.kind()) {
    case Value::Kind::kUndefined:
    case Value::Kind::kNone:
      return false;
    case Value::Kind::kBool:
      return v.bool_value();
    case Value::Kind::kInt:
      return v.int_value() != 0;
    case Value::Kind::kFloat:
      return v.float_value() != 0.0;
    case Value::Kind::kString:
      return !v.str().empty();
    case Value::Kind::kList:
      return !v.list().items.empty();
    case Value::Kind::kDict:
      return v.dict().size() != 0;
    default:
      return true;
  }
}

bool Equals(const Value& a, const Value& b) {
  NestingGuard guard;
  if (a.is_number() && b.is_number()) {
    if (a.is_float() || b.is_float()) return a.AsDouble() == b.AsDouble();
    return a.AsInt() == b.AsInt();
  }
  if (a.kind() != b.kind()) return false;
  switch (a.kind()) {
    case Value::Kind::kUndefined:
    case Value::Kind::kNone:
      return true;
    case Value::Kind::kString:
      return a.str() == b.str();
    case Value::Kind::kList: {
      const List& x = a.list();
      const List& y = b.list();
      if (&x == &y) return true;  // Python compares elements by identity first
      if (x.is_tuple != y.is_tuple || x.items.size() != y.items.size()) return false;
      for (size_t i = 0; i < x.items.size(); ++i) {
        if (!Equals(x.items[i], y.items[i])) return false;
      }
      return true;
    }
    case Value::Kind::kDict: {
      const Dict& x = a.dict();
      const Dict& y = b.dict();
      if (&x == &y) return true;
      if (x.size() != y.size()) return false;
      for (const auto& [k, v] : x.entries()) {
        const Value* other = y.Find(k);
        if (!other || !Equals(v, *other)) return false;
      }
      return true;
    }
    case Value::Kind::kCallable:
      return &a.callable() == &b.callable();
    case Value::Kind::kNamespace:
      return a.ns_ptr() == b.ns_ptr();
    default:
      return false;
  }
}

int Compare(const Value& a, const Value& b) {
  NestingGuard guard;
  if (a.is_undefined()) ThrowUndefined(a);
  if (b.is_undefined()) ThrowUndefined(b);
  if (a.is_number() && b.is_number()) {
    if (a.is_float() || b.is_float()) {
      double x = a.AsDouble(), y = b.AsDouble();
      return x < y ? -1 : (x > y ? 1 : 0);
    }
    int64_t x = a.AsInt(), y = b.AsInt();
    return x < y ? -1 : (x > y ? 1 : 0);
  }
  if (a.is_string() && b.is_string()) {
    int c = a.str().compare(b.str());
    return c < 0 ? -1 : (c > 0 ? 1 : 0);
  }
  if (a.is_list() && b.is_list() && a.is_tuple() == b.is_tuple()) {
    const auto& x = a.list().items;
    const auto& y = b.list().items;
    for (size_t i = 0; i < x.size() && i < y.size(); ++i) {
      if (!Equals(x[i], y[i])) return Compare(x[i], y[i]);
    }
    return x.size() < y.size() ? -1 : (x.size() > y.size() ? 1 : 0);
  }
  ThrowRuntime("'<' not supported between instances of '" + TypeName(a) + "' and '" + TypeName(b) +
               "'");
}

}  // namespace mle::text::jinja
