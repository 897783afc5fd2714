// Training of registered image classifiers: reproducible (same seed, data and thread count
// give a bit-identical loss sequence), resumable (a resumed run continues with exactly the
// losses an uninterrupted run would have), checkpointed atomically, and recorded in the run
// database. The library never prints: progress reaches the caller through callbacks.
#pragma once

#include <atomic>
#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/status.h"

namespace mle::train {

struct TrainOptions {
  std::string model;  // registered name, e.g. "cnn_mnist"
  int64_t epochs = 3;
  int64_t batch_size = 64;
  double lr = 1e-3;
  std::string optimizer = "adam";  // sgd | adam | adamw
  double momentum = 0.9;           // sgd only
  double weight_decay = 0.0;
  std::string lr_schedule = "none";  // none | step | cosine
  uint64_t seed = 42;
  int threads = 1;
  std::string data_root;  // "" = DefaultDataRoot()
  double val_split = 0.0;
  int64_t limit_train = 0;
  int64_t limit_val = 0;
  std::string ckpt_dir;           // "" = checkpoints/<model>
  std::string runs_dir = "runs";  // holds ml-engine.db
  std::string save = "best";      // best | last | all (last.ckpt is always kept)
  int64_t patience = 0;           // early stopping; 0 = off
  int64_t ckpt_every_steps = 0;   // 0 = epoch ends only
  int64_t log_every_steps = 50;
  bool resume = false;  // continue from <ckpt_dir>/last.ckpt
  // The run's id in the run database; "" = a new one (or, with resume, the checkpoint's).
  // A record with this id that already exists (a queued job) is taken over.
  std::string run_id;
  nlohmann::json resolved_config;  // saved into checkpoints and the run record
};

struct EpochMetrics {
  int64_t epoch = 0;  // 1-based
  double train_loss = 0;
  double val_loss = 0;
  double val_acc = 0;
  double lr = 0;
  double seconds = 0;
};

struct StepEvent {
  int64_t epoch = 0;  // 1-based
  int64_t step = 0;   // within the epoch, 1-based
  int64_t steps_per_epoch = 0;
  int64_t global_step = 0;
  float loss = 0;
};

struct TrainCallbacks {
  std::function<void(const std::string& run_id, const std::string& data_source, int64_t n_train,
                     int64_t n_val, int64_t start_epoch)>
      on_start;
  std::function<void(const StepEvent&)> on_step;
  std::function<void(const EpochMetrics&)> on_epoch;
  const std::atomic<bool>* cancel = nullptr;  // set => stop at the next step (Cancelled)
};

struct TrainResult {
  std::string run_id;
  std::vector<EpochMetrics> epochs;
  double best_val_acc = 0;
  bool early_stopped = false;
  std::string ckpt_dir;
  std::string last_ckpt;
  std::string best_ckpt;
  std::string metrics_path;
  std::string db_path;
};

// The data directory used when TrainOptions::data_root is "": data/mnist when it exists, else
// Debian's Fashion-MNIST.
std::string DefaultDataRoot();

// Checks options that do not need data (model name, ranges, names of choices).
Status ValidateTrainOptions(const TrainOptions& options);

// Runs training. Bad input is reported before anything is written.
Result<TrainResult> Train(const TrainOptions& options, const TrainCallbacks& callbacks = {});

}  // namespace mle::train
