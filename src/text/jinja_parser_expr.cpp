// Expression half of the Jinja parser (see jinja_parser.h): precedence climbing as in
// jinja2/parser.py, lowest first: inline if, or, and, not, comparisons, + -, ~, * / // %,
// **, unary - +, then primaries with postfix . [] () and filters | / tests `is`.
#include <algorithm>

#include "text/jinja_builtins.h"
#include "text/jinja_parser.h"

namespace mle::text::jinja {
namespace {

template <typename T>
ExprPtr MakeExpr(int line, T node) {
  auto e = std::make_unique<Expr>();
  e->line = line;
  e->node = std::move(node);
  return e;
}

}  // namespace

bool Parser::IsTupleEnd(const std::vector<std::string>& extra_end) const {
  TokenType t = Cur().type;
  if (t == TokenType::kVarEnd || t == TokenType::kBlockEnd || IsOp(")")) return true;
  return std::any_of(extra_end.begin(), extra_end.end(),
                     [&](const std::string& name) { return IsName(name); });
}

ExprPtr Parser::ParseTuple(bool simplified, bool with_condexpr,
                           const std::vector<std::string>& extra_end, bool explicit_parens) {
  int line = Cur().line;
  std::vector<ExprPtr> items;
  bool is_tuple = false;
  while (true) {
    if (!items.empty()) ExpectOp(",");
    if (IsTupleEnd(extra_end)) break;
    if (simplified) {
      items.push_back(ParsePrimary());
    } else {
      items.push_back(ParseExpression(with_condexpr));
    }
    if (!IsOp(",")) break;
    is_tuple = true;
  }
  if (!is_tuple) {
    if (!items.empty()) return std::move(items[0]);
    if (!explicit_parens) Fail("expected an expression, got '" + Describe(Cur()) + "'");
  }
  return MakeExpr(line, ListExpr{std::move(items), true});
}

ExprPtr Parser::ParseExpression(bool with_condexpr) {
  DepthGuard guard(*this);
  return with_condexpr ? ParseCondExpr() : ParseOr();
}

ExprPtr Parser::ParseCondExpr() {
  int line = Cur().line;
  size_t n_unknown = unknown_.size();
  ExprPtr expr1 = ParseOr();
  while (SkipName("if")) {
    ExprPtr cond = ParseOr();
    ExprPtr expr3;
    if (SkipName("else")) expr3 = ParseCondExpr();
    expr1 = MakeExpr(line, CondExpr{std::move(cond), std::move(expr1), std::move(expr3)});
    // Jinja2 compiles an inline if in a "soft" frame: unknown filters fail only at run time.
    unknown_.resize(std::min(unknown_.size(), n_unknown));
    line = Cur().line;
  }
  return expr1;
}

ExprPtr Parser::ParseOr() {
  int line = Cur().line;
  ExprPtr left = ParseAnd();
  while (SkipName("or")) {
    left = MakeExpr(line, BinaryExpr{BinOp::kOr, std::move(left), ParseAnd()});
    line = Cur().line;
  }
  return left;
}

ExprPtr Parser::ParseAnd() {
  int line = Cur().line;
  ExprPtr left = ParseNot();
  while (SkipName("and")) {
    left = MakeExpr(line, BinaryExpr{BinOp::kAnd, std::move(left), ParseNot()});
    line = Cur().line;
  }
  return left;
}

ExprPtr Parser::ParseNot() {
  if (IsName("not")) {
    int line = Cur().line;
    Next();
    DepthGuard guard(*this);
    return MakeExpr(line, UnaryExpr{'!', ParseNot()});
  }
  return ParseCompare();
}

ExprPtr Parser::ParseCompare() {
  int line = Cur().line;
  ExprPtr first = ParseMath1();
  CompareExpr cmp;
  static const std::pair<const char*, CmpOp> kOps[] = {{"==", CmpOp::kEq}, {"!=", CmpOp::kNe},
                                                       {"<", CmpOp::kLt},  {"<=", CmpOp::kLe},
                                                       {">", CmpOp::kGt},  {">=", CmpOp::kGe}};
  while (true) {
    auto it = std::find_if(std::begin(kOps), std::end(kOps),
                           [&](const auto& op) { return IsOp(op.first); });
    if (it != std::end(kOps)) {
      Next();
      cmp.rest.emplace_back(it->second, ParseMath1());
    } else if (SkipName("in")) {
      cmp.rest.emplace_back(CmpOp::kIn, ParseMath1());
    } else if (IsName("not") && Peek().type == TokenType::kName && Peek().text == "in") {
      Next();
      Next();
      cmp.rest.emplace_back(CmpOp::kNotIn, ParseMath1());
    } else {
      break;
    }
  }
  if (cmp.rest.empty()) return first;
  cmp.first = std::move(first);
  return MakeExpr(line, std::move(cmp));
}

ExprPtr Parser::ParseMath1() {
  int line = Cur().line;
  ExprPtr left = ParseConcat();
  while (IsOp("+") || IsOp("-")) {
    BinOp op = IsOp("+") ? BinOp::kAdd : BinOp::kSub;
    Next();
    left = MakeExpr(line, BinaryExpr{op, std::move(left), ParseConcat()});
    line = Cur().line;
  }
  return left;
}

ExprPtr Parser::ParseConcat() {
  int line = Cur().line;
  ExprPtr left = ParseMath2();
  while (SkipOp("~")) {
    left = MakeExpr(line, BinaryExpr{BinOp::kConcat, std::move(left), ParseMath2()});
  }
  return left;
}

ExprPtr Parser::ParseMath2() {
  int line = Cur().line;
  ExprPtr left = ParsePow();
  while (true) {
    BinOp op;
    if (IsOp("*")) {
      op = BinOp::kMul;
    } else if (IsOp("/")) {
      op = BinOp::kDiv;
    } else if (IsOp("//")) {
      op = BinOp::kFloorDiv;
    } else if (IsOp("%")) {
      op = BinOp::kMod;
    } else {
      break;
    }
    Next();
    left = MakeExpr(line, BinaryExpr{op, std::move(left), ParsePow()});
    line = Cur().line;
  }
  return left;
}

ExprPtr Parser::ParsePow() {
  int line = Cur().line;
  ExprPtr left = ParseUnary(true);
  while (SkipOp("**")) {
    left = MakeExpr(line, BinaryExpr{BinOp::kPow, std::move(left), ParseUnary(true)});
    line = Cur().line;
  }
  return left;
}

ExprPtr Parser::ParseUnary(bool with_filter) {
  DepthGuard guard(*this);
  int line = Cur().line;
  ExprPtr node;
  if (IsOp("-") || IsOp("+")) {
    char op = Cur().text[0];
    Next();
    node = MakeExpr(line, UnaryExpr{op, ParseUnary(false)});
  } else {
    node = ParsePrimary();
  }
  node = ParsePostfix(std::move(node));
  if (with_filter) node = ParseFilterExpr(std::move(node));
  return node;
}

ExprPtr Parser::ParsePrimary() {
  const Token& t = Cur();
  int line = t.line;
  if (t.type == TokenType::kName) {
    std::string name = t.text;
    Next();
    if (name == "true" || name == "True") return MakeExpr(line, ConstExpr{Value::Bool(true)});
    if (name == "false" || name == "False") return MakeExpr(line, ConstExpr{Value::Bool(false)});
    if (name == "none" || name == "None") return MakeExpr(line, ConstExpr{Value::None()});
    NoteName(name);
    return MakeExpr(line, NameExpr{name});
  }
  if (t.type == TokenType::kString) {
    std::string s;
    while (Cur().type == TokenType::kString) {  // adjacent literals concatenate
      s += Cur().text;
      Next();
    }
    return MakeExpr(line, ConstExpr{Value::Str(std::move(s))});
  }
  if (t.type == TokenType::kInt || t.type == TokenType::kFloat) {
    Value v = t.type == TokenType::kInt ? Value::Int(t.int_value) : Value::Float(t.float_value);
    Next();
    return MakeExpr(line, ConstExpr{std::move(v)});
  }
  if (IsOp("(")) {
    Next();
    DepthGuard guard(*this);
    ExprPtr node = ParseTuple(false, true, {}, true);
    ExpectOp(")");
    return node;
  }
  if (IsOp("[")) return ParseList();
  if (IsOp("{")) return ParseDict();
  Fail("unexpected '" + Describe(t) + "'");
}

ExprPtr Parser::ParseList() {
  int line = Cur().line;
  ExpectOp("[");
  DepthGuard guard(*this);
  std::vector<ExprPtr> items;
  while (!IsOp("]")) {
    if (!items.empty()) ExpectOp(",");
    if (IsOp("]")) break;
    items.push_back(ParseExpression());
  }
  ExpectOp("]");
  return MakeExpr(line, ListExpr{std::move(items), false});
}

ExprPtr Parser::ParseDict() {
  int line = Cur().line;
  ExpectOp("{");
  DepthGuard guard(*this);
  DictExpr d;
  while (!IsOp("}")) {
    if (!d.items.empty()) ExpectOp(",");
    if (IsOp("}")) break;
    ExprPtr key = ParseExpression();
    ExpectOp(":");
    d.items.emplace_back(std::move(key), ParseExpression());
  }
  ExpectOp("}");
  return MakeExpr(line, std::move(d));
}

ExprPtr Parser::ParsePostfix(ExprPtr node) {
  while (true) {
    if (IsOp(".") || IsOp("[")) {
      node = ParseSubscript(std::move(node));
    } else if (IsOp("(")) {
      node = ParseCall(std::move(node));
    } else {
      return node;
    }
  }
}

ExprPtr Parser::ParseFilterExpr(ExprPtr node) {
  while (true) {
    if (IsOp("|")) {
      node = ParseFilter(std::move(node), false);
    } else if (IsName("is")) {
      node = ParseTest(std::move(node));
    } else if (IsOp("(")) {
      node = ParseCall(std::move(node));
    } else {
      return node;
    }
  }
}

ExprPtr Parser::ParseSubscript(ExprPtr node) {
  DepthGuard guard(*this);
  int line = Cur().line;
  if (SkipOp(".")) {
    const Token& attr = Cur();
    if (attr.type == TokenType::kName) {
      std::string name = attr.text;
      Next();
      return MakeExpr(line, GetAttrExpr{std::move(node), std::move(name)});
    }
    if (attr.type != TokenType::kInt) Fail("expected name or number after '.'");
    ExprPtr index = MakeExpr(attr.line, ConstExpr{Value::Int(attr.int_value)});
    Next();
    return MakeExpr(line, GetItemExpr{std::move(node), std::move(index)});
  }
  ExpectOp("[");
  std::vector<ExprPtr> args;
  while (!IsOp("]")) {
    if (!args.empty()) ExpectOp(",");
    args.push_back(ParseSubscribed());
  }
  ExpectOp("]");
  ExprPtr index =
      args.size() == 1 ? std::move(args[0]) : MakeExpr(line, ListExpr{std::move(args), true});
  return MakeExpr(line, GetItemExpr{std::move(node), std::move(index)});
}

ExprPtr Parser::ParseSubscribed() {
  int line = Cur().line;
  SliceExpr slice;
  if (!SkipOp(":")) {
    ExprPtr node = ParseExpression();
    if (!SkipOp(":")) return node;
    slice.start = std::move(node);
  }
  if (!IsOp(":") && !IsOp("]") && !IsOp(",")) slice.stop = ParseExpression();
  if (SkipOp(":")) {
    if (!IsOp("]") && !IsOp(",")) slice.step = ParseExpression();
  }
  return MakeExpr(line, std::move(slice));
}

ExprPtr Parser::ParseCall(ExprPtr node) {
  int line = Cur().line;
  CallExpr call;
  call.callee = std::move(node);
  ParseCallArgs(call.call);
  return MakeExpr(line, std::move(call));
}

void Parser::ParseCallArgs(CallSite& call) {
  int line = Cur().line;
  ExpectOp("(");
  DepthGuard guard(*this);
  auto ensure = [&](bool ok) {
    if (!ok) FailAt("invalid syntax for function call expression", line);
  };
  bool require_comma = false;
  while (!IsOp(")")) {
    if (require_comma) {
      ExpectOp(",");
      if (IsOp(")")) break;
    }
    if (SkipOp("*")) {
      ensure(!call.star_args && !call.star_kwargs);
      call.star_args = ParseExpression();
    } else if (SkipOp("**")) {
      ensure(!call.star_kwargs);
      call.star_kwargs = ParseExpression();
    } else if (Cur().type == TokenType::kName && Peek().type == TokenType::kOp &&
               Peek().text == "=") {
      ensure(!call.star_kwargs);
      std::string key = Cur().text;
      Next();
      Next();
      call.kwargs.emplace_back(std::move(key), ParseExpression());
    } else {
      ensure(!call.star_args && !call.star_kwargs && call.kwargs.empty());
      call.args.push_back(ParseExpression());
    }
    require_comma = true;
  }
  ExpectOp(")");
}

ExprPtr Parser::ParseFilter(ExprPtr node, bool start_inline) {
  while (IsOp("|") || start_inline) {
    if (!start_inline) Next();
    start_inline = false;
    int line = Cur().line;
    std::string name = ExpectName();
    while (SkipOp(".")) name += "." + ExpectName();
    CheckFilterOrTest(name, true, line);
    FilterExpr f;
    f.operand = std::move(node);
    f.name = std::move(name);
    if (IsOp("(")) ParseCallArgs(f.call);
    node = MakeExpr(line, std::move(f));
  }
  return node;
}

ExprPtr Parser::ParseTest(ExprPtr node) {
  int line = Cur().line;
  Next();  // is
  bool negated = SkipName("not");
  std::string name = ExpectName();
  while (SkipOp(".")) name += "." + ExpectName();
  CheckFilterOrTest(name, false, line);
  TestExpr test;
  test.operand = std::move(node);
  test.name = std::move(name);
  const Token& t = Cur();
  bool arg_start = t.type == TokenType::kName || t.type == TokenType::kString ||
                   t.type == TokenType::kInt || t.type == TokenType::kFloat || IsOp("[") ||
                   IsOp("{");
  if (IsOp("(")) {
    ParseCallArgs(test.call);
  } else if (arg_start && !IsName("else") && !IsName("or") && !IsName("and")) {
    if (IsName("is")) Fail("you cannot chain multiple tests with is");
    test.call.args.push_back(ParsePostfix(ParsePrimary()));
  }
  ExprPtr out = MakeExpr(line, std::move(test));
  if (negated) out = MakeExpr(line, UnaryExpr{'!', std::move(out)});
  return out;
}

void Parser::NoteName(const std::string& name) {
  if (name != "caller" && name != "varargs" && name != "kwargs") return;
  for (MacroDef* m : macros_) {
    if (name == "caller") m->uses_caller = true;
    if (name == "varargs") m->uses_varargs = true;
    if (name == "kwargs") m->uses_kwargs = true;
  }
}

void Parser::CheckFilterOrTest(const std::string& name, bool is_filter, int line) {
  bool known = is_filter ? FindFilter(name) != nullptr : FindTest(name) != nullptr;
  if (known || frames_.back().soft) return;
  unknown_.push_back(
      {std::string("No ") + (is_filter ? "filter" : "test") + " named '" + name + "'.", line});
}

}  // namespace mle::text::jinja
