// Jinja lexer: template source to tokens, with Jinja2's whitespace control. `{%-`/`{{-`/`{#-`
// strip all whitespace before the tag, `-%}`/`-}}`/`-#}` all whitespace after it;
// trim_blocks drops the first newline after a block or comment tag; lstrip_blocks strips
// whitespace before a block or comment tag when only it stands between the start of the line
// and the tag; `{%+` and `+%}` turn both off for that tag. Internal to src/text.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace mle::text::jinja {

enum class TokenType {
  kText,        // template data
  kVarBegin,    // {{
  kVarEnd,      // }}
  kBlockBegin,  // {%
  kBlockEnd,    // %}
  kName,
  kString,  // text holds the unescaped value
  kInt,
  kFloat,
  kOp,  // text holds the operator: + - * / // % ** ~ ( ) [ ] { } == != < <= > >= = . : | , ;
  kEof,
};

struct Token {
  TokenType type = TokenType::kEof;
  std::string text;
  int64_t int_value = 0;
  double float_value = 0;
  int line = 1;
};

struct LexerOptions {
  bool trim_blocks = true;
  bool lstrip_blocks = true;
};

// Comments are dropped and raw blocks become text; newlines are normalised to \n and one
// trailing newline is dropped (keep_trailing_newline=False). Always ends with a kEof token.
// Throws JinjaError (kSyntax) with the line on malformed input.
std::vector<Token> Tokenize(std::string_view source, const LexerOptions& options);

}  // namespace mle::text::jinja
