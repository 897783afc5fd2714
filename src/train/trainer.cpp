// The training loop (see trainer.h). Reproducibility rests on three things: the shuffle of
// epoch e is a permutation drawn from its own generator seeded by (seed, e); dropout draws
// from the global generator, whose state is saved in every checkpoint; and the optimizer
// state (Adam moments, step counts) is saved with the weights. Resuming mid-epoch replays
// the epoch's permutation and skips the batches already done.
#include "train/trainer.h"

#include <chrono>
#include <cmath>
#include <filesystem>

#include "core/file_util.h"
#include "train/checkpoint.h"
#include "train/dataset.h"
#include "train/fused_adam.h"
#include "train/model_registry.h"
#include "train/run_store.h"
#include "train/torch_env.h"

namespace mle::train {
namespace {

using Clock = std::chrono::steady_clock;

// Learning rate of epoch `e` (0-based) for the schedule.
double ScheduledLr(const TrainOptions& o, int64_t e) {
  if (o.lr_schedule == "step") return o.lr * std::pow(0.7, static_cast<double>(e));
  if (o.lr_schedule == "cosine") {
    return 0.5 * o.lr * (1.0 + std::cos(M_PI * static_cast<double>(e) / o.epochs));
  }
  return o.lr;
}

std::unique_ptr<torch::optim::Optimizer> MakeOptimizer(const TrainOptions& o,
                                                       std::vector<torch::Tensor> params) {
  if (o.optimizer == "sgd") {
    return std::make_unique<torch::optim::SGD>(
        params, torch::optim::SGDOptions(o.lr).momentum(o.momentum).weight_decay(o.weight_decay));
  }
  return std::make_unique<FusedAdam>(params,
                                     torch::optim::AdamOptions(o.lr).weight_decay(o.weight_decay),
                                     /*decoupled_weight_decay=*/o.optimizer == "adamw");
}

void SetLr(torch::optim::Optimizer& opt, double lr) {
  for (auto& group : opt.param_groups()) group.options().set_lr(lr);
}

nlohmann::json EpochJson(const EpochMetrics& m) {
  return {{"epoch", m.epoch},
          {"train_loss", m.train_loss},
          {"val_loss", m.val_loss},
          {"val_acc", m.val_acc},
          {"lr", m.lr},
          {"seconds", m.seconds}};
}

// Keeps only the metrics lines a resumed run has not yet replaced (steps up to the
// checkpoint, epochs it completed), so the log reads as one uninterrupted run.
Status TruncateMetricsLog(const std::string& path, int64_t global_step, int64_t epochs_done) {
  return KeepJsonLines(path, [&](const nlohmann::json& j) {
    return (j.value("type", "") == "step" && j.value("global_step", INT64_MAX) <= global_step) ||
           (j.value("type", "") == "epoch" && j.value("epoch", INT64_MAX) <= epochs_done);
  });
}

}  // namespace

Status ValidateTrainOptions(const TrainOptions& o) {
  MLE_RETURN_IF_ERROR(CheckModelName(o.model));
  if (o.epochs <= 0)
    return InvalidArgument("epochs must be a positive integer, got " + std::to_string(o.epochs));
  if (o.batch_size <= 0) {
    return InvalidArgument("batch size must be a positive integer, got " +
                           std::to_string(o.batch_size));
  }
  if (!(o.lr > 0) || !std::isfinite(o.lr)) {
    return InvalidArgument("learning rate must be > 0, got " + std::to_string(o.lr));
  }
  if (o.optimizer != "sgd" && o.optimizer != "adam" && o.optimizer != "adamw") {
    return InvalidArgument("unknown optimizer '" + o.optimizer + "' (use sgd, adam or adamw)");
  }
  if (o.lr_schedule != "none" && o.lr_schedule != "step" && o.lr_schedule != "cosine") {
    return InvalidArgument("unknown lr schedule '" + o.lr_schedule +
                           "' (use none, step or cosine)");
  }
  if (o.save != "best" && o.save != "last" && o.save != "all") {
    return InvalidArgument("unknown save mode '" + o.save + "' (use best, last or all)");
  }
  if (o.val_split < 0 || o.val_split > 0.5) {
    return InvalidArgument("validation split must be in [0, 0.5], got " +
                           std::to_string(o.val_split));
  }
  if (o.threads <= 0) return InvalidArgument("threads must be positive");
  return Status::Ok();
}

// One training run: owns the model, optimizer, data and bookkeeping.
class TrainRun {
 public:
  TrainRun(const TrainOptions& o, const TrainCallbacks& cb) : o_(o), cb_(cb) {}
  Result<TrainResult> Run();

