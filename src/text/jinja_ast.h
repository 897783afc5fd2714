// Syntax tree of a Jinja template, as the parser builds it and the interpreter walks it. Every
// node carries the template line it starts on (for error messages). The tree is immutable
// after parsing and may be shared by concurrent renders. Internal to src/text.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "text/jinja_value.h"

namespace mle::text::jinja {

struct Expr;
struct Stmt;
using ExprPtr = std::unique_ptr<Expr>;
using Body = std::vector<std::unique_ptr<Stmt>>;

enum class BinOp {
  kAdd,
  kSub,
  kMul,
  kDiv,
  kFloorDiv,
  kMod,
  kPow,
  kConcat,  // ~
  kAnd,
  kOr,
};

enum class CmpOp { kEq, kNe, kLt, kLe, kGt, kGe, kIn, kNotIn };

struct CallSite {
  std::vector<ExprPtr> args;
  std::vector<std::pair<std::string, ExprPtr>> kwargs;
  ExprPtr star_args;    // *args
  ExprPtr star_kwargs;  // **kwargs
};

struct ConstExpr {
  Value value;
};
struct NameExpr {
  std::string name;
};
struct ListExpr {
  std::vector<ExprPtr> items;
  bool is_tuple = false;
};
struct DictExpr {
  std::vector<std::pair<ExprPtr, ExprPtr>> items;
};
struct GetAttrExpr {  // obj.name
  ExprPtr obj;
  std::string name;
};
struct GetItemExpr {  // obj[index]
  ExprPtr obj;
  ExprPtr index;
};
struct SliceExpr {  // only as a GetItemExpr index; parts may be null
  ExprPtr start, stop, step;
};
struct CallExpr {
  ExprPtr callee;
  CallSite call;
};
struct FilterExpr {  // operand | name(args); operand null inside {% filter %} blocks
  ExprPtr operand;
  std::string name;
  CallSite call;
};
struct TestExpr {  // operand is name(args)
  ExprPtr operand;
  std::string name;
  CallSite call;
};
struct UnaryExpr {
  char op;  // '-', '+' or '!' (not)
  ExprPtr operand;
};
struct BinaryExpr {
  BinOp op;
  ExprPtr left, right;
};
struct CompareExpr {  // a < b < c: Python's chained comparison
  ExprPtr first;
  std::vector<std::pair<CmpOp, ExprPtr>> rest;
};
struct CondExpr {  // then_expr if cond else else_expr (else may be null)
  ExprPtr cond, then_expr, else_expr;
};

struct Expr {
  int line = 0;
  std::variant<ConstExpr, NameExpr, ListExpr, DictExpr, GetAttrExpr, GetItemExpr, SliceExpr,
               CallExpr, FilterExpr, TestExpr, UnaryExpr, BinaryExpr, CompareExpr, CondExpr>
      node;
};

// Left side of set / for: a name, a namespace attribute (ns.attr) or a tuple of targets.
struct Target {
  std::string name;
  std::string attr;  // non-empty: ns.attr
  std::vector<Target> items;
  bool is_tuple = false;
};

struct MacroParam {
  std::string name;
  ExprPtr default_value;  // may be null
};

// The shared part of macros and call blocks' bodies.
struct MacroDef {
  std::string name;
  std::vector<MacroParam> params;
  Body body;
  bool uses_caller = false;
  bool uses_varargs = false;
  bool uses_kwargs = false;
};

struct TextStmt {
  std::string text;
};
struct OutputStmt {
  ExprPtr expr;
};
struct IfStmt {
  std::vector<std::pair<ExprPtr, Body>> branches;  // if, elif...
  Body else_body;
};
struct ForStmt {
  Target target;
  ExprPtr iter;
  ExprPtr filter;  // may be null
  Body body;
  Body else_body;
  bool recursive = false;
};
struct SetStmt {
  Target target;
  ExprPtr value;
};
struct SetBlockStmt {
  Target target;
  std::vector<ExprPtr> filters;  // FilterExpr nodes with a null operand, applied in order
  Body body;
};
struct MacroStmt {
  std::shared_ptr<MacroDef> def;
};
struct CallBlockStmt {
  std::shared_ptr<MacroDef> caller;  // the body, with the call block's own parameters
  ExprPtr call;                      // a CallExpr
};
struct FilterBlockStmt {
  std::vector<ExprPtr> filters;
  Body body;
};
struct WithStmt {
  std::vector<std::pair<Target, ExprPtr>> assignments;
  Body body;
};
struct ScopedBodyStmt {  // {% generation %}: renders its body in a scope of its own
  Body body;
};
struct LoopControlStmt {
  bool is_break = false;
};

struct Stmt {
  int line = 0;
  std::variant<TextStmt, OutputStmt, IfStmt, ForStmt, SetStmt, SetBlockStmt, MacroStmt,
               CallBlockStmt, FilterBlockStmt, WithStmt, ScopedBodyStmt, LoopControlStmt>
      node;
};

}  // namespace mle::text::jinja
