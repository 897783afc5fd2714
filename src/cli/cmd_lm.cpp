// `ml-engine lm`: the own-LLM pipeline, one child subcommand per step (tokenizer, data,
// pretrain, eval, export, generate). The steps without LibTorch work in every build.
#include "cli/commands.h"

namespace mle::cli {

void AddLmCommand(CLI::App& app, CliContext& ctx) {
  CLI::App* lm = app.add_subcommand(
      "lm",
      "own LLM pipeline: train a tokenizer, prepare data, pretrain, evaluate, export, generate");
  lm->require_subcommand(1);
  AddLmTokenizerCommand(lm, ctx);
  AddLmDataCommand(lm, ctx);
#ifdef MLE_HAVE_TORCH
  AddLmPretrainCommand(lm, ctx);
  AddLmEvalCommand(lm, ctx);
  AddLmExportCommand(lm, ctx);
  AddLmGenerateCommand(lm, ctx);
#endif
}

}  // namespace mle::cli
