// What `train` and `quickstart` share: TrainOptions from the resolved config, and console
// output for a run (a progress bar on stderr, the `[epoch N] loss=... val_acc=...` lines on
// stdout).
#pragma once

#include <memory>
#include <string>

#include "core/config.h"
#include "core/progress.h"
#include "train/trainer.h"

namespace mle::cli {

train::TrainOptions TrainOptionsFromConfig(const Config& config, const std::string& model);

class TrainConsole {
 public:
  explicit TrainConsole(bool progress_bar) : progress_bar_(progress_bar) {}
  // Callbacks that print through this console; it must outlive the run.
  train::TrainCallbacks Callbacks();

 private:
  bool progress_bar_;
  std::unique_ptr<ProgressBar> bar_;
};

}  // namespace mle::cli
