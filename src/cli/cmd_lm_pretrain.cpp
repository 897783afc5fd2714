// `ml-engine lm pretrain`: pretrains the own-LLM decoder on token shards from `lm data`.
// Prints one line per evaluation, `[step 200] loss=3.21 val_loss=3.35 ppl=28.5`, a progress
// bar with tokens/s on stderr, and where the checkpoints, metrics and run record are.
#include <cmath>
#include <cstdio>
#include <memory>

#include "cli/commands.h"
#include "core/progress.h"
#include "lm/lm.h"

namespace mle::cli {

void AddLmPretrainCommand(CLI::App* lm, CliContext& ctx) {
  auto* cmd = lm->add_subcommand("pretrain", "pretrain the decoder on token shards (lm data)");
  static lm::PretrainOptions o;
  static bool quiet = false;
  cmd->add_option("--data", o.data_dir, "token shard directory from `lm data`")->required();
  cmd->add_option("-o,--out", o.run_dir, "run directory (checkpoints, metrics, tokenizer copy)")
      ->required();
  cmd->add_option("--size", o.size, "tiny | small | base | a JSON object or file of model fields")
      ->capture_default_str();
  cmd->add_option("--steps", o.steps, "optimizer steps")->capture_default_str();
  cmd->add_option("--batch-size", o.batch_size, "sequences per micro-batch")->capture_default_str();
  cmd->add_option("--grad-accum", o.grad_accum, "micro-batches per step")->capture_default_str();
  cmd->add_option("--lr", o.lr, "peak learning rate")->capture_default_str();
  cmd->add_option("--min-lr-ratio", o.min_lr_ratio, "final lr / peak lr of the cosine schedule")
      ->capture_default_str();
  cmd->add_option("--warmup", o.warmup_steps, "warm-up steps (-1: min(100, steps/10))")
      ->capture_default_str();
  cmd->add_option("--weight-decay", o.weight_decay, "AdamW weight decay (matrices only)")
      ->capture_default_str();
  cmd->add_option("--grad-clip", o.grad_clip, "clip the gradient norm (0 = off)")
      ->capture_default_str();
  cmd->add_option("--eval-every", o.eval_every, "steps between evaluations (-1: steps/10)")
      ->capture_default_str();
  cmd->add_option("--eval-batches", o.eval_batches, "validation batches per evaluation")
      ->capture_default_str();
  cmd->add_option("--ckpt-every", o.ckpt_every, "steps between checkpoints (-1: eval-every)")
      ->capture_default_str();
  cmd->add_option("--log-every", o.log_every, "steps between metric lines")->capture_default_str();
  cmd->add_option("--precision", o.precision,
                  "auto (bf16 where the CPU has it and it measures faster) | fp32 | bf16")
      ->capture_default_str();
  cmd->add_option("--seed", o.seed, "seed of the weights and the batch order")
      ->capture_default_str();
  cmd->add_option("--sample-prompt", o.sample_prompt, "prompt of the samples logged at evaluations")
      ->capture_default_str();
  cmd->add_flag("--resume", o.resume, "continue the run in -o from its last.ckpt");
  cmd->add_option("--stop-at", o.stop_at, "stop after this step with a checkpoint (0 = all steps)")
      ->capture_default_str();
  cmd->add_flag("--quiet", quiet, "no progress bar");
  BindConfigKeys(cmd, ctx, {"common.threads", "paths.runs"});
  cmd->callback([&ctx] {
    ctx.run = [&ctx] {
      o.threads = ResolvedThreads(ctx.config);
      o.runs_dir = ctx.config.GetString("paths.runs");
      std::unique_ptr<ProgressBar> bar;
      lm::PretrainCallbacks cb;
      cb.on_start = [&](const std::string& id, int64_t n_params, int64_t start,
                        const std::string& precision) {
        std::fprintf(stderr, "run %s: %.2fM parameters, %d threads, %s%s\n", id.c_str(),
                     static_cast<double>(n_params) / 1e6, o.threads, precision.c_str(),
                     start > 0 ? (", resumed at step " + std::to_string(start)).c_str() : "");
        if (!quiet) bar = std::make_unique<ProgressBar>("pretrain", o.steps);
      };
      cb.on_step = [&](const lm::PretrainStep& s) {
        char suffix[96];
        std::snprintf(suffix, sizeof(suffix), "loss %.4f | %.0f tok/s", s.loss, s.tokens_per_s);
        if (bar) bar->Update(s.step, suffix);
      };
      cb.on_eval = [&](const lm::PretrainEval& e) {
        if (bar && e.step == o.steps) bar->Finish();
        std::printf("[step %lld] val_loss=%.5f ppl=%.3f\n", static_cast<long long>(e.step),
                    e.val_loss, e.val_ppl);
        std::fflush(stdout);
        std::fprintf(stderr, "  sample: %s\n", e.sample.c_str());
      };
      auto r = lm::Pretrain(o, cb);
      if (!r.ok()) return Fail(r.status());
      std::printf("steps: %lld  train_loss=%.5f  val_loss=%.5f  val_ppl=%.3f  %.0f tok/s (%s)\n",
                  static_cast<long long>(r->steps_done), r->train_loss, r->val_loss, r->val_ppl,
                  r->tokens_per_s, r->precision.c_str());
      std::printf("checkpoint: %s\n", (r->best_ckpt.empty() ? r->last_ckpt : r->best_ckpt).c_str());
      std::printf("resume point: %s\n", r->last_ckpt.c_str());
      std::printf("metrics: %s\n", r->metrics_path.c_str());
      std::printf("run record: %s (run %s)\n", r->db_path.c_str(), r->run_id.c_str());
      return kExitOk;
    };
  });
}

}  // namespace mle::cli
