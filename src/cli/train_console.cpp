// Console output of training runs (see train_console.h).
#include "cli/train_console.h"

#include <cstdio>

#include "cli/cli_common.h"

namespace mle::cli {

train::TrainOptions TrainOptionsFromConfig(const Config& c, const std::string& model) {
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
  o.ckpt_dir = c.GetString("paths.checkpoints") + "/" + model;
  o.save = c.GetString("train.save");
  o.patience = c.GetInt("train.patience");
  o.ckpt_every_steps = c.GetInt("train.ckpt_every_steps");
  o.log_every_steps = c.GetInt("train.log_every_steps");
  o.resolved_config = c.ToJson();
  return o;
}

train::TrainCallbacks TrainConsole::Callbacks() {
  train::TrainCallbacks cb;
  cb.on_step = [this](const train::StepEvent& ev) {
    if (!progress_bar_) return;
    if (!bar_) {
      bar_ = std::make_unique<ProgressBar>("epoch " + std::to_string(ev.epoch), ev.steps_per_epoch);
    }
    char loss[32];
    std::snprintf(loss, sizeof loss, "loss=%.4f", ev.loss);
    bar_->Update(ev.step, loss);
  };
  cb.on_epoch = [this](const train::EpochMetrics& m) {
    if (bar_) bar_->Finish();
    bar_.reset();
    std::printf("[epoch %lld] loss=%.5f val_acc=%.4f\n", static_cast<long long>(m.epoch),
                m.train_loss, m.val_acc);
    std::fflush(stdout);
  };
  return cb;
}

}  // namespace mle::cli
