// Expression evaluation (see jinja_interp.h). Attribute and item lookup follow Jinja2's
// SandboxedEnvironment.getattr/getitem: a miss is an undefined value that remembers why, and
// only using it (printing aside) raises.
#include <string>

#include "text/jinja_builtins.h"
#include "text/jinja_interp.h"
#include "text/jinja_strutil.h"

namespace mle::text::jinja {
namespace {

// Jinja2's object_type_repr: how messages name the object a lookup failed on.
std::string ObjectTypeRepr(const Value& obj) {
  return obj.is_none() ? "None" : TypeName(obj) + " object";
}

Value MissingAttr(const Value& obj, const std::string& name) {
  return Value::Undefined("'" + ObjectTypeRepr(obj) + "' has no attribute '" + name + "'");
}

}  // namespace

const Value* Scope::Find(std::string_view name) const {
  for (const Scope* s = this; s; s = s->parent_.get()) {
    for (const auto& [k, v] : s->vars_) {
      if (k == name) return &v;
    }
  }
  return nullptr;
}

void Scope::Set(const std::string& name, Value value) {
  for (auto& [k, v] : vars_) {
    if (k == name) {
      v = std::move(value);
      return;
    }
  }
  vars_.emplace_back(name, std::move(value));
}

Value Interpreter::Eval(const Expr& e, const ScopePtr& scope) {
  try {
    return std::visit([&](const auto& n) { return EvalNode(n, e, scope); }, e.node);
  } catch (JinjaError& err) {
    if (err.line() == 0) err.set_line(e.line);
    throw;
  }
}

Value Interpreter::EvalNode(const ConstExpr& n, const Expr&, const ScopePtr&) {
  return n.value;
}

Value Interpreter::EvalNode(const NameExpr& n, const Expr&, const ScopePtr& s) {
  if (const Value* v = s->Find(n.name)) return *v;
  return Value::Undefined("'" + n.name + "' is undefined");
}

Value Interpreter::EvalNode(const ListExpr& n, const Expr&, const ScopePtr& s) {
  std::vector<Value> items;
  items.reserve(n.items.size());
  for (const ExprPtr& item : n.items) items.push_back(Eval(*item, s));
  return n.is_tuple ? Value::MakeTuple(std::move(items)) : Value::MakeList(std::move(items));
}

Value Interpreter::EvalNode(const DictExpr& n, const Expr&, const ScopePtr& s) {
  Value d = Value::MakeDict();
  for (const auto& [k, v] : n.items) {
    Value key = Eval(*k, s);
    if (key.is_list() && !key.is_tuple()) ThrowRuntime("unhashable type: 'list'");
    if (key.is_dict()) ThrowRuntime("unhashable type: 'dict'");
    d.dict().Set(std::move(key), Eval(*v, s));
  }
  return d;
}

Value Interpreter::EvalNode(const GetAttrExpr& n, const Expr&, const ScopePtr& s) {
  Value obj = Eval(*n.obj, s);
  if (obj.is_undefined()) ThrowUndefined(obj);
  return GetAttr(obj, n.name);
}

Value Interpreter::EvalNode(const GetItemExpr& n, const Expr&, const ScopePtr& s) {
  Value obj = Eval(*n.obj, s);
  if (const auto* slice = std::get_if<SliceExpr>(&n.index->node)) {
    auto part = [&](const ExprPtr& p) { return p ? Eval(*p, s) : Value::None(); };
    Value start = part(slice->start), stop = part(slice->stop), step = part(slice->step);
    if (obj.is_undefined()) ThrowUndefined(obj);
    return SliceValue(obj, start, stop, step);
  }
  Value key = Eval(*n.index, s);
  if (obj.is_undefined()) ThrowUndefined(obj);
  return GetItem(obj, key);
}

Value Interpreter::EvalNode(const SliceExpr&, const Expr&, const ScopePtr&) {
  ThrowRuntime("a slice can only be used inside []");
}

Value Interpreter::EvalNode(const CallExpr& n, const Expr&, const ScopePtr& s) {
  return EvalCall(n, s, nullptr);
}

Value Interpreter::EvalNode(const FilterExpr& n, const Expr&, const ScopePtr& s) {
  if (!n.operand) ThrowRuntime("filter without a value");
  Value v = Eval(*n.operand, s);
  CallArgs args = EvalCallSite(n.call, s);
  return ApplyFilter(n.name, v, args);
}

Value Interpreter::EvalNode(const TestExpr& n, const Expr&, const ScopePtr& s) {
  Value v = Eval(*n.operand, s);
  CallArgs args = EvalCallSite(n.call, s);
  return Value::Bool(ApplyTest(n.name, v, args));
}

Value Interpreter::EvalNode(const UnaryExpr& n, const Expr&, const ScopePtr& s) {
  Value v = Eval(*n.operand, s);
  if (n.op == '!') return Value::Bool(!Truthy(v));
  return ApplyUnary(n.op, v);
}

Value Interpreter::EvalNode(const BinaryExpr& n, const Expr&, const ScopePtr& s) {
  Value left = Eval(*n.left, s);
  if (n.op == BinOp::kAnd) return Truthy(left) ? Eval(*n.right, s) : left;
  if (n.op == BinOp::kOr) return Truthy(left) ? left : Eval(*n.right, s);
  Value right = Eval(*n.right, s);
  return ApplyBinary(*this, n.op, left, right);
}

Value Interpreter::EvalNode(const CompareExpr& n, const Expr&, const ScopePtr& s) {
  Value left = Eval(*n.first, s);
  for (const auto& [op, expr] : n.rest) {
    Value right = Eval(*expr, s);
    bool ok = false;
    switch (op) {
      case CmpOp::kEq:
        ok = Equals(left, right);
        break;
      case CmpOp::kNe:
        ok = !Equals(left, right);
        break;
      case CmpOp::kLt:
        ok = Compare(left, right) < 0;
        break;
      case CmpOp::kLe:
        ok = Compare(left, right) <= 0;
        break;
      case CmpOp::kGt:
        ok = Compare(left, right) > 0;
        break;
      case CmpOp::kGe:
        ok = Compare(left, right) >= 0;
        break;
      case CmpOp::kIn:
        ok = Contains(right, left);
        break;
      case CmpOp::kNotIn:
        ok = !Contains(right, left);
        break;
    }
    if (!ok) return Value::Bool(false);
    left = std::move(right);
  }
  return Value::Bool(true);
}

Value Interpreter::EvalNode(const CondExpr& n, const Expr& e, const ScopePtr& s) {
  if (Truthy(Eval(*n.cond, s))) return Eval(*n.then_expr, s);
  if (n.else_expr) return Eval(*n.else_expr, s);
  return Value::Undefined("the inline if-expression on line " + std::to_string(e.line) +
                          " evaluated to false and no else section was defined.");
}

CallArgs Interpreter::EvalCallSite(const CallSite& call, const ScopePtr& s) {
  CallArgs args;
  for (const ExprPtr& a : call.args) args.args.push_back(Eval(*a, s));
  for (const auto& [name, expr] : call.kwargs) args.kwargs.emplace_back(name, Eval(*expr, s));
  if (call.star_args) {
    for (Value& v : Iterate(Eval(*call.star_args, s))) args.args.push_back(std::move(v));
  }
  if (call.star_kwargs) {
    Value kw = Eval(*call.star_kwargs, s);
    if (!kw.is_dict()) ThrowRuntime("argument after ** must be a mapping, not " + TypeName(kw));
    for (const auto& [k, v] : kw.dict().entries()) {
      if (!k.is_string()) ThrowRuntime("keywords must be strings");
      args.kwargs.emplace_back(k.str(), v);
    }
  }
  return args;
}

Value Interpreter::EvalCall(const CallExpr& n, const ScopePtr& s, const Value* caller) {
  Value callee = Eval(*n.callee, s);
  CallArgs args = EvalCallSite(n.call, s);
  if (caller) args.kwargs.emplace_back("caller", *caller);
  return Call(callee, args);
}

Value Interpreter::Call(const Value& callee, CallArgs& args) {
  if (callee.is_undefined()) ThrowUndefined(callee);
  if (!callee.is_callable()) ThrowRuntime("'" + TypeName(callee) + "' object is not callable");
  Step();
  if (call_depth_ >= config_.max_call_depth) {
    throw JinjaError(ErrorKind::kLimit, "maximum recursion depth exceeded (" +
                                            std::to_string(config_.max_call_depth) +
                                            " nested calls)");
  }
  struct DepthGuard {
    int& depth;
    ~DepthGuard() { --depth; }
  } guard{++call_depth_};
  return callee.callable().fn(*this, args);
}

Value Interpreter::ApplyFilter(const std::string& name, const Value& operand, CallArgs& args) {
  FilterFn fn = FindFilter(name);
  if (!fn) ThrowRuntime("No filter named '" + name + "' found.");
  return fn(*this, operand, args);
}

bool Interpreter::ApplyTest(const std::string& name, const Value& operand, CallArgs& args) {
  TestFn fn = FindTest(name);
  if (!fn) ThrowRuntime("No test named '" + name + "' found.");
  return fn(*this, operand, args);
}

Value Interpreter::ApplyFilters(const std::vector<ExprPtr>& filters, Value v, const ScopePtr& s) {
  for (const ExprPtr& f : filters) {
    const auto& filter = std::get<FilterExpr>(f->node);
    try {
      CallArgs args = EvalCallSite(filter.call, s);
      v = ApplyFilter(filter.name, v, args);
    } catch (JinjaError& err) {
      if (err.line() == 0) err.set_line(f->line);
      throw;
    }
  }
  return v;
}

Value Interpreter::GetAttr(const Value& obj, const std::string& name) {
  if (std::optional<Value> method = FindMethod(*this, obj, name)) return *method;
  if (obj.is_dict()) {
    if (const Value* v = obj.dict().FindStr(name)) return *v;
  } else if (obj.is_namespace()) {
    if (const Value* v = obj.ns().attrs.FindStr(name)) return *v;
  }
  return MissingAttr(obj, name);
}

Value Interpreter::GetItem(const Value& obj, const Value& key) {
  if (obj.is_dict()) {
    if (const Value* v = obj.dict().Find(key)) return *v;
  } else if ((obj.is_list() || obj.is_string()) && (key.is_int() || key.is_bool())) {
    int64_t i = key.AsInt();
    if (obj.is_list()) {
      const auto& items = obj.list().items;
      int64_t n = static_cast<int64_t>(items.size());
      if (i < 0) i += n;
      if (i >= 0 && i < n) return items[i];
    } else {
      int64_t n = CodePointCount(obj.str());
      if (i < 0) i += n;
      if (i >= 0 && i < n) {
        size_t b = ByteOffsetOfIndex(obj.str(), i);
        return Value::Str(obj.str().substr(b, ByteOffsetOfIndex(obj.str(), i + 1) - b));
      }
    }
    return Value::Undefined(ObjectTypeRepr(obj) + " has no element " + Repr(key));
  }
  if (key.is_string()) {
    if (std::optional<Value> method = FindMethod(*this, obj, key.str())) return *method;
    if (obj.is_namespace()) {
      if (const Value* v = obj.ns().attrs.FindStr(key.str())) return *v;
    }
    return MissingAttr(obj, key.str());
  }
  return Value::Undefined(ObjectTypeRepr(obj) + " has no element " + Repr(key));
}

std::vector<Value> Interpreter::Iterate(const Value& v) {
  switch (v.kind()) {
    case Value::Kind::kUndefined:
      return {};
    case Value::Kind::kList:
      return v.list().items;
    case Value::Kind::kDict: {
      std::vector<Value> keys;
      keys.reserve(v.dict().size());
      for (const auto& [k, val] : v.dict().entries()) keys.push_back(k);
      return keys;
    }
    case Value::Kind::kString: {
      std::vector<Value> chars;
      for (char32_t c : DecodeUtf8(v.str())) {
        std::string s;
        AppendUtf8(s, c);
        chars.push_back(Value::Str(std::move(s)));
      }
      return chars;
    }
    default:
      ThrowRuntime("'" + TypeName(v) + "' object is not iterable");
  }
}

void Interpreter::CheckSize(size_t n) const {
  if (n > config_.max_output_bytes) {
    throw JinjaError(ErrorKind::kLimit, "value too large: " + std::to_string(n) +
                                            " exceeds the limit of " +
                                            std::to_string(config_.max_output_bytes));
  }
}

}  // namespace mle::text::jinja
