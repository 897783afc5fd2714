// `lm pretrain`: AdamW with warmup + cosine schedule, gradient clipping and accumulation,
// bf16 autocast when the CPU has bf16 instructions and it measures faster, periodic
// validation and samples, atomic checkpoints with exact resume, and the run database.
//
// Exact resume: a step's batch is a pure function of (seed, step, micro-batch), the learning
// rate a function of the step, and the model has no dropout; a checkpoint holds the weights,
// the AdamW state and the step. So a resumed run computes the same losses bit for bit (same
// thread count), which the tests check.
#include <ATen/autocast_mode.h>

#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "core/cpu_info.h"
#include "core/file_util.h"
#include "core/splitmix.h"
#include "lm/lm.h"
#include "lm/lm_checkpoint.h"
#include "lm/token_shards.h"
#include "train/fused_adam.h"
#include "train/run_store.h"
#include "train/torch_env.h"

namespace mle::lm {
namespace fs = std::filesystem;
namespace {

using Clock = std::chrono::steady_clock;

uint64_t Mix(uint64_t x) {
  return SplitMixHash(x + kSplitMixGamma);
}

struct Batch {
  torch::Tensor x, y;  // [B, T] int64
};

// `rows` windows of t+1 tokens starting at `starts`, as inputs and next-token targets.
Result<Batch> ReadBatch(const TokenData& data, Split split, const std::vector<uint64_t>& starts,
                        int64_t t) {
  const auto rows = static_cast<int64_t>(starts.size());
  torch::Tensor buf = torch::empty({rows, t + 1}, torch::kInt64);
  int64_t* p = buf.data_ptr<int64_t>();
  for (int64_t r = 0; r < rows; ++r) {
    MLE_RETURN_IF_ERROR(data.Read(split, starts[r], static_cast<size_t>(t + 1), p + r * (t + 1)));
  }
  return Batch{buf.narrow(1, 0, t).contiguous(), buf.narrow(1, 1, t).contiguous()};
}

// The training batch of (step, micro): offsets drawn from a hash, no state to save.
Result<Batch> TrainBatch(const TokenData& data, uint64_t seed, int64_t step, int micro, int b,
                         int64_t t) {
  const uint64_t span = data.n_tokens(Split::kTrain) - static_cast<uint64_t>(t);  // >= 1
  std::vector<uint64_t> starts(b);
  for (int r = 0; r < b; ++r) {
    starts[r] =
        Mix(seed ^ Mix(static_cast<uint64_t>(step) * 1000003ull + micro * 4099ull + r)) % span;
  }
  return ReadBatch(data, Split::kTrain, starts, t);
}

// Fixed validation windows spread evenly over the split.
Result<std::vector<Batch>> ValBatches(const TokenData& data, int b, int64_t t, int n_batches) {
  const uint64_t n_val = data.n_tokens(Split::kVal);
  t = std::min<int64_t>(t, static_cast<int64_t>(n_val) - 1);
  const uint64_t span = n_val - static_cast<uint64_t>(t);
  const int total = b * n_batches;
  std::vector<Batch> out;
  for (int k = 0; k < n_batches; ++k) {
    std::vector<uint64_t> starts(b);
    for (int r = 0; r < b; ++r) {
      const uint64_t i = static_cast<uint64_t>(k * b + r);
      starts[r] = total > 1 ? i * (span - 1) / static_cast<uint64_t>(total - 1) : 0;
    }
    MLE_ASSIGN_OR_RETURN(Batch batch, ReadBatch(data, Split::kVal, starts, t));
    out.push_back(std::move(batch));
  }
  return out;
}

double LrAt(const PretrainOptions& o, int64_t warmup, int64_t step) {
  if (step < warmup) return o.lr * static_cast<double>(step + 1) / static_cast<double>(warmup);
  const double min_lr = o.lr * o.min_lr_ratio;
  const double progress = static_cast<double>(step - warmup) /
                          static_cast<double>(std::max<int64_t>(1, o.steps - warmup));
  return min_lr + 0.5 * (o.lr - min_lr) * (1.0 + std::cos(M_PI * std::min(1.0, progress)));
}

// bf16 autocast for the ops LibTorch lists as safe in lower precision (matmuls); the rest
// stays fp32. Mirrors Python's torch.autocast("cpu") enter/exit.
class AutocastScope {
 public:
  explicit AutocastScope(bool on) : on_(on) {
    if (!on_) return;
    prev_enabled_ = at::autocast::is_cpu_enabled();
    prev_dtype_ = at::autocast::get_autocast_cpu_dtype();
    at::autocast::set_cpu_enabled(true);
    at::autocast::set_autocast_cpu_dtype(at::kBFloat16);
    at::autocast::increment_nesting();
  }
  ~AutocastScope() {
    if (!on_) return;
    if (at::autocast::decrement_nesting() == 0) at::autocast::clear_cache();
    at::autocast::set_cpu_enabled(prev_enabled_);
    at::autocast::set_autocast_cpu_dtype(prev_dtype_);
  }
  AutocastScope(const AutocastScope&) = delete;
  AutocastScope& operator=(const AutocastScope&) = delete;

