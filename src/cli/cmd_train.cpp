// `ml-engine train MODEL [flags]`: trains a registered model. Prints one line per epoch,
// `[epoch 1] loss=0.52345 val_acc=0.8712`, a progress bar on stderr, and where the
// checkpoints, metrics log and run record are.
#include <cstdio>

#include "cli/commands.h"
#include "cli/train_console.h"

namespace mle::cli {

void AddTrainCommand(CLI::App& app, CliContext& ctx) {
  auto* cmd = app.add_subcommand("train", "train a registered model (see: ml-engine models)");
  static std::string model, ckpt_dir;
  static bool resume = false, quiet = false;
  cmd->add_option("model", model, "model name, e.g. cnn_mnist")->required();
  cmd->add_option("--ckpt-dir", ckpt_dir, "checkpoint directory (default checkpoints/MODEL)");
  cmd->add_flag("--resume", resume, "continue from CKPT_DIR/last.ckpt");
  cmd->add_flag("--quiet", quiet, "no progress bar");
  BindConfigFlags(cmd, ctx, "train");
  cmd->callback([&ctx] {
    ctx.run = [&ctx] {
      train::TrainOptions o = TrainOptionsFromConfig(ctx.config, model);
      if (!ckpt_dir.empty()) o.ckpt_dir = ckpt_dir;
      o.resume = resume;
      TrainConsole console(!quiet);
      train::TrainCallbacks cb = console.Callbacks();
      cb.on_start = [&](const std::string& id, const std::string& src, int64_t n_train,
                        int64_t n_val, int64_t start_epoch) {
        std::fprintf(stderr, "run %s: %s on %s (%lld train, %lld val), %d threads%s\n", id.c_str(),
                     model.c_str(), src.c_str(), static_cast<long long>(n_train),
                     static_cast<long long>(n_val), o.threads, resume ? ", resumed" : "");
      };
      auto result = train::Train(o, cb);
      if (!result.ok()) return Fail(result.status());
      if (result->early_stopped)
        std::printf("early stop: no improvement for %lld epochs\n",
                    static_cast<long long>(o.patience));
      std::printf("best val_acc: %.4f\n", result->best_val_acc);
      std::printf("checkpoint: %s\n",
                  (result->best_ckpt.empty() ? result->last_ckpt : result->best_ckpt).c_str());
      std::printf("resume point: %s\n", result->last_ckpt.c_str());
      std::printf("metrics: %s\n", result->metrics_path.c_str());
      std::printf("run record: %s (run %s)\n", result->db_path.c_str(), result->run_id.c_str());
      return kExitOk;
    };
  });
}

}  // namespace mle::cli
