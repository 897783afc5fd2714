// ml-engine: parse the command line, resolve configuration, run one subcommand.
#include <cstdio>
#include <string>
#include <vector>

#include "core/build_info.h"

#include "cli/commands.h"

int main(int argc, char** argv) {
  using namespace mle::cli;
  CliContext ctx;
  CLI::App app{"ml-engine: train models and serve large language models on CPU"};
  app.set_version_flag("--version", [] { return std::string("ml-engine ") + MLE_VERSION_TEXT; });
  app.add_option("--config", ctx.config_path, "config file (default config/engine-config.json)");
  app.require_subcommand(1);
  app.fallthrough();

  AddVersionCommand(app, ctx);
  AddDataCommand(app, ctx);
#ifdef MLE_HAVE_TORCH
  AddModelsCommand(app, ctx);
  AddTrainCommand(app, ctx);
  AddPredictCommand(app, ctx);
  AddEvalCommand(app, ctx);
  AddQuickstartCommand(app, ctx);
#endif
  // Commands added by later modules go below (one line each).
  AddTemplateCommand(app, ctx);
  AddTokenizeCommand(app, ctx);
  AddGgufCommand(app, ctx);
  AddGenerateCommand(app, ctx);
  AddLogitsCommand(app, ctx);
  AddBenchCommand(app, ctx);
  AddServeCommand(app, ctx);
  AddLicenseCommand(app, ctx);
  AddPerplexityCommand(app, ctx);
  AddLmCommand(app, ctx);

  // Parse errors read like every other error: one line, "error: " first, the fix named.
  app.failure_message([](const CLI::App*, const CLI::Error& e) {
    return "error: " + std::string(e.what()) + " (see --help)\n";
  });
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // A word where a command was due ("ml-engine trian", "ml-engine gguf shwo"): name it.
    const CLI::App* cmd = &app;
    while (!cmd->get_subcommands().empty()) cmd = cmd->get_subcommands().front();
    const std::vector<std::string> rest = app.remaining();
    if (cmd->get_require_subcommand_min() > 0 && !rest.empty() && rest.front().rfind('-', 0) != 0) {
      std::fprintf(stderr, "error: unknown command '%s' (ml-engine %s--help lists the commands)\n",
                   rest.front().c_str(), cmd == &app ? "" : (cmd->get_name() + " ").c_str());
      return kExitUsage;
    }
    int rc = app.exit(e);
    return rc == 0 ? kExitOk : kExitUsage;
  }
  if (mle::Status s = ResolveConfig(ctx); !s.ok()) return Fail(s);
  if (!ctx.run) return kExitUsage;
  return ctx.run();
}