 private:
  bool on_;
  bool prev_enabled_ = false;
  at::ScalarType prev_dtype_ = at::kBFloat16;
};

// Seconds per forward+backward of `batch` (median of 3 after one warm-up).
double TimeStep(GptModel& model, const Batch& batch, bool bf16) {
  std::vector<double> times;
  for (int i = 0; i < 4; ++i) {
    const auto t0 = Clock::now();
    torch::Tensor loss;
    {
      AutocastScope ac(bf16);
      loss = model->Loss(batch.x, batch.y);
    }
    loss.backward();
    train::ClearGradients(*model);
    if (i > 0) times.push_back(std::chrono::duration<double>(Clock::now() - t0).count());
  }
  std::sort(times.begin(), times.end());
  return times[1];
}

Result<double> ValLoss(GptModel& model, const std::vector<Batch>& batches, bool bf16) {
  torch::NoGradGuard no_grad;
  model->eval();
  double sum = 0;
  for (const Batch& b : batches) {
    AutocastScope ac(bf16);
    sum += model->Loss(b.x, b.y).item<double>();
  }
  model->train();
  return sum / static_cast<double>(batches.size());
}

Status CopyTokenizer(const std::string& from, const std::string& to_dir) {
  MLE_RETURN_IF_ERROR(EnsureDir(to_dir));
  for (const char* f : {"tokenizer.model", "tokenizer.json"}) {
    MLE_ASSIGN_OR_RETURN(std::string bytes, ReadFile(from + "/" + f));
    MLE_RETURN_IF_ERROR(WriteFileAtomic(to_dir + "/" + f, bytes));
  }
  return Status::Ok();
}

Status CheckOptions(const PretrainOptions& o) {
  if (o.data_dir.empty()) return InvalidArgument("--data is required (a directory from `lm data`)");
  if (o.run_dir.empty()) return InvalidArgument("-o RUN_DIR is required");
  if (o.steps < 1) return InvalidArgument("--steps must be >= 1");
  if (o.batch_size < 1) return InvalidArgument("--batch-size must be >= 1");
  if (o.grad_accum < 1) return InvalidArgument("--grad-accum must be >= 1");
  if (!(o.lr > 0 && o.lr < 10)) return InvalidArgument("--lr must be in (0, 10)");
  if (!(o.min_lr_ratio >= 0 && o.min_lr_ratio <= 1)) {
    return InvalidArgument("--min-lr-ratio must be in [0, 1]");
  }
  if (o.weight_decay < 0) return InvalidArgument("--weight-decay must be >= 0");
  if (o.grad_clip < 0) return InvalidArgument("--grad-clip must be >= 0 (0 = off)");
  if (!(o.beta1 >= 0 && o.beta1 < 1 && o.beta2 >= 0 && o.beta2 < 1)) {
    return InvalidArgument("AdamW betas must be in [0, 1)");
  }
  if (o.eval_batches < 1) return InvalidArgument("--eval-batches must be >= 1");
  if (o.stop_at < 0) return InvalidArgument("--stop-at must be >= 0 (0 = run all steps)");
  if (o.precision != "auto" && o.precision != "fp32" && o.precision != "bf16") {
    return InvalidArgument("--precision '" + o.precision + "' is not one of auto, fp32, bf16");
  }
  return Status::Ok();
}

std::string HumanBytes(uint64_t b) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.1f GiB", static_cast<double>(b) / (1ull << 30));
  return buf;
}

}  // namespace

