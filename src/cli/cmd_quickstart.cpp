// `ml-engine quickstart`: the main job of `make run`. Trains cnn_mnist for one epoch on the
// default data (unless a checkpoint exists), evaluates it and shows how to use it.
#include <cstdio>

#include "cli/commands.h"
#include "cli/train_console.h"
#include "core/file_util.h"
#include "train/evaluate.h"

namespace mle::cli {

void AddQuickstartCommand(CLI::App& app, CliContext& ctx) {
  auto* cmd = app.add_subcommand("quickstart", "train, evaluate and show how to use cnn_mnist");
  static int64_t epochs = 1;
  static bool force = false;
  cmd->add_option("--epochs", epochs, "epochs to train")->capture_default_str();
  cmd->add_flag("--retrain", force, "train even if a checkpoint exists");
  BindConfigFlags(cmd, ctx, "quickstart");
  BindConfigKeys(cmd, ctx, {"paths.data"});
  cmd->callback([&ctx] {
    ctx.run = [&ctx] {
      const Config& c = ctx.config;
      std::string best = c.GetString("paths.checkpoints") + "/cnn_mnist/best.ckpt";
      if (force || !FileExists(best)) {
        train::TrainOptions o = TrainOptionsFromConfig(c, "cnn_mnist");
        o.epochs = epochs;
        TrainConsole console(/*progress_bar=*/true);
        train::TrainCallbacks cb = console.Callbacks();
        std::printf("training cnn_mnist for %lld epoch(s) on %d threads...\n",
                    static_cast<long long>(epochs), o.threads);
        auto r = train::Train(o, cb);
        if (!r.ok()) return Fail(r.status());
        std::printf("metrics: %s\nrun record: %s (run %s)\n", r->metrics_path.c_str(),
                    r->db_path.c_str(), r->run_id.c_str());
      } else {
        std::printf("using existing checkpoint %s (--retrain to train again)\n", best.c_str());
      }
      auto ev =
          train::Evaluate({best, "cnn_mnist", c.GetString("paths.data"), 0, ResolvedThreads(c)});
      if (!ev.ok()) return Fail(ev.status());
      std::printf("test accuracy: %.4f on %lld examples\ncheckpoint: %s\n", ev->accuracy,
                  static_cast<long long>(ev->n), best.c_str());
      std::printf(
          "\nnext steps:\n  ml-engine eval cnn_mnist --ckpt %s\n"
          "  ml-engine predict cnn_mnist --ckpt %s --input "
          "/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz --limit 5\n"
          "  ml-engine train cnn_mnist --epochs 3\n"
          "  ml-engine serve   # the REST API (docs/api.md); make run starts it now\n",
          best.c_str(), best.c_str());
      return kExitOk;
    };
  });
}

}  // namespace mle::cli
