// `ml-engine tokenize`: tokenizes text with a GGUF file's vocabulary and prints ids and
// pieces; with --cases, runs a llama.cpp vocab-test .inp file and prints its .out lines.
#include <cstdio>
#include <iostream>
#include <iterator>
#include <memory>
#include <string>

#include "cli/commands.h"
#include "text/tokenizer.h"
#include "text/unicode.h"
#include "text/vocab_cases.h"

namespace mle::cli {
namespace {

struct TokenizeArgs {
  std::string model;
  std::string text;
  std::string cases;
  bool ids_only = false;
  bool no_bos = false;
  bool parse_special = false;
};

// A piece made printable: quotes, backslashes and control bytes escaped, and every byte of
// 0x80 and above too when the piece is not valid UTF-8 on its own (a byte token).
std::string Escape(std::string_view piece) {
  std::string normalized;
  const bool malformed = text::NormalizeUtf8(piece, &normalized);
  std::string out;
  for (char c : piece) {
    auto u = static_cast<unsigned char>(c);
    if (c == '\n') {
      out += "\\n";
    } else if (c == '\t') {
      out += "\\t";
    } else if (c == '\\' || c == '\'') {
      out += '\\';
      out += c;
    } else if (u < 0x20 || u == 0x7F || (malformed && u >= 0x80)) {
      char buf[8];
      std::snprintf(buf, sizeof(buf), "\\x%02x", u);
      out += buf;
    } else {
      out += c;
    }
  }
  return out;
}

int RunCases(const text::Tokenizer& tok, const TokenizeArgs& args) {
  auto content = text::ReadTextFile(args.cases);
  if (!content.ok()) return Fail(content.status());
  for (const std::string& c : text::ParseVocabTestCases(*content)) {
    std::vector<text::TokenId> ids = tok.Tokenize(c, !args.no_bos, args.parse_special);
    std::printf("%s\n", text::FormatVocabTestIds(ids).c_str());
  }
  return kExitOk;
}

int RunTokenize(TokenizeArgs args) {
  auto tok = text::Tokenizer::FromGguf(args.model);
  if (!tok.ok()) return Fail(tok.status());
  if (!args.cases.empty()) {
    args.no_bos = true;  // the .out files are made with add_special=false
    return RunCases(**tok, args);
  }
  if (args.text == "-") args.text.assign(std::istreambuf_iterator<char>(std::cin), {});
  std::vector<text::TokenId> ids = (*tok)->Tokenize(args.text, !args.no_bos, args.parse_special);
  if (args.ids_only) {
    std::printf("%s\n", text::FormatVocabTestIds(ids).c_str() + (ids.empty() ? 0 : 1));
    return kExitOk;
  }
  for (text::TokenId id : ids) {
    std::printf("%7d  '%s'\n", id, Escape((*tok)->TokenToPiece(id, true)).c_str());
  }
  std::printf("%zu tokens, %zu bytes\n", ids.size(), args.text.size());
  return kExitOk;
}

}  // namespace

void AddTokenizeCommand(CLI::App& app, CliContext& ctx) {
  auto args = std::make_shared<TokenizeArgs>();
  auto* cmd = app.add_subcommand("tokenize", "tokenize text with a GGUF model's vocabulary");
  cmd->add_option("-m,--model", args->model, "GGUF file whose vocabulary to use")->required();
  CLI::Option* text_opt =
      cmd->add_option("text", args->text, "the text to tokenize ('-' reads standard input)");
  cmd->add_option("--cases", args->cases,
                  "llama.cpp vocab-test .inp file: print one line of ids per case (.out format)");
  cmd->add_flag("--ids", args->ids_only, "print only the ids, space-separated");
  cmd->add_flag("--no-bos", args->no_bos, "do not add BOS/EOS even if the vocabulary asks");
  cmd->add_flag("--parse-special", args->parse_special,
                "turn text like <|im_start|> into its control token");
  BindConfigFlags(cmd, ctx, "tokenize");
  cmd->callback([&ctx, args, text_opt] {
    ctx.run = [args, given = text_opt->count() > 0] {
      if (!given && args->cases.empty()) {
        return Fail(InvalidArgument("tokenize: give the text to tokenize, '-' or --cases FILE"));
      }
      return RunTokenize(*args);
    };
  });
}

}  // namespace mle::cli