 private:
  Status Prepare();
  Status RunEpoch(int64_t epoch);
  std::pair<double, double> Validate();  // (loss, accuracy)
  Status SaveCheckpoint(const std::string& path);
  Status LogStep(const StepEvent& ev);
  nlohmann::json Meta() const;

  TrainOptions o_;
  const TrainCallbacks& cb_;
  DataSplit data_;
  std::shared_ptr<Classifier> model_;
  std::unique_ptr<torch::optim::Optimizer> opt_;
  std::unique_ptr<RunStore> store_;
  RunRecord record_;
  TrainResult result_;
  double mean_ = 0, std_ = 1;
  // Progress state; all of it is in the checkpoint.
  int64_t epochs_done_ = 0;
  int64_t step_in_epoch_ = 0;  // steps done in the current (unfinished) epoch
  int64_t global_step_ = 0;
  double loss_sum_ = 0;  // over the current epoch's steps so far
  int64_t epochs_since_best_ = 0;
};

Status TrainRun::Prepare() {
  MLE_RETURN_IF_ERROR(ValidateTrainOptions(o_));
  if (o_.ckpt_dir.empty()) o_.ckpt_dir = "checkpoints/" + o_.model;
  std::string last = o_.ckpt_dir + "/last.ckpt";
  // Read everything that can fail on bad input before writing anything.
  std::optional<LoadedCheckpoint> resume_from;
  if (o_.resume) {
    if (!FileExists(last)) {
      return NotFound("nothing to resume: '" + last + "' does not exist (train without " +
                      "--resume first, or pass the --ckpt-dir of an earlier run)");
    }
    MLE_ASSIGN_OR_RETURN(resume_from, LoadCheckpoint(last, o_.model));
  }
  DataOptions data_opts{o_.data_root, "", o_.val_split, o_.limit_train, o_.limit_val};
  MLE_ASSIGN_OR_RETURN(data_, LoadTrainingData(data_opts));
  SetTorchThreads(o_.threads);
  // The registry's models spend their time in convolutions and element-wise ops on the
  // intra-op (OpenMP) threads; their few matrix products go to OpenBLAS's own threads. Both
  // pools on the same cores fight (idle OpenMP workers spin): on 2 cores a third of cnn_mnist's
  // steps took twice as long. One BLAS thread removes that: 69 -> 50 ms/step mean. A rule,
  // not a measurement, so the same seed, data and threads still give the same losses.
  SetBlasThreads(1);
  torch::manual_seed(o_.seed);
  if (resume_from) {
    model_ = resume_from->model;
    mean_ = resume_from->mean;
    std_ = resume_from->std;
  } else {
    MLE_ASSIGN_OR_RETURN(model_, CreateModel(o_.model));
    std::tie(mean_, std_) = PixelStats(data_.train.images);
  }
  opt_ = MakeOptimizer(o_, model_->parameters());
  if (resume_from) {
    MLE_RETURN_IF_ERROR(RestoreTrainingState(*resume_from, *opt_));
    const auto& m = resume_from->meta;
    epochs_done_ = m.at("epochs_done");
    step_in_epoch_ = m.at("step_in_epoch");
    global_step_ = m.at("global_step");
    loss_sum_ = m.at("loss_sum");
    epochs_since_best_ = m.at("epochs_since_best");
    result_.best_val_acc = m.at("best_val_acc");
    for (const auto& e : m.at("epochs")) {
      result_.epochs.push_back({e.at("epoch"), e.at("train_loss"), e.at("val_loss"),
                                e.at("val_acc"), e.at("lr"), e.at("seconds")});
    }
    result_.run_id = m.at("run_id");
  } else {
    result_.run_id = RunStore::NewRunId(o_.model);
  }
  if (!o_.run_id.empty()) result_.run_id = o_.run_id;
  // From here on we write: directories, metrics log, run record.
  MLE_RETURN_IF_ERROR(EnsureDir(o_.ckpt_dir));
  RemoveStaleTempFiles(o_.ckpt_dir);
  result_.ckpt_dir = o_.ckpt_dir;
  result_.last_ckpt = last;
  result_.metrics_path = o_.ckpt_dir + "/metrics.jsonl";
  result_.db_path = o_.runs_dir + "/ml-engine.db";
  if (o_.resume) {
    MLE_RETURN_IF_ERROR(TruncateMetricsLog(result_.metrics_path, global_step_, epochs_done_));
  } else {
    MLE_RETURN_IF_ERROR(WriteFileAtomic(result_.metrics_path, ""));
    for (const char* stale : {"/best.ckpt", "/last.ckpt"})
      std::filesystem::remove(o_.ckpt_dir + stale);
  }
  MLE_ASSIGN_OR_RETURN(store_, RunStore::Open(result_.db_path));
  {
    // Take over the record of a resumed run or of a queued job (keeps created_at).
    MLE_ASSIGN_OR_RETURN(auto existing, store_->Get(result_.run_id));
    if (existing) record_ = *existing;
  }
  record_.kind = "train";
  record_.id = result_.run_id;
  record_.model = o_.model;
  record_.status = "running";
  record_.config = o_.resolved_config;
  record_.ckpt_dir = o_.ckpt_dir;
  record_.last_ckpt = last;
  record_.error.clear();
  return store_->Put(record_);
}

nlohmann::json TrainRun::Meta() const {
  nlohmann::json epochs = nlohmann::json::array();
  for (const auto& e : result_.epochs) epochs.push_back(EpochJson(e));
  return {{"model", o_.model},
          {"run_id", result_.run_id},
          {"epochs_done", epochs_done_},
          {"step_in_epoch", step_in_epoch_},
          {"global_step", global_step_},
          {"loss_sum", loss_sum_},
          {"best_val_acc", result_.best_val_acc},
          {"epochs_since_best", epochs_since_best_},
          {"epochs", epochs},
          {"normalization", {{"mean", mean_}, {"std", std_}}},
          {"config", o_.resolved_config},
          {"created_at", RunStore::NowIso8601()}};
}

Status TrainRun::SaveCheckpoint(const std::string& path) {
  return WriteCheckpoint(path, Meta(), *model_, *opt_);
}

Status TrainRun::LogStep(const StepEvent& ev) {
  nlohmann::json line = {{"type", "step"},  {"epoch", ev.epoch},
                         {"step", ev.step}, {"global_step", ev.global_step},
                         {"loss", ev.loss}, {"lr", ScheduledLr(o_, ev.epoch - 1)}};
  return AppendLine(result_.metrics_path, line.dump());
}

std::pair<double, double> TrainRun::Validate() {
  torch::NoGradGuard no_grad;
  model_->eval();
  const int64_t n = data_.val.size();
  constexpr int64_t kBatch = 1000;
  double loss_sum = 0;
  int64_t correct = 0;
  for (int64_t i = 0; i < n; i += kBatch) {
    int64_t end = std::min(n, i + kBatch);
    auto x = NormalizeImages(data_.val.images.slice(0, i, end), mean_, std_);
    auto y = data_.val.labels.slice(0, i, end);
    auto out = model_->forward(x);  // [B, 10]
    loss_sum += torch::nll_loss(out, y, {}, at::Reduction::Sum).item<double>();
    correct += out.argmax(1).eq(y).sum().item<int64_t>();
  }
  model_->train();
  return {loss_sum / n, static_cast<double>(correct) / n};
}

Status TrainRun::RunEpoch(int64_t epoch) {
  const int64_t n = data_.train.size();
  const int64_t steps = (n + o_.batch_size - 1) / o_.batch_size;
  auto t0 = Clock::now();
  double lr = ScheduledLr(o_, epoch);
  SetLr(*opt_, lr);
  auto gen = at::make_generator<at::CPUGeneratorImpl>(o_.seed * 1000003ULL + epoch);
  auto perm = torch::randperm(n, gen, torch::kInt64);  // [N]
  model_->train();
  for (int64_t step = step_in_epoch_; step < steps; ++step) {
    if (cb_.cancel && cb_.cancel->load()) return Cancelled("training cancelled");
    auto idx = perm.slice(0, step * o_.batch_size, std::min(n, (step + 1) * o_.batch_size));
    auto x = NormalizeImages(data_.train.images.index_select(0, idx), mean_, std_);  // [B,1,28,28]
    auto y = data_.train.labels.index_select(0, idx);                                // [B]
    ClearGradients(*model_);
    auto loss = torch::nll_loss(model_->forward(x), y);
    loss.backward();
    opt_->step();
    float loss_value = loss.item<float>();
    if (!std::isfinite(loss_value)) {
      return FailedPrecondition("loss became " + std::to_string(loss_value) + " at step " +
                                std::to_string(global_step_ + 1) +
                                "; lower the learning rate (--lr)");
    }
    loss_sum_ += loss_value;
    step_in_epoch_ = step + 1;
    ++global_step_;
    StepEvent ev{epoch + 1, step + 1, steps, global_step_, loss_value};
    if (global_step_ % o_.log_every_steps == 0 || step + 1 == steps)
      MLE_RETURN_IF_ERROR(LogStep(ev));
    if (cb_.on_step) cb_.on_step(ev);
    if (o_.ckpt_every_steps > 0 && global_step_ % o_.ckpt_every_steps == 0 && step + 1 < steps) {
      MLE_RETURN_IF_ERROR(SaveCheckpoint(result_.last_ckpt));
    }
  }
  auto [val_loss, val_acc] = Validate();
  EpochMetrics m{epoch + 1, loss_sum_ / steps,
                 val_loss,  val_acc,
                 lr,        std::chrono::duration<double>(Clock::now() - t0).count()};
  result_.epochs.push_back(m);
  epochs_done_ = epoch + 1;
  step_in_epoch_ = 0;
  loss_sum_ = 0;
  bool improved = val_acc > result_.best_val_acc;
  if (improved) {
    result_.best_val_acc = val_acc;
    epochs_since_best_ = 0;
  } else {
    ++epochs_since_best_;
  }
  nlohmann::json line = EpochJson(m);
  line["type"] = "epoch";
  MLE_RETURN_IF_ERROR(AppendLine(result_.metrics_path, line.dump()));
  if (improved && (o_.save == "best" || o_.save == "all")) {
    result_.best_ckpt = o_.ckpt_dir + "/best.ckpt";
    MLE_RETURN_IF_ERROR(SaveCheckpoint(result_.best_ckpt));
  }
  if (o_.save == "all") {
    char name[48];
    std::snprintf(name, sizeof name, "/epoch-%03lld.ckpt", static_cast<long long>(epoch + 1));
    MLE_RETURN_IF_ERROR(SaveCheckpoint(o_.ckpt_dir + name));
  }
  MLE_RETURN_IF_ERROR(SaveCheckpoint(result_.last_ckpt));
  record_.metrics = {{"epochs", Meta()["epochs"]}, {"best_val_acc", result_.best_val_acc}};
  record_.best_ckpt = result_.best_ckpt;
  MLE_RETURN_IF_ERROR(store_->Put(record_));
  if (cb_.on_epoch) cb_.on_epoch(m);
  return Status::Ok();
}

Result<TrainResult> TrainRun::Run() {
  MLE_RETURN_IF_ERROR(Prepare());
  if (cb_.on_start) {
    cb_.on_start(result_.run_id, data_.source, data_.train.size(), data_.val.size(),
                 epochs_done_ + 1);
  }
  if (FileExists(o_.ckpt_dir + "/best.ckpt")) result_.best_ckpt = o_.ckpt_dir + "/best.ckpt";
  Status s;
  for (int64_t e = epochs_done_; e < o_.epochs && s.ok(); ++e) {
    if (o_.patience > 0 && epochs_since_best_ >= o_.patience) {
      result_.early_stopped = true;
      break;
    }
    try {
      s = RunEpoch(e);
    } catch (const std::exception& ex) {
      s = Internal(std::string("training failed: ") + ex.what());
    }
  }
  record_.status =
      s.ok() ? "completed" : (s.code() == StatusCode::kCancelled ? "cancelled" : "failed");
  record_.error = s.ok() ? "" : s.message();
  Status put = store_->Put(record_);
  if (!s.ok()) return s;
  if (!put.ok()) return put;
  return result_;
}

Result<TrainResult> Train(const TrainOptions& options, const TrainCallbacks& callbacks) {
  try {
    TrainRun run(options, callbacks);
    return run.Run();
  } catch (const std::exception& e) {
    return Internal(std::string("training failed: ") + e.what());
  }
}

}  // namespace mle::train
