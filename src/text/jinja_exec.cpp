// Statement execution (see jinja_interp.h): output, if, for with Jinja2's `loop` object,
// set (names, tuples, namespace attributes, blocks), macros and call blocks with Jinja2's
// argument rules, filter and with blocks, break/continue.
#include <string>

#include "text/jinja_builtins.h"
#include "text/jinja_interp.h"

namespace mle::text::jinja {

std::string Interpreter::Run(const Body& body, const ScopePtr& scope) {
  std::string out;
  ExecBody(body, scope, out);
  return out;
}

void Interpreter::Step() {
  if (++steps_ > config_.max_steps) {
    throw JinjaError(ErrorKind::kLimit, "template took more than " +
                                            std::to_string(config_.max_steps) +
                                            " steps (an endless or very large loop?)");
  }
}

void Interpreter::Write(std::string& out, std::string_view text) const {
  if (out.size() + text.size() > config_.max_output_bytes) {
    throw JinjaError(ErrorKind::kLimit, "output exceeds the limit of " +
                                            std::to_string(config_.max_output_bytes) + " bytes");
  }
  out += text;
}

Flow Interpreter::ExecBody(const Body& body, const ScopePtr& scope, std::string& out) {
  for (const auto& stmt : body) {
    Step();
    Flow flow;
    try {
      flow = std::visit([&](const auto& n) { return ExecStmt(n, scope, out); }, stmt->node);
    } catch (JinjaError& err) {
      if (err.line() == 0) err.set_line(stmt->line);
      throw;
    }
    if (flow != Flow::kNormal) return flow;
  }
  return Flow::kNormal;
}

Flow Interpreter::ExecStmt(const TextStmt& n, const ScopePtr&, std::string& out) {
  Write(out, n.text);
  return Flow::kNormal;
}

Flow Interpreter::ExecStmt(const OutputStmt& n, const ScopePtr& s, std::string& out) {
  Value v = Eval(*n.expr, s);
  if (v.is_string()) {
    Write(out, v.str());
  } else {
    Write(out, ToStr(v));
  }
  return Flow::kNormal;
}

Flow Interpreter::ExecStmt(const IfStmt& n, const ScopePtr& s, std::string& out) {
  for (const auto& [cond, body] : n.branches) {
    if (Truthy(Eval(*cond, s))) return ExecBody(body, s, out);
  }
  return ExecBody(n.else_body, s, out);
}

Flow Interpreter::ExecStmt(const ForStmt& n, const ScopePtr& s, std::string& out) {
  RunLoop(n, Iterate(Eval(*n.iter, s)), s, out, 0);
  return Flow::kNormal;
}

namespace {

// The `loop` object's per-iteration fields, in the order MakeLoopObject creates them.
enum LoopSlot { kIndex, kIndex0, kRevindex, kRevindex0, kFirst, kLast, kPrevitem, kNextitem };

void SetLoopPosition(Dict& attrs, const std::vector<Value>& items, int64_t i) {
  auto& e = attrs.entries();
  int64_t n = static_cast<int64_t>(items.size());
  e[kIndex].second = Value::Int(i + 1);
  e[kIndex0].second = Value::Int(i);
  e[kRevindex].second = Value::Int(n - i);
  e[kRevindex0].second = Value::Int(n - i - 1);
  e[kFirst].second = Value::Bool(i == 0);
  e[kLast].second = Value::Bool(i == n - 1);
  e[kPrevitem].second = i > 0 ? items[i - 1] : Value::Undefined("there is no previous item");
  e[kNextitem].second = i + 1 < n ? items[i + 1] : Value::Undefined("there is no next item");
}

}  // namespace

// Jinja2's LoopContext: position fields, length, depth, cycle(), changed() and, for a
// recursive loop, loop(iterable) rendering the body one level deeper.
NamespacePtr Interpreter::MakeLoopObject(const ForStmt& f, const ScopePtr& scope, int depth,
                                         int64_t n) {
  auto loop = std::make_shared<Namespace>();
  loop->is_loop = true;
  Dict& a = loop->attrs;
  for (const char* name :
       {"index", "index0", "revindex", "revindex0", "first", "last", "previtem", "nextitem"}) {
    a.entries().emplace_back(Value::Str(name), Value());
  }
  a.Set(Value::Str("length"), Value::Int(n));
  a.Set(Value::Str("depth"), Value::Int(depth + 1));
  a.Set(Value::Str("depth0"), Value::Int(depth));
  std::weak_ptr<Namespace> weak = loop;
  a.Set(Value::Str("cycle"), Value::FromCallable("cycle", [weak](Interpreter&, CallArgs& args) {
          if (args.args.empty()) ThrowRuntime("no items for cycling given");
          auto l = weak.lock();
          int64_t i = l ? l->attrs.entries()[kIndex0].second.AsInt() : 0;
          return args.args[i % static_cast<int64_t>(args.args.size())];
        }));
  auto last = std::make_shared<std::optional<Value>>();
  a.Set(Value::Str("changed"), Value::FromCallable("changed", [last](Interpreter&, CallArgs& args) {
          Value v = Value::MakeList(args.args);
          if (*last && Equals(**last, v)) return Value::Bool(false);
          *last = v;
          return Value::Bool(true);
        }));
  if (f.recursive) {
    std::weak_ptr<Scope> weak_scope = scope;
    loop->call = std::make_shared<Callable>();
    loop->call->name = "loop";
    loop->call->fn = [stmt = &f, weak_scope, depth](Interpreter& in, CallArgs& args) {
      if (args.args.size() != 1) ThrowRuntime("loop() takes exactly one argument");
      ScopePtr parent = weak_scope.lock();
      if (!parent) ThrowRuntime("the recursive loop has already ended");
      std::string sub;
      in.RunLoop(*stmt, in.Iterate(args.args[0]), parent, sub, depth + 1);
      return Value::Str(std::move(sub));
    };
  }
  return loop;
}

void Interpreter::RunLoop(const ForStmt& f, std::vector<Value> items, const ScopePtr& scope,
                          std::string& out, int depth) {
  if (f.filter) {
    std::vector<Value> kept;
    for (Value& item : items) {
      auto fs = std::make_shared<Scope>(scope);
      Assign(f.target, item, fs);
      if (Truthy(Eval(*f.filter, fs))) kept.push_back(std::move(item));
    }
    items = std::move(kept);
  }
  int64_t n = static_cast<int64_t>(items.size());
  NamespacePtr loop = MakeLoopObject(f, scope, depth, n);
  Value loop_value = Value::FromNamespace(loop);
  // Jinja2 runs the else block unless some iteration ran its body to the end (break and
  // continue skip the flag it clears).
  bool completed_one = false;
  for (int64_t i = 0; i < n; ++i) {
    Step();
    SetLoopPosition(loop->attrs, items, i);
    auto iter_scope = std::make_shared<Scope>(scope);
    iter_scope->Set("loop", loop_value);
    Assign(f.target, items[i], iter_scope);
    Flow flow = ExecBody(f.body, iter_scope, out);
    if (flow == Flow::kBreak) break;
    if (flow == Flow::kNormal) completed_one = true;
  }
  if (!completed_one && !f.else_body.empty()) {
    ExecBody(f.else_body, std::make_shared<Scope>(scope), out);
  }
}

void Interpreter::Assign(const Target& target, const Value& value, const ScopePtr& scope) {
  if (!target.is_tuple && target.attr.empty()) {
    scope->Set(target.name, value);
    return;
  }
  if (!target.attr.empty()) {
    const Value* ns = scope->Find(target.name);
    if (!ns || !ns->is_namespace() || ns->ns().is_loop) {
      ThrowRuntime("cannot assign attribute on non-namespace object");
    }
    ns->ns().attrs.Set(Value::Str(target.attr), value);
    return;
  }
  if (value.is_undefined()) ThrowUndefined(value);
  std::vector<Value> items = Iterate(value);
  size_t want = target.items.size();
  if (items.size() < want) {
    ThrowRuntime("not enough values to unpack (expected " + std::to_string(want) + ", got " +
                 std::to_string(items.size()) + ")");
  }
  if (items.size() > want) {
    ThrowRuntime("too many values to unpack (expected " + std::to_string(want) + ")");
  }
  for (size_t i = 0; i < want; ++i) Assign(target.items[i], items[i], scope);
}

Flow Interpreter::ExecStmt(const SetStmt& n, const ScopePtr& s, std::string&) {
  Assign(n.target, Eval(*n.value, s), s);
  return Flow::kNormal;
}

Flow Interpreter::ExecStmt(const SetBlockStmt& n, const ScopePtr& s, std::string&) {
  std::string body;
  Flow flow = ExecBody(n.body, std::make_shared<Scope>(s), body);
  if (flow != Flow::kNormal) return flow;
  Assign(n.target, ApplyFilters(n.filters, Value::Str(std::move(body)), s), s);
  return Flow::kNormal;
}

Flow Interpreter::ExecStmt(const FilterBlockStmt& n, const ScopePtr& s, std::string& out) {
  std::string body;
  Flow flow = ExecBody(n.body, std::make_shared<Scope>(s), body);
  if (flow != Flow::kNormal) return flow;
  Write(out, ToStr(ApplyFilters(n.filters, Value::Str(std::move(body)), s)));
  return Flow::kNormal;
}

Flow Interpreter::ExecStmt(const WithStmt& n, const ScopePtr& s, std::string& out) {
  auto inner = std::make_shared<Scope>(s);
  std::vector<Value> values;
  for (const auto& [target, expr] : n.assignments) values.push_back(Eval(*expr, s));
  for (size_t i = 0; i < values.size(); ++i) Assign(n.assignments[i].first, values[i], inner);
  return ExecBody(n.body, inner, out);
}

Flow Interpreter::ExecStmt(const ScopedBodyStmt& n, const ScopePtr& s, std::string& out) {
  std::string body;
  ExecBody(n.body, std::make_shared<Scope>(s), body);
  Write(out, body);
  return Flow::kNormal;
}

Flow Interpreter::ExecStmt(const LoopControlStmt& n, const ScopePtr&, std::string&) {
  return n.is_break ? Flow::kBreak : Flow::kContinue;
}

Flow Interpreter::ExecStmt(const MacroStmt& n, const ScopePtr& s, std::string&) {
  s->Set(n.def->name, MakeMacro(n.def, s));
  return Flow::kNormal;
}

Flow Interpreter::ExecStmt(const CallBlockStmt& n, const ScopePtr& s, std::string& out) {
  Value caller = MakeMacro(n.caller, s);
  Value v = EvalCall(std::get<CallExpr>(n.call->node), s, &caller);
  Write(out, ToStr(v));
  return Flow::kNormal;
}

Value Interpreter::MakeMacro(std::shared_ptr<const MacroDef> def, const ScopePtr& closure) {
  std::string name = def->name;
  return Value::FromCallable(
      name,
      [def = std::move(def), closure](Interpreter& in, CallArgs& args) {
        return in.CallMacro(*def, closure, args);
      },
      true);
}

// Jinja2's Macro.__call__: positional arguments fill parameters in order, keywords fill the
// rest; a missing parameter takes its default (evaluated in the macro's scope, so it may use
// earlier parameters) or is undefined; extras go to varargs/kwargs only if the body uses them.
Value Interpreter::CallMacro(const MacroDef& def, const ScopePtr& closure, CallArgs& args) {
  auto scope = std::make_shared<Scope>(closure);
  size_t n_params = def.params.size();
  std::vector<std::optional<Value>> values(n_params);
  for (size_t i = 0; i < n_params && i < args.args.size(); ++i) values[i] = args.args[i];
  Value kwargs = Value::MakeDict();
  Value caller = Value::Undefined("No caller defined");
  for (auto& [name, v] : args.kwargs) {
    size_t i = 0;
    while (i < n_params && def.params[i].name != name) ++i;
    if (i < n_params && i >= args.args.size()) {
      values[i] = v;
    } else if (name == "caller" && def.uses_caller) {
      caller = v;
    } else if (def.uses_kwargs) {
      kwargs.dict().Set(Value::Str(name), v);
    } else {
      ThrowRuntime("macro '" + def.name + "' takes no keyword argument '" + name + "'");
    }
  }
  if (args.args.size() > n_params && !def.uses_varargs) {
    ThrowRuntime("macro '" + def.name + "' takes not more than " + std::to_string(n_params) +
                 " argument(s)");
  }
  if (def.uses_caller) scope->Set("caller", caller);
  if (def.uses_kwargs) scope->Set("kwargs", kwargs);
  if (def.uses_varargs) {
    std::vector<Value> extra;
    for (size_t i = n_params; i < args.args.size(); ++i) extra.push_back(args.args[i]);
    scope->Set("varargs", Value::MakeTuple(std::move(extra)));
  }
  for (size_t i = 0; i < n_params; ++i) {
    const MacroParam& p = def.params[i];
    if (!values[i]) {
      values[i] = p.default_value ? Eval(*p.default_value, scope)
                                  : Value::Undefined("parameter '" + p.name + "' was not provided");
    }
    scope->Set(p.name, *values[i]);
  }
  std::string out;
  ExecBody(def.body, scope, out);
  return Value::Str(std::move(out));
}

}  // namespace mle::text::jinja
