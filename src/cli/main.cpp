// ml-engine: parse the command line, resolve configuration, run one subcommand.
#include <cstdio>

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

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int rc = app.exit(e);
    return rc == 0 ? kExitOk : kExitUsage;
  }
  if (mle::Status s = ResolveConfig(ctx); !s.ok()) return Fail(s);
  if (!ctx.run) return kExitUsage;
  return ctx.run();
}
