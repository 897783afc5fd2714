// `ml-engine generate -m MODEL -p PROMPT`: streams the generated text to stdout and prints
// llama.cpp-style statistics to stderr. --chat wraps the prompt in the model's chat template;
// -i chats interactively (one user line per turn, the KV prefix kept between turns).
#include <cstdio>
#include <iostream>
#include <memory>
#include <string>

#include "cli/commands.h"
#include "cli/llm_cli.h"
#include "llm/chat_session.h"
#include "llm/generator.h"

namespace mle::cli {
namespace {

struct GenerateArgs {
  std::string model;
  llm::LoadOptions load;
  std::string prompt;
  llm::GenerateOptions gen;
  int32_t n_ctx = 0;
  bool chat = false;
  bool interactive = false;
  bool ids = false;
  std::string system;
};

void PrintStats(const LoadedModel& m, const llm::GenerateStats& s) {
  auto rate = [](double n, double ms) { return ms > 0 ? n * 1000.0 / ms : 0.0; };
  const int n_eval = s.n_prompt_tokens - s.n_prompt_reused;
  std::fprintf(stderr, "\nload:     %10.2f ms\n", m.t_load_ms);
  std::fprintf(
      stderr, "prompt:   %10.2f ms / %5d tokens (%8.2f tok/s)%s\n", s.t_prompt_ms, n_eval,
      rate(n_eval, s.t_prompt_ms),
      s.n_prompt_reused ? (" + " + std::to_string(s.n_prompt_reused) + " reused").c_str() : "");
  std::fprintf(stderr, "generate: %10.2f ms / %5d tokens (%8.2f tok/s), stop: %s, seed %llu\n",
               s.t_gen_ms, s.n_generated, rate(s.n_generated, s.t_gen_ms),
               llm::StopReasonName(s.stop_reason), static_cast<unsigned long long>(s.seed));
}

// One generation from `prompt`; streams text (or prints ids). Returns the reply or an error.
Result<std::string> RunOnce(const GenerateArgs& args, const LoadedModel& m, llm::Generator& gen,
                            const std::vector<llm::TokenId>& prompt) {
  auto on_text = [&args](std::string_view piece) {
    if (!args.ids) std::fwrite(piece.data(), 1, piece.size(), stdout);
    std::fflush(stdout);
    return true;
  };
  MLE_ASSIGN_OR_RETURN(llm::GenerateStats s, gen.Generate(prompt, args.gen, on_text));
  if (args.ids) {
    for (size_t i = 0; i < s.tokens.size(); ++i) std::printf(i ? " %d" : "%d", s.tokens[i]);
  }
  std::printf("\n");
  PrintStats(m, s);
  return s.text;
}

int RunGenerate(GenerateArgs& args, int n_threads) {
  if (Status s = llm::ValidateSamplingParams(args.gen.sampling); !s.ok()) return Fail(s);
  if (args.prompt.empty() && !args.interactive) {
    return Fail(InvalidArgument("generate: give a prompt with -p TEXT (or -i to chat)"));
  }
  if (!args.system.empty() && !args.chat && !args.interactive) {
    return Fail(InvalidArgument("generate: --system applies to chats: add --chat (or -i)"));
  }
  llm::ContextOptions copts;
  copts.n_ctx = args.n_ctx;
  copts.n_threads = n_threads;
  Result<LoadedModel> m = LoadModelAndContext(args.model, copts, args.load);
  if (!m.ok()) return Fail(m.status());
  llm::Generator gen(*m->ctx);
  const text::Tokenizer& tok = m->model->tokenizer();
  if (!args.chat && !args.interactive) {
    Result<std::string> r = RunOnce(args, *m, gen, tok.Tokenize(args.prompt, true, false));
    return r.ok() ? kExitOk : Fail(r.status());
  }
  Result<llm::ChatSession> chat = llm::ChatSession::Create(*m->model, args.system);
  if (!chat.ok()) return Fail(chat.status());
  std::string user = args.prompt;
  while (true) {
    if (user.empty() && args.interactive) {
      std::fprintf(stderr, "> ");
      if (!std::getline(std::cin, user)) break;
      if (user.empty()) continue;
    }
    Result<std::vector<llm::TokenId>> prompt = chat->PromptWithUser(user);
    if (!prompt.ok()) return Fail(prompt.status());
    Result<std::string> reply = RunOnce(args, *m, gen, *prompt);
    if (!reply.ok()) return Fail(reply.status());
    chat->AddAssistantReply(*reply);
    user.clear();
    if (!args.interactive) break;
  }
  return kExitOk;
}

}  // namespace

void AddGenerateCommand(CLI::App& app, CliContext& ctx) {
  auto args = std::make_shared<GenerateArgs>();
  auto* cmd = app.add_subcommand("generate", "generate text with a GGUF language model");
  cmd->add_option("-m,--model", args->model, "the .gguf model")->required();
  AddLoadFlags(cmd, args->load);
  cmd->add_option("-p,--prompt", args->prompt, "the prompt (with --chat: the user message)");
  cmd->add_option("-n,--n-predict", args->gen.n_predict,
                  "tokens to generate at most; -1 = until the end (default 128)");
  cmd->add_option("-c,--ctx", args->n_ctx, "context size in tokens (default min(model, 4096))");
  cmd->add_flag("--chat", args->chat, "apply the model's chat template to the prompt");
  cmd->add_option("--system", args->system, "system message (with --chat or -i)");
  cmd->add_option("--stop", args->gen.stop, "stop at this text (repeatable; not printed)");
  cmd->add_flag("--ids", args->ids, "print the generated token ids instead of the text");
  cmd->add_flag("-i,--interactive", args->interactive,
                "chat: read user lines from stdin until EOF, keeping the conversation");
  AddSamplingFlags(cmd, args->gen.sampling);
  BindConfigFlags(cmd, ctx, "generate");
  cmd->callback([&ctx, args] {
    ctx.run = [&ctx, args] { return RunGenerate(*args, ResolvedThreads(ctx.config)); };
  });
}

}  // namespace mle::cli