Result<PretrainResult> Pretrain(const PretrainOptions& opts, const PretrainCallbacks& cb) {
  PretrainOptions o = opts;
  MLE_RETURN_IF_ERROR(CheckOptions(o));
  const int threads =
      o.threads > 0 ? o.threads : static_cast<int>(std::thread::hardware_concurrency());
  train::SetTorchThreads(threads);

  // Every input is read and checked before anything is written.
  MLE_ASSIGN_OR_RETURN(std::unique_ptr<TokenData> data, TokenData::Open(o.data_dir));
  MLE_ASSIGN_OR_RETURN(std::unique_ptr<LmTokenizer> tok, LmTokenizer::Load(data->tokenizer_dir()));
  if (tok->sha256() != data->tokenizer_sha256()) {
    return InvalidArgument("data '" + o.data_dir + "' was tokenized with another tokenizer than '" +
                           data->tokenizer_dir() + "' holds now (re-run `lm data`)");
  }
  MLE_ASSIGN_OR_RETURN(LmConfig cfg, LmConfigFromSize(o.size, data->vocab_size()));
  const int64_t t = cfg.context;
  if (data->n_tokens(Split::kTrain) < static_cast<uint64_t>(t) + 1) {
    return InvalidArgument("data '" + o.data_dir + "' has " +
                           std::to_string(data->n_tokens(Split::kTrain)) +
                           " training tokens, fewer than the context + 1 (" +
                           std::to_string(t + 1) + "); add text or use a smaller context");
  }
  if (data->n_tokens(Split::kVal) < 2) {
    return InvalidArgument("data '" + o.data_dir +
                           "' has no validation tokens (re-run `lm data` with --val-fraction > 0)");
  }
  const uint64_t need = EstimateTrainingBytes(cfg, o.batch_size);
  const uint64_t avail = AvailableMemoryBytes();
  if (avail > 0 && need > avail) {
    return ResourceExhausted("model of " + std::to_string(ParameterCount(cfg)) +
                             " parameters at batch " + std::to_string(o.batch_size) +
                             " needs about " + HumanBytes(need) + " but " + HumanBytes(avail) +
                             " is available; choose a smaller --size or --batch-size");
  }
  const std::string last_path = o.run_dir + "/last.ckpt", best_path = o.run_dir + "/best.ckpt";
  const std::string metrics_path = o.run_dir + "/metrics.jsonl";
  nlohmann::json resume_meta;
  if (o.resume) {
    if (!FileExists(last_path)) {
      return InvalidArgument("--resume: '" + last_path +
                             "' does not exist (start the run without --resume)");
    }
    MLE_ASSIGN_OR_RETURN(resume_meta, ReadLmCheckpointMeta(last_path));
    if (resume_meta.value("config", nlohmann::json()) != ToJson(cfg)) {
      return InvalidArgument("--resume: '" + last_path + "' holds a model of shape " +
                             resume_meta.value("config", nlohmann::json()).dump() + " but --size " +
                             o.size + " gives " + ToJson(cfg).dump() +
                             " (resume with the run's --size, or use a new -o)");
    }
  } else if (IsDirectory(o.run_dir) && !fs::is_empty(o.run_dir)) {
    return InvalidArgument("run directory '" + o.run_dir +
                           "' is not empty; pass --resume to continue it or choose another -o");
  }

  torch::manual_seed(o.seed);
  GptModel model(cfg);
  model->train();
  const int64_t warmup =
      o.warmup_steps >= 0 ? o.warmup_steps : std::min<int64_t>(100, o.steps / 10);
  const int64_t eval_every = o.eval_every > 0 ? o.eval_every : std::max<int64_t>(1, o.steps / 10);
  const int64_t ckpt_every = o.ckpt_every > 0 ? o.ckpt_every : eval_every;

  std::vector<torch::optim::OptimizerParamGroup> groups;
  auto decay_opts = std::make_unique<torch::optim::AdamOptions>(o.lr);
  decay_opts->betas({o.beta1, o.beta2}).eps(1e-8).weight_decay(o.weight_decay);
  auto no_decay_opts = std::make_unique<torch::optim::AdamOptions>(o.lr);
  no_decay_opts->betas({o.beta1, o.beta2}).eps(1e-8).weight_decay(0.0);
  groups.emplace_back(model->DecayParameters(), std::move(decay_opts));
  groups.emplace_back(model->NoDecayParameters(), std::move(no_decay_opts));
  train::FusedAdam optimizer(std::move(groups), torch::optim::AdamOptions(o.lr),
                             /*decoupled_weight_decay=*/true);

  int64_t start_step = 0;
  double best_val = std::numeric_limits<double>::infinity();
  std::string precision = o.precision;
  std::string run_id = o.run_id;
  if (o.resume) {
    MLE_ASSIGN_OR_RETURN(resume_meta, LoadLmCheckpoint(last_path, model, &optimizer));
    start_step = resume_meta.value("step", int64_t{0});
    best_val = resume_meta.value("best_val_loss", best_val);
    precision = resume_meta.value("precision", std::string("fp32"));
    if (o.precision != "auto" && o.precision != precision) {
      return InvalidArgument("--precision " + o.precision + ": the run in '" + o.run_dir +
                             "' trains in " + precision +
                             " (resume it without --precision, or start a new run)");
    }
    if (run_id.empty()) run_id = resume_meta.value("run_id", std::string());
  }
  MLE_ASSIGN_OR_RETURN(std::vector<Batch> val_batches,
                       ValBatches(*data, std::min(o.batch_size, 8), t, o.eval_batches));

  // Execution: precision and intra-op threads. fp32 matrix products run on BLAS's own threads
  // (OpenBLAS here), so fp32 keeps one intra-op thread: idle OpenMP workers spin and take
  // cores from BLAS (measured on 2 cores: 2,114 -> 3,206 tok/s). bf16 products are oneDNN's,
  // on the intra-op threads, so bf16 uses them all. Both are rules, not measurements, so the
  // same seed, data, threads and precision give the same losses. Precision itself: bf16 only
  // where the CPU has bf16 instructions and a step measures at least 10% faster (recorded,
  // and reused on resume; --precision fixes it).
  auto intra_for = [threads](bool b) {
    return b || threads <= 1 || train::BlasThreads() <= 0 ? threads : 1;
  };
  nlohmann::json probe = nlohmann::json::array();
  if (!o.resume && precision == "auto") {
    precision = "fp32";
    if (GetCpuInfo().avx512bf16) {
      MLE_ASSIGN_OR_RETURN(Batch first, TrainBatch(*data, o.seed, 0, 0, o.batch_size, t));
      double secs[2];
      for (int b = 0; b < 2; ++b) {
        train::SetIntraOpThreads(intra_for(b == 1));
        secs[b] = TimeStep(model, first, b == 1);
        probe.push_back({{"precision", b ? "bf16" : "fp32"},
                         {"intra_op_threads", intra_for(b == 1)},
                         {"step_s", secs[b]}});
      }
      if (secs[1] < 0.9 * secs[0]) precision = "bf16";
    }
  }
  const int intra = o.resume ? resume_meta.value("intra_op_threads", intra_for(precision == "bf16"))
                             : intra_for(precision == "bf16");
  train::SetIntraOpThreads(intra);
  const bool bf16 = precision == "bf16";

  // From here on the run writes its directory, metrics and record.
  MLE_RETURN_IF_ERROR(EnsureDir(o.run_dir));
  if (!o.resume)
    MLE_RETURN_IF_ERROR(CopyTokenizer(data->tokenizer_dir(), o.run_dir + "/tokenizer"));
  MLE_RETURN_IF_ERROR(EnsureDir(o.runs_dir));
  const std::string db_path = o.runs_dir + "/ml-engine.db";
  MLE_ASSIGN_OR_RETURN(std::unique_ptr<train::RunStore> store, train::RunStore::Open(db_path));
  if (run_id.empty()) run_id = train::RunStore::NewRunId("gpt");
  nlohmann::json train_cfg = {{"steps", o.steps},
                              {"batch_size", o.batch_size},
                              {"grad_accum", o.grad_accum},
                              {"lr", o.lr},
                              {"min_lr_ratio", o.min_lr_ratio},
                              {"warmup_steps", warmup},
                              {"weight_decay", o.weight_decay},
                              {"betas", {o.beta1, o.beta2}},
                              {"grad_clip", o.grad_clip},
                              {"eval_every", eval_every},
                              {"eval_batches", o.eval_batches},
                              {"seed", o.seed},
                              {"threads", threads},
                              {"size", o.size}};
  nlohmann::json run_config = {{"format", "mle-lm-run"},
                               {"model", ToJson(cfg)},
                               {"n_parameters", ParameterCount(cfg)},
                               {"train", train_cfg},
                               {"data_dir", fs::absolute(o.data_dir).string()},
                               {"tokenizer_sha256", tok->sha256()},
                               {"precision", precision},
                               {"intra_op_threads", intra},
                               {"probe", probe},
                               {"run_id", run_id},
                               {"source", o.source}};
  MLE_RETURN_IF_ERROR(WriteFileAtomic(o.run_dir + "/config.json", run_config.dump(2) + "\n"));
  if (o.resume) {
    // The metrics log reads as one run: lines past the checkpoint are dropped.
    MLE_RETURN_IF_ERROR(KeepJsonLines(metrics_path, [&](const nlohmann::json& j) {
      return j.value("step", int64_t{0}) <= start_step;
    }));
  }
  train::RunRecord rec;
  if (auto existing = store->Get(run_id); existing.ok() && existing->has_value()) rec = **existing;
  rec.id = run_id;
  rec.kind = "lm";
  rec.model = "gpt";
  rec.status = "running";
  rec.config = run_config;
  rec.ckpt_dir = o.run_dir;
  rec.last_ckpt = last_path;
  rec.error.clear();
  if (!rec.metrics.is_object()) rec.metrics = nlohmann::json::object();
  MLE_RETURN_IF_ERROR(store->Put(rec));

  if (cb.on_start) {
    cb.on_start(run_id, ParameterCount(cfg), start_step,
                precision + ", " + std::to_string(intra) + " intra-op thread(s)");
  }

  PretrainResult result;
  result.run_id = run_id;
  result.run_dir = o.run_dir;
  result.n_params = ParameterCount(cfg);
  result.precision = precision;
  result.last_ckpt = last_path;
  result.metrics_path = metrics_path;
  result.db_path = db_path;
  if (FileExists(best_path)) result.best_ckpt = best_path;
  result.steps_done = start_step;

  auto ckpt_meta = [&](int64_t step) {
    return nlohmann::json{{"model", "gpt"},
                          {"config", ToJson(cfg)},
                          {"step", step},
                          {"tokens_seen", step * o.batch_size * o.grad_accum * t},
                          {"precision", precision},
                          {"intra_op_threads", intra},
                          {"best_val_loss", std::isfinite(best_val) ? best_val : 1e30},
                          {"run_id", run_id},
                          {"tokenizer_sha256", tok->sha256()}};
  };
  auto fail = [&](const Status& s) -> Status {
    rec.status = s.code() == StatusCode::kCancelled ? "cancelled" : "failed";
    rec.error = s.message();
    (void)store->Put(rec);
    return s;
  };

  const std::vector<int32_t> sample_prompt = tok->Encode(o.sample_prompt, true);
  const int64_t tokens_per_step = static_cast<int64_t>(o.batch_size) * o.grad_accum * t;
  const auto t_start = Clock::now();
  auto window_start = Clock::now();
  double window_loss = 0;
  int64_t window_steps = 0;
  std::vector<torch::Tensor> params = model->parameters();
  const int64_t end_step = o.stop_at > 0 ? std::min(o.stop_at, o.steps) : o.steps;
  for (int64_t step = start_step; step < end_step; ++step) {
    if (cb.cancel && cb.cancel->load()) {
      MLE_RETURN_IF_ERROR(SaveLmCheckpoint(last_path, model, &optimizer, ckpt_meta(step)));
      return fail(Cancelled("pretraining cancelled at step " + std::to_string(step)));
    }
    const double lr = LrAt(o, warmup, step);
    for (auto& g : optimizer.param_groups()) {
      static_cast<torch::optim::AdamOptions&>(g.options()).lr(lr);
    }
    double step_loss = 0;
    for (int micro = 0; micro < o.grad_accum; ++micro) {
      auto batch = TrainBatch(*data, o.seed, step, micro, o.batch_size, t);
      if (!batch.ok()) return fail(batch.status());
      torch::Tensor loss;
      {
        AutocastScope ac(bf16);
        loss = model->Loss(batch->x, batch->y);
      }
      if (o.grad_accum > 1) loss = loss / o.grad_accum;
      loss.backward();
      step_loss += loss.item<double>();
    }
    if (!std::isfinite(step_loss)) {
      return fail(FailedPrecondition("loss became " + std::to_string(step_loss) + " at step " +
                                     std::to_string(step + 1) + "; lower --lr"));
    }
    if (o.grad_clip > 0) torch::nn::utils::clip_grad_norm_(params, o.grad_clip);
    optimizer.step();
    train::ClearGradients(*model);
    const int64_t done = step + 1;
    window_loss += step_loss;
    ++window_steps;
    if (done % o.log_every == 0 || done == o.steps) {
      const double secs = std::chrono::duration<double>(Clock::now() - window_start).count();
      PretrainStep ev{done, o.steps, window_loss / window_steps, lr,
                      static_cast<double>(tokens_per_step * window_steps) / std::max(secs, 1e-9)};
      result.train_loss = ev.loss;
      nlohmann::json line = {{"type", "step"},
                             {"step", done},
                             {"loss", ev.loss},
                             {"lr", lr},
                             {"tokens_per_s", ev.tokens_per_s}};
      if (Status s = AppendLine(metrics_path, line.dump()); !s.ok()) return fail(s);
      if (cb.on_step) cb.on_step(ev);
      window_loss = 0;
      window_steps = 0;
      window_start = Clock::now();
    }
    const bool eval_now = done % eval_every == 0 || done == o.steps;
    if (eval_now) {
      auto vl = ValLoss(model, val_batches, bf16);
      if (!vl.ok()) return fail(vl.status());
      PretrainEval ev{done, *vl, std::exp(*vl), ""};
      std::vector<int32_t> ids =
          SampleIds(model, sample_prompt, 32, SampleParams{}, o.seed + done, tok->eos_id());
      std::vector<int32_t> all(sample_prompt.begin(), sample_prompt.end());
      all.insert(all.end(), ids.begin(), ids.end());
      ev.sample = tok->Decode(all);
      result.val_loss = ev.val_loss;
      result.val_ppl = ev.val_ppl;
      nlohmann::json line = {{"type", "eval"},
                             {"step", done},
                             {"val_loss", *vl},
                             {"val_ppl", ev.val_ppl},
                             {"sample", ev.sample}};
      if (Status s = AppendLine(metrics_path, line.dump()); !s.ok()) return fail(s);
      if (*vl < best_val) {
        best_val = *vl;
        if (Status s = SaveLmCheckpoint(best_path, model, nullptr, ckpt_meta(done)); !s.ok()) {
          return fail(s);
        }
        result.best_ckpt = best_path;
        rec.best_ckpt = best_path;
      }
      rec.metrics["val_loss"] = *vl;
      rec.metrics["val_ppl"] = ev.val_ppl;
      rec.metrics["best_val_loss"] = best_val;
      rec.metrics["train_loss"] = result.train_loss;
      rec.metrics["step"] = done;
      if (cb.on_eval) cb.on_eval(ev);
    }
    if (done % ckpt_every == 0 || done == end_step) {
      if (Status s = SaveLmCheckpoint(last_path, model, &optimizer, ckpt_meta(done)); !s.ok()) {
        return fail(s);
      }
      if (Status s = store->Put(rec); !s.ok()) return fail(s);
    }
    result.steps_done = done;
  }
  const double secs = std::chrono::duration<double>(Clock::now() - t_start).count();
  const int64_t steps_run = result.steps_done - start_step;
  result.tokens_per_s = steps_run > 0 ? static_cast<double>(steps_run * tokens_per_step) / secs : 0;
  rec.status = "completed";
  if (result.steps_done < o.steps) {  // --stop-at: a pause, recorded as a stop by request
    rec.status = "cancelled";
    rec.error = "stopped after step " + std::to_string(result.steps_done) +
                " (--stop-at); continue with --resume";
  }
  rec.metrics["tokens_per_s"] = result.tokens_per_s;
  rec.metrics["precision"] = precision;
  MLE_RETURN_IF_ERROR(store->Put(rec));
  return result;
}

}  // namespace mle::lm
