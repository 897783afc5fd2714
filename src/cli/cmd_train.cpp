// `ml-engine train MODEL [flags]`: trains a registered model. Prints one line per epoch,
// `[epoch 1] loss=0.52345 val_acc=0.8712`, a progress bar on stderr, and where the
// checkpoints, metrics log and run record are.
#include <cstdio>
#include <memory>

#include "cli/commands.h"
#include "core/progress.h"
#include "train/trainer.h"

namespace mle::cli {
namespace {

train::TrainOptions OptionsFromConfig(const Config& c, const std::string& model) {
  train::TrainOptions o;
  o.model = model;
  o.epochs = c.GetInt("train.epochs");
  o.batch_size = c.GetInt("train.batch_size");
  o.lr = c.GetDouble("train.lr");
  o.optimizer = c.GetString("train.optimizer");
  o.momentum = c.GetDouble("train.momentum");
  o.weight_decay = c.GetDouble("train.weight_decay");
  o.lr_schedule = c.GetString("train.lr_schedule");
  o.seed = static_cast<uint64_t>(c.GetInt("train.seed"));
  o.threads = ResolvedThreads(c);
  o.data_root = c.GetString("paths.data");
  o.val_split = c.GetDouble("train.val_split");
  o.limit_train = c.GetInt("train.limit_train");
  o.limit_val = c.GetInt("train.limit_val");
  o.runs_dir = c.GetString("paths.runs");
  o.save = c.GetString("train.save");
  o.patience = c.GetInt("train.patience");
  o.ckpt_every_steps = c.GetInt("train.ckpt_every_steps");
  o.log_every_steps = c.GetInt("train.log_every_steps");
  o.resolved_config = c.ToJson();
  return o;
}

}  // namespace

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
      train::TrainOptions o = OptionsFromConfig(ctx.config, model);
      o.ckpt_dir =
          ckpt_dir.empty() ? ctx.config.GetString("paths.checkpoints") + "/" + model : ckpt_dir;
      o.resume = resume;
      std::unique_ptr<ProgressBar> bar;
      train::TrainCallbacks cb;
      cb.on_start = [&](const std::string& id, const std::string& src, int64_t n_train,
                        int64_t n_val, int64_t start_epoch) {
        std::fprintf(stderr, "run %s: %s on %s (%lld train, %lld val), %d threads%s\n", id.c_str(),
                     model.c_str(), src.c_str(), static_cast<long long>(n_train),
                     static_cast<long long>(n_val), o.threads,
                     start_epoch > 1 || resume ? ", resumed" : "");
      };
      cb.on_step = [&](const train::StepEvent& ev) {
        if (quiet) return;
        if (!bar) {
          bar = std::make_unique<ProgressBar>("epoch " + std::to_string(ev.epoch),
                                              ev.steps_per_epoch);
        }
        char loss[32];
        std::snprintf(loss, sizeof loss, "loss=%.4f", ev.loss);
        bar->Update(ev.step, loss);
      };
      cb.on_epoch = [&](const train::EpochMetrics& m) {
        if (bar) bar->Finish();
        bar.reset();
        std::printf("[epoch %lld] loss=%.5f val_acc=%.4f\n", static_cast<long long>(m.epoch),
                    m.train_loss, m.val_acc);
        std::fflush(stdout);
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
