// `ml-engine eval MODEL --ckpt PATH [--data D]`: accuracy, loss and confusion matrix on the
// test files of an MNIST-format directory (or a labelled CSV).
#include <cstdio>

#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "train/evaluate.h"

namespace mle::cli {

void AddEvalCommand(CLI::App& app, CliContext& ctx) {
  auto* cmd = app.add_subcommand("eval", "evaluate a checkpoint on the test set");
  static std::string model, ckpt;
  static int64_t limit = 0;
  static bool json = false;
  cmd->add_option("model", model, "model name (must match the checkpoint)")->required();
  cmd->add_option("--ckpt", ckpt, "checkpoint file")->required();
  cmd->add_option("--limit", limit, "evaluate only the first N test examples (0 = all)");
  cmd->add_flag("--json", json, "machine-readable output");
  BindConfigFlags(cmd, ctx, "eval");
  BindConfigKeys(cmd, ctx, {"paths.data"});
  cmd->callback([&ctx] {
    ctx.run = [&ctx] {
      train::EvalOptions o{ckpt, model, ctx.config.GetString("paths.data"), limit,
                           ResolvedThreads(ctx.config)};
      auto r = train::Evaluate(o);
      if (!r.ok()) return Fail(r.status());
      if (json) {
        nlohmann::json out = {{"model", r->model},
                              {"n", r->n},
                              {"accuracy", r->accuracy},
                              {"loss", r->loss},
                              {"confusion", r->confusion}};
        std::printf("%s\n", out.dump().c_str());
        return kExitOk;
      }
      std::printf("model %s on %lld examples: accuracy=%.4f loss=%.5f\n", r->model.c_str(),
                  static_cast<long long>(r->n), r->accuracy, r->loss);
      std::printf("confusion matrix (rows: true class, columns: predicted)\n      ");
      for (int c = 0; c < 10; ++c) std::printf("%6d", c);
      std::printf("\n");
      for (int t = 0; t < 10; ++t) {
        std::printf("%6d", t);
        for (int c = 0; c < 10; ++c)
          std::printf("%6lld", static_cast<long long>(r->confusion[t][c]));
        std::printf("\n");
      }
      return kExitOk;
    };
  });
}

}  // namespace mle::cli
