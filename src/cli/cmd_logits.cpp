// `ml-engine logits -m MODEL -p PROMPT [--top K] [--json] [--greedy N]`: the prompt's ids and,
// at every prompt position, the top-K logits with the mean and rms of all logits, in the
// layout of ../shared/testdata/llamacpp-ref/*.json so the output can be diffed against it.
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "core/build_info.h"

#include "cli/commands.h"
#include "cli/llm_cli.h"
#include "llm/logits_report.h"

namespace mle::cli {
namespace {

struct LogitsArgs {
  std::string model;
  llm::LoadOptions load;
  std::vector<std::string> prompts;
  int top_k = 10;
  int n_greedy = 0;
  int32_t n_ctx = 0;
  bool json = false;
};

void PrintText(const text::Tokenizer& tok, const llm::PromptLogits& c) {
  std::printf("prompt: %s\n", c.prompt.c_str());
  for (size_t i = 0; i < c.positions.size(); ++i) {
    const llm::PositionLogits& p = c.positions[i];
    std::printf("[%3zu] %6d %-12s mean %8.4f rms %8.4f |", i, c.prompt_tokens[i],
                ("'" + std::string(tok.TokenToPiece(c.prompt_tokens[i], true)) + "'").c_str(),
                p.mean, p.rms);
    for (const auto& [id, logit] : p.top) std::printf(" %d:%.4f", id, logit);
    std::printf("\n");
  }
  for (size_t i = 0; i < c.greedy.size(); ++i) {
    std::printf("greedy %2zu: %6d margin %.4f\n", i, c.greedy[i], c.greedy_margin[i]);
  }
}

int RunLogits(const LogitsArgs& args, int n_threads) {
  if (args.prompts.empty()) return Fail(InvalidArgument("logits: give a prompt with -p TEXT"));
  llm::ContextOptions copts;
  copts.n_ctx = args.n_ctx;
  copts.n_threads = n_threads;
  Result<LoadedModel> m = LoadModelAndContext(args.model, copts, args.load);
  if (!m.ok()) return Fail(m.status());
  const text::Tokenizer& tok = m->model->tokenizer();
  std::vector<llm::PromptLogits> cases;
  for (const std::string& prompt : args.prompts) {
    Result<llm::PromptLogits> r = llm::ComputePromptLogits(
        *m->ctx, prompt, tok.Tokenize(prompt, true, false), args.top_k, args.n_greedy);
    if (!r.ok()) return Fail(r.status());
    if (!args.json) PrintText(tok, *r);
    cases.push_back(std::move(*r));
  }
  if (args.json) {
    const std::string name = args.model.substr(args.model.find_last_of('/') + 1);
    const std::string producer = std::string("ml-engine ") + MLE_VERSION_TEXT +
                                 ", n_threads=" + std::to_string(m->ctx->n_threads()) +
                                 "; prompt tokenized with add_special=true, parse_special=false";
    std::printf("%s\n", llm::PromptLogitsJson(name, producer, cases, args.top_k).dump().c_str());
  }
  return kExitOk;
}

}  // namespace

void AddLogitsCommand(CLI::App& app, CliContext& ctx) {
  auto args = std::make_shared<LogitsArgs>();
  auto* cmd = app.add_subcommand("logits", "print the top logits at every prompt position");
  cmd->add_option("-m,--model", args->model, "the .gguf model")->required();
  AddLoadFlags(cmd, args->load);
  cmd->add_option("-p,--prompt", args->prompts, "prompt text (repeatable: one case each)");
  cmd->add_option("--top", args->top_k, "logits per position (default 10)")
      ->check(CLI::Range(1, 1 << 20));
  cmd->add_option("--greedy", args->n_greedy, "also N greedy tokens with their margins")
      ->check(CLI::Range(0, 1 << 16));
  cmd->add_option("-c,--ctx", args->n_ctx, "context size in tokens (default min(model, 4096))");
  cmd->add_flag("--json", args->json, "one JSON object in the llamacpp-ref layout");
  BindConfigFlags(cmd, ctx, "logits");
  cmd->callback([&ctx, args] {
    ctx.run = [&ctx, args] { return RunLogits(*args, ResolvedThreads(ctx.config)); };
  });
}

}  // namespace mle::cli
