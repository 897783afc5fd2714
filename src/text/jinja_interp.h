// The tree-walking interpreter behind jinja::Template: variable scopes with Jinja2's rules
// (a for-loop iteration and a macro call get a scope of their own; if blocks do not; a macro
// sees the scope it was defined in, as it is at call time), expression evaluation with
// Jinja2's sandboxed attribute/item lookup, statements, and the limits that keep a render
// bounded. One Interpreter serves one render on one thread. Internal to src/text.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "text/jinja_ast.h"
#include "text/jinja_template.h"
#include "text/jinja_value.h"

namespace mle::text::jinja {

class Scope {
 public:
  explicit Scope(std::shared_ptr<Scope> parent) : parent_(std::move(parent)) {}
  const Value* Find(std::string_view name) const;
  void Set(const std::string& name, Value value);

 private:
  std::shared_ptr<Scope> parent_;
  std::vector<std::pair<std::string, Value>> vars_;
};
using ScopePtr = std::shared_ptr<Scope>;

enum class Flow { kNormal, kBreak, kContinue };

class Interpreter {
 public:
  explicit Interpreter(const RenderConfig& config) : config_(config) {}

  // Renders a template body in `scope`.
  std::string Run(const Body& body, const ScopePtr& scope);

  Value Eval(const Expr& e, const ScopePtr& scope);
  // Calls a callable value (macro, builtin, bound method, recursive loop).
  Value Call(const Value& callee, CallArgs& args);
  Value ApplyFilter(const std::string& name, const Value& operand, CallArgs& args);
  bool ApplyTest(const std::string& name, const Value& operand, CallArgs& args);
  // obj.name and obj[key] with the sandbox's rules: Python attributes (methods) first for
  // `.`, items first for `[]`; a miss is undefined; unsafe methods are an undefined whose use
  // raises the sandbox's error. REQUIRES: obj is not undefined.
  Value GetAttr(const Value& obj, const std::string& name);
  Value GetItem(const Value& obj, const Value& key);
  // Python's iter(): list items, dict keys, string characters; undefined is empty.
  std::vector<Value> Iterate(const Value& v);
  // Throws a limit error when a string or list of this size would pass the output limit.
  void CheckSize(size_t n) const;
  const RenderConfig& config() const { return config_; }

 private:
  Value EvalNode(const ConstExpr& n, const Expr& e, const ScopePtr& s);
  Value EvalNode(const NameExpr& n, const Expr& e, const ScopePtr& s);
  Value EvalNode(const ListExpr& n, const Expr& e, const ScopePtr& s);
  Value EvalNode(const DictExpr& n, const Expr& e, const ScopePtr& s);
  Value EvalNode(const GetAttrExpr& n, const Expr& e, const ScopePtr& s);
  Value EvalNode(const GetItemExpr& n, const Expr& e, const ScopePtr& s);
  Value EvalNode(const SliceExpr& n, const Expr& e, const ScopePtr& s);
  Value EvalNode(const CallExpr& n, const Expr& e, const ScopePtr& s);
  Value EvalNode(const FilterExpr& n, const Expr& e, const ScopePtr& s);
  Value EvalNode(const TestExpr& n, const Expr& e, const ScopePtr& s);
  Value EvalNode(const UnaryExpr& n, const Expr& e, const ScopePtr& s);
  Value EvalNode(const BinaryExpr& n, const Expr& e, const ScopePtr& s);
  Value EvalNode(const CompareExpr& n, const Expr& e, const ScopePtr& s);
  Value EvalNode(const CondExpr& n, const Expr& e, const ScopePtr& s);
  CallArgs EvalCallSite(const CallSite& call, const ScopePtr& s);
  Value EvalCall(const CallExpr& n, const ScopePtr& s, const Value* caller);
  Value ApplyFilters(const std::vector<ExprPtr>& filters, Value v, const ScopePtr& s);

  // Statements (jinja_exec.cpp).
  Flow ExecBody(const Body& body, const ScopePtr& scope, std::string& out);
  Flow ExecStmt(const TextStmt& n, const ScopePtr& s, std::string& out);
  Flow ExecStmt(const OutputStmt& n, const ScopePtr& s, std::string& out);
  Flow ExecStmt(const IfStmt& n, const ScopePtr& s, std::string& out);
  Flow ExecStmt(const ForStmt& n, const ScopePtr& s, std::string& out);
  Flow ExecStmt(const SetStmt& n, const ScopePtr& s, std::string& out);
  Flow ExecStmt(const SetBlockStmt& n, const ScopePtr& s, std::string& out);
  Flow ExecStmt(const MacroStmt& n, const ScopePtr& s, std::string& out);
  Flow ExecStmt(const CallBlockStmt& n, const ScopePtr& s, std::string& out);
  Flow ExecStmt(const FilterBlockStmt& n, const ScopePtr& s, std::string& out);
  Flow ExecStmt(const WithStmt& n, const ScopePtr& s, std::string& out);
  Flow ExecStmt(const ScopedBodyStmt& n, const ScopePtr& s, std::string& out);
  Flow ExecStmt(const LoopControlStmt& n, const ScopePtr& s, std::string& out);
  NamespacePtr MakeLoopObject(const ForStmt& f, const ScopePtr& scope, int depth, int64_t n);
  void RunLoop(const ForStmt& f, std::vector<Value> items, const ScopePtr& scope, std::string& out,
               int depth);
  void Assign(const Target& target, const Value& value, const ScopePtr& scope);
  Value MakeMacro(std::shared_ptr<const MacroDef> def, const ScopePtr& closure);
  Value CallMacro(const MacroDef& def, const ScopePtr& closure, CallArgs& args);
  void Write(std::string& out, std::string_view text) const;
  void Step();

  const RenderConfig& config_;
  int call_depth_ = 0;
  int64_t steps_ = 0;
};

// Python's binary operators (+ - * / // % ** ~) and `in`, with Python's errors.
Value ApplyBinary(Interpreter& in, BinOp op, const Value& a, const Value& b);
Value ApplyUnary(char op, const Value& v);
bool Contains(const Value& container, const Value& item);
// Python slicing container[start:stop:step]; undefined when Python would raise TypeError
// (as the sandbox's getitem turns that into undefined).
Value SliceValue(const Value& obj, const Value& start, const Value& stop, const Value& step);

}  // namespace mle::text::jinja
