// Statement half of the Jinja parser (see jinja_parser.h), following jinja2/parser.py: a body
// runs until one of its end tags; each block remembers its end tags for error messages.
#include "text/jinja_parser.h"

namespace mle::text::jinja {
namespace {

template <typename T>
std::unique_ptr<Stmt> MakeStmt(int line, T node) {
  auto s = std::make_unique<Stmt>();
  s->line = line;
  s->node = std::move(node);
  return s;
}

std::string QuoteList(const std::vector<std::string>& names) {
  std::string out;
  for (size_t i = 0; i < names.size(); ++i) {
    if (i) out += " or ";
    out += "'" + names[i] + "'";
  }
  return out;
}

// A chain f1|f2|f3 parsed with a null innermost operand, as a list in application order.
std::vector<ExprPtr> FlattenFilters(ExprPtr chain) {
  std::vector<ExprPtr> out;
  while (chain) {
    auto* f = std::get_if<FilterExpr>(&chain->node);
    ExprPtr inner = f ? std::move(f->operand) : nullptr;
    out.insert(out.begin(), std::move(chain));
    chain = std::move(inner);
  }
  return out;
}

}  // namespace

Body ParseTemplate(std::string_view source, const LexerOptions& options) {
  Parser parser(Tokenize(source, options));
  return parser.ParseAll();
}

Body Parser::ParseAll() {
  Body body = Subparse({});
  if (!unknown_.empty()) FailAt(unknown_[0].message, unknown_[0].line);
  return body;
}

bool Parser::IsOp(std::string_view op) const {
  return Cur().type == TokenType::kOp && Cur().text == op;
}

bool Parser::IsName(std::string_view name) const {
  return Cur().type == TokenType::kName && Cur().text == name;
}

bool Parser::SkipOp(std::string_view op) {
  if (!IsOp(op)) return false;
  Next();
  return true;
}

bool Parser::SkipName(std::string_view name) {
  if (!IsName(name)) return false;
  Next();
  return true;
}

void Parser::ExpectOp(std::string_view op) {
  if (!SkipOp(op)) {
    Fail("expected token '" + std::string(op) + "', got '" + Describe(Cur()) + "'");
  }
}

std::string Parser::ExpectName() {
  if (Cur().type != TokenType::kName) Fail("expected a name, got '" + Describe(Cur()) + "'");
  std::string name = Cur().text;
  Next();
  return name;
}

void Parser::ExpectBlockEnd() {
  if (Cur().type != TokenType::kBlockEnd) {
    if (Cur().type == TokenType::kEof) FailEof();
    Fail("expected token 'end of statement block', got '" + Describe(Cur()) + "'");
  }
  Next();
}

void Parser::Fail(const std::string& message) const {
  FailAt(message, Cur().line);
}

void Parser::FailAt(const std::string& message, int line) const {
  throw JinjaError(ErrorKind::kSyntax, message, line);
}

std::string Parser::Describe(const Token& t) const {
  switch (t.type) {
    case TokenType::kName:
    case TokenType::kOp:
      return t.text;
    case TokenType::kString:
      return "string";
    case TokenType::kInt:
      return "integer";
    case TokenType::kFloat:
      return "float";
    case TokenType::kText:
      return "template data";
    case TokenType::kVarBegin:
      return "begin of print statement";
    case TokenType::kVarEnd:
      return "end of print statement";
    case TokenType::kBlockBegin:
      return "begin of statement block";
    case TokenType::kBlockEnd:
      return "end of statement block";
    case TokenType::kEof:
      return "end of template";
  }
  return "?";
}

void Parser::EnterDepth() {
  if (++depth_ > kMaxParseDepth) Fail("template nested too deeply");
}

void Parser::FailUnknownTag(const std::string& name) const {
  std::string msg = "Encountered unknown tag '" + name + "'.";
  const Frame& f = frames_.back();
  if (!f.end_tags.empty()) {
    msg += " Jinja was looking for the following tags: " + QuoteList(f.end_tags) +
           ". The innermost block that needs to be closed is '" + f.tag + "'.";
  }
  Fail(msg);
}

void Parser::FailEof() const {
  std::string msg = "Unexpected end of template.";
  const Frame& f = frames_.back();
  if (!f.end_tags.empty()) {
    msg += " Jinja was looking for the following tags: " + QuoteList(f.end_tags) +
           ". The innermost block that needs to be closed is '" + f.tag + "'.";
  }
  Fail(msg);
}

Body Parser::Subparse(const std::vector<std::string>& end_tags) {
  Body body;
  while (Cur().type != TokenType::kEof) {
    const Token& t = Cur();
    int line = t.line;
    if (t.type == TokenType::kText) {
      body.push_back(MakeStmt(line, TextStmt{t.text}));
      Next();
    } else if (t.type == TokenType::kVarBegin) {
      Next();
      ExprPtr e = ParseTuple(false, true, {}, false);
      if (Cur().type != TokenType::kVarEnd) {
        if (Cur().type == TokenType::kEof) FailEof();
        Fail("expected token 'end of print statement', got '" + Describe(Cur()) + "'");
      }
      Next();
      body.push_back(MakeStmt(line, OutputStmt{std::move(e)}));
    } else if (t.type == TokenType::kBlockBegin) {
      Next();
      for (const std::string& tag : end_tags) {
        if (IsName(tag)) return body;
      }
      body.push_back(ParseStatement());
      ExpectBlockEnd();
    } else {
      Fail("unexpected '" + Describe(t) + "'");
    }
  }
  return body;
}

Body Parser::ParseStatements(const std::vector<std::string>& end_tags, bool drop_needle) {
  SkipOp(":");
  ExpectBlockEnd();
  Body body = Subparse(end_tags);
  if (Cur().type == TokenType::kEof) FailEof();
  if (drop_needle) Next();
  return body;
}

Body Parser::ParseBlockBody(const std::vector<std::string>& end_tags, const std::string& tag,
                            bool soft, bool keep_loops, bool drop_needle) {
  DepthGuard guard(*this);
  int loops = keep_loops ? frames_.back().loop_depth : 0;
  frames_.push_back(Frame{soft, loops, end_tags, tag});
  Body body = ParseStatements(end_tags, drop_needle);
  frames_.pop_back();
  return body;
}

std::unique_ptr<Stmt> Parser::ParseStatement() {
  if (Cur().type != TokenType::kName) Fail("tag name expected");
  std::string name = Cur().text;
  auto stmt = std::make_unique<Stmt>();
  stmt->line = Cur().line;
  if (name == "for") {
    ParseFor(*stmt);
  } else if (name == "if") {
    ParseIf(*stmt);
  } else if (name == "set") {
    ParseSet(*stmt);
  } else if (name == "macro") {
    ParseMacro(*stmt);
  } else if (name == "call") {
    ParseCallBlock(*stmt);
  } else if (name == "filter") {
    ParseFilterBlock(*stmt);
  } else if (name == "with") {
    ParseWith(*stmt);
  } else if (name == "generation") {
    Next();
    stmt->node = ScopedBodyStmt{ParseBlockBody({"endgeneration"}, name, false, false, true)};
  } else if (name == "break" || name == "continue") {
    if (frames_.back().loop_depth == 0) Fail("'" + name + "' outside loop");
    Next();
    stmt->node = LoopControlStmt{name == "break"};
  } else if (name == "print") {
    Next();
    stmt->node = OutputStmt{ParseExpression()};
  } else if (name == "extends" || name == "include" || name == "import" || name == "from" ||
             name == "block" || name == "autoescape") {
    Fail("'" + name + "' is not supported: chat templates are rendered on their own");
  } else {
    FailUnknownTag(name);
  }
  return stmt;
}

void Parser::ParseFor(Stmt& stmt) {
  Next();
  ForStmt f;
  f.target = ParseAssignTarget(true, false, {"in"}, false);
  if (!SkipName("in")) Fail("expected token 'in', got '" + Describe(Cur()) + "'");
  f.iter = ParseTuple(false, false, {"recursive"}, false);
  if (SkipName("if")) {
    bool soft = frames_.back().soft;
    frames_.back().soft = false;  // the loop filter runs in the loop's own frame
    f.filter = ParseExpression();
    frames_.back().soft = soft;
  }
  f.recursive = SkipName("recursive");
  frames_.back().loop_depth++;
  f.body = ParseBlockBody({"endfor", "else"}, "for", false, true, false);
  frames_.back().loop_depth--;
  if (SkipName("else")) {
    f.else_body = ParseBlockBody({"endfor"}, "for", false, true, true);
  } else {
    Next();  // endfor
  }
  stmt.node = std::move(f);
}

void Parser::ParseIf(Stmt& stmt) {
  Next();
  IfStmt s;
  while (true) {
    bool soft = frames_.back().soft;
    frames_.back().soft = true;
    ExprPtr cond = ParseTuple(false, false, {}, false);
    frames_.back().soft = soft;
    Body body = ParseBlockBody({"elif", "else", "endif"}, "if", true, true, false);
    s.branches.emplace_back(std::move(cond), std::move(body));
    if (SkipName("elif")) continue;
    if (SkipName("else")) {
      s.else_body = ParseBlockBody({"endif"}, "if", true, true, true);
    } else {
      Next();  // endif
    }
    break;
  }
  stmt.node = std::move(s);
}

void Parser::ParseSet(Stmt& stmt) {
  Next();
  Target target = ParseAssignTarget(true, false, {}, true);
  if (SkipOp("=")) {
    stmt.node = SetStmt{std::move(target), ParseTuple(false, true, {}, false)};
    return;
  }
  SetBlockStmt s;
  s.target = std::move(target);
  bool soft = frames_.back().soft;
  frames_.back().soft = false;  // the block's own frame
  s.filters = FlattenFilters(ParseFilter(nullptr, false));
  frames_.back().soft = soft;
  s.body = ParseBlockBody({"endset"}, "set", false, true, true);
  stmt.node = std::move(s);
}

void Parser::ParseSignature(MacroDef& def) {
  ExpectOp("(");
  while (!IsOp(")")) {
    if (!def.params.empty()) ExpectOp(",");
    MacroParam p;
    p.name = ParseAssignTarget(false, true, {}, false).name;
    if (SkipOp("=")) {
      p.default_value = ParseExpression();
    } else if (!def.params.empty() && def.params.back().default_value) {
      Fail("non-default argument follows default argument");
    }
    def.params.push_back(std::move(p));
  }
  ExpectOp(")");
}

std::shared_ptr<MacroDef> Parser::ParseMacroBody(const std::string& end_tag,
                                                 std::shared_ptr<MacroDef> def) {
  macros_.push_back(def.get());
  std::string tag = end_tag.substr(3);
  def->body = ParseBlockBody({end_tag}, tag, false, false, true);
  macros_.pop_back();
  return def;
}

void Parser::ParseMacro(Stmt& stmt) {
  Next();
  auto def = std::make_shared<MacroDef>();
  def->name = ParseAssignTarget(false, true, {}, false).name;
  bool soft = frames_.back().soft;
  frames_.back().soft = false;  // defaults are evaluated in the macro's frame
  macros_.push_back(def.get());
  ParseSignature(*def);
  macros_.pop_back();
  frames_.back().soft = soft;
  stmt.node = MacroStmt{ParseMacroBody("endmacro", def)};
}

void Parser::ParseCallBlock(Stmt& stmt) {
  Next();
  auto def = std::make_shared<MacroDef>();
  def->name = "caller";
  if (IsOp("(")) ParseSignature(*def);
  int line = Cur().line;
  ExprPtr call = ParseExpression();
  if (!std::holds_alternative<CallExpr>(call->node)) FailAt("expected call", line);
  stmt.node = CallBlockStmt{ParseMacroBody("endcall", def), std::move(call)};
}

void Parser::ParseFilterBlock(Stmt& stmt) {
  Next();
  FilterBlockStmt s;
  bool soft = frames_.back().soft;
  frames_.back().soft = false;
  s.filters = FlattenFilters(ParseFilter(nullptr, true));
  frames_.back().soft = soft;
  s.body = ParseBlockBody({"endfilter"}, "filter", false, true, true);
  stmt.node = std::move(s);
}

void Parser::ParseWith(Stmt& stmt) {
  Next();
  WithStmt s;
  while (Cur().type != TokenType::kBlockEnd && Cur().type != TokenType::kEof) {
    if (!s.assignments.empty()) ExpectOp(",");
    Target t = ParseAssignTarget(true, false, {}, false);
    ExpectOp("=");
    s.assignments.emplace_back(std::move(t), ParseExpression());
  }
  s.body = ParseBlockBody({"endwith"}, "with", false, true, true);
  stmt.node = std::move(s);
}

Target Parser::ParseAssignTarget(bool with_tuple, bool name_only,
                                 const std::vector<std::string>& extra_end, bool with_namespace) {
  int line = Cur().line;
  if (name_only) {
    Target t;
    t.name = ExpectName();
    return t;
  }
  if (with_namespace && Cur().type == TokenType::kName && Peek().type == TokenType::kOp &&
      Peek().text == ".") {
    Target t;
    t.name = ExpectName();
    Next();
    t.attr = ExpectName();
    return t;
  }
  ExprPtr e = with_tuple ? ParseTuple(true, true, extra_end, false) : ParsePrimary();
  return ToTarget(*e, line);
}

Target Parser::ToTarget(const Expr& e, int line) const {
  Target t;
  if (const auto* name = std::get_if<NameExpr>(&e.node)) {
    t.name = name->name;
    return t;
  }
  const auto* list = std::get_if<ListExpr>(&e.node);
  if (!list || !list->is_tuple) {
    FailAt(std::holds_alternative<ConstExpr>(e.node) ? "can't assign to a constant"
                                                     : "can't assign to this expression",
           line);
  }
  t.is_tuple = true;
  for (const ExprPtr& item : list->items) t.items.push_back(ToTarget(*item, line));
  return t;
}

}  // namespace mle::text::jinja
