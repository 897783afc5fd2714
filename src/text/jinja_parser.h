// Jinja parser: tokens to a syntax tree, following jinja2/parser.py rule for rule (operator
// precedence, filters binding tighter than arithmetic, `is` tests, chained comparisons,
// tuples without parentheses, Jinja's left-associative `**`). Statements: if/elif/else,
// for (unpacking, `if` filter, else, recursive), set (name, tuple, ns.attr, block form),
// macro, call, filter, with, generation, break/continue, print. Internal to src/text.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "text/jinja_ast.h"
#include "text/jinja_lexer.h"

namespace mle::text::jinja {

// Nesting deeper than this (brackets, operators, blocks) is a syntax error, so that no input
// can exhaust the stack.
constexpr int kMaxParseDepth = 200;

// As Jinja2 does at compile time, an unknown filter or test is an error unless it sits in an
// `if` statement or an inline if-expression (then it fails only when it runs).
// Throws JinjaError (kSyntax) with the line.
Body ParseTemplate(std::string_view source, const LexerOptions& options);

class Parser {
 public:
  explicit Parser(std::vector<Token> tokens) : tokens_(std::move(tokens)) {}
  Body ParseAll();

  // Expressions (jinja_parser_expr.cpp).
  ExprPtr ParseTuple(bool simplified, bool with_condexpr, const std::vector<std::string>& extra_end,
                     bool explicit_parens);
  ExprPtr ParseExpression(bool with_condexpr = true);
  ExprPtr ParseFilter(ExprPtr node, bool start_inline);

 private:
  friend class DepthGuard;
  struct Frame {
    bool soft;                          // inside an if (unknown filters fail only at run time)
    int loop_depth;                     // for break/continue
    std::vector<std::string> end_tags;  // tags that close the innermost block
    std::string tag;                    // the innermost block's tag, for messages
  };
  struct UnknownName {
    std::string message;
    int line;
  };

  // Tokens.
  const Token& Cur() const { return tokens_[pos_]; }
  const Token& Peek() const { return tokens_[pos_ + 1 < tokens_.size() ? pos_ + 1 : pos_]; }
  void Next() {
    if (pos_ + 1 < tokens_.size()) ++pos_;
  }
  bool IsOp(std::string_view op) const;
  bool IsName(std::string_view name) const;
  bool SkipOp(std::string_view op);
  bool SkipName(std::string_view name);
  void ExpectOp(std::string_view op);
  std::string ExpectName();
  void ExpectBlockEnd();
  [[noreturn]] void Fail(const std::string& message) const;
  [[noreturn]] void FailAt(const std::string& message, int line) const;
  std::string Describe(const Token& t) const;
  void EnterDepth();
  void LeaveDepth() { --depth_; }

  // Statements (jinja_parser.cpp).
  Body Subparse(const std::vector<std::string>& end_tags);
  Body ParseStatements(const std::vector<std::string>& end_tags, bool drop_needle);
  Body ParseBlockBody(const std::vector<std::string>& end_tags, const std::string& tag, bool soft,
                      bool keep_loops, bool drop_needle);
  std::unique_ptr<Stmt> ParseStatement();
  void ParseFor(Stmt& stmt);
  void ParseIf(Stmt& stmt);
  void ParseSet(Stmt& stmt);
  void ParseMacro(Stmt& stmt);
  void ParseCallBlock(Stmt& stmt);
  void ParseFilterBlock(Stmt& stmt);
  void ParseWith(Stmt& stmt);
  void ParseSignature(MacroDef& def);
  std::shared_ptr<MacroDef> ParseMacroBody(const std::string& end_tag, std::shared_ptr<MacroDef> d);
  Target ParseAssignTarget(bool with_tuple, bool name_only,
                           const std::vector<std::string>& extra_end, bool with_namespace);
  Target ToTarget(const Expr& e, int line) const;
  [[noreturn]] void FailUnknownTag(const std::string& name) const;
  [[noreturn]] void FailEof() const;

  // Expressions (jinja_parser_expr.cpp).
  ExprPtr ParseCondExpr();
  ExprPtr ParseOr();
  ExprPtr ParseAnd();
  ExprPtr ParseNot();
  ExprPtr ParseCompare();
  ExprPtr ParseMath1();
  ExprPtr ParseConcat();
  ExprPtr ParseMath2();
  ExprPtr ParsePow();
  ExprPtr ParseUnary(bool with_filter);
  ExprPtr ParsePrimary();
  ExprPtr ParsePostfix(ExprPtr node);
  ExprPtr ParseFilterExpr(ExprPtr node);
  ExprPtr ParseSubscript(ExprPtr node);
  ExprPtr ParseSubscribed();
  ExprPtr ParseCall(ExprPtr node);
  void ParseCallArgs(CallSite& call);
  ExprPtr ParseTest(ExprPtr node);
  ExprPtr ParseList();
  ExprPtr ParseDict();
  bool IsTupleEnd(const std::vector<std::string>& extra_end) const;
  void NoteName(const std::string& name);
  void CheckFilterOrTest(const std::string& name, bool is_filter, int line);

  std::vector<Token> tokens_;
  size_t pos_ = 0;
  int depth_ = 0;
  std::vector<Frame> frames_{Frame{false, 0, {}, {}}};
  std::vector<MacroDef*> macros_;     // macro bodies being parsed
  std::vector<UnknownName> unknown_;  // unknown filters/tests outside soft frames
};

class DepthGuard {
 public:
  explicit DepthGuard(Parser& p) : p_(p) { p_.EnterDepth(); }
  ~DepthGuard() { p_.LeaveDepth(); }
  DepthGuard(const DepthGuard&) = delete;
  DepthGuard& operator=(const DepthGuard&) = delete;

 private:
  Parser& p_;
};

}  // namespace mle::text::jinja
