// The own-LLM pipeline's LibTorch steps, behind a torch-free header (cli/ and server/ include
// it): pretraining, evaluation, sampling from a checkpoint and export to GGUF. A run directory
// holds everything one model needs:
//   config.json    model shape, training options, data and tokenizer identity, precision
//   tokenizer/     a copy of the tokenizer (tokenizer.model, tokenizer.json)
//   last.ckpt      the resume point (weights, AdamW state, step), atomically replaced
//   best.ckpt      the weights with the lowest validation loss so far
//   metrics.jsonl  one line per logged step and per evaluation (with a text sample)
//   eval.json      written by `lm eval`
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/status.h"

namespace mle::lm {

struct PretrainOptions {
  std::string data_dir;
  std::string run_dir;
  std::string size = "tiny";  // tiny | small | base | JSON object | JSON file
  int64_t steps = 1000;
  int batch_size = 16;
  int grad_accum = 1;
  double lr = 1e-3;
  double min_lr_ratio = 0.1;  // the cosine schedule ends at lr * min_lr_ratio
  int64_t warmup_steps = -1;  // -1: min(100, steps / 10)
  double weight_decay = 0.1;
  double beta1 = 0.9, beta2 = 0.95;
  double grad_clip = 1.0;   // 0 = off
  int64_t eval_every = -1;  // -1: steps / 10 (at least 1)
  int eval_batches = 4;
  int64_t ckpt_every = -1;  // -1: eval_every
  int64_t log_every = 10;
  std::string precision =
      "auto";  // auto (bf16 when the CPU has it and it measures faster) | fp32 | bf16
  uint64_t seed = 1234;
  int threads = 0;  // 0 = hardware threads
  bool resume = false;
  // Stop after this step (0 = run to `steps`), with last.ckpt written: splits a long run into
  // sessions; --resume continues it exactly as if it had not stopped.
  int64_t stop_at = 0;
  std::string runs_dir = "runs";  // holds ml-engine.db
  std::string run_id;             // "" = new (or the checkpoint's on resume)
  std::string source = "cli";     // recorded in the run's config ("server" for jobs)
  std::string sample_prompt = "The";
};

struct PretrainStep {
  int64_t step = 0;  // 1-based, done
  int64_t steps = 0;
  double loss = 0;
  double lr = 0;
  double tokens_per_s = 0;
};

struct PretrainEval {
  int64_t step = 0;
  double val_loss = 0;
  double val_ppl = 0;
  std::string sample;
};

struct PretrainCallbacks {
  std::function<void(const std::string& run_id, int64_t n_params, int64_t start_step,
                     const std::string& precision)>
      on_start;
  std::function<void(const PretrainStep&)> on_step;
  std::function<void(const PretrainEval&)> on_eval;
  const std::atomic<bool>* cancel = nullptr;  // set => checkpoint and stop (Cancelled)
};

struct PretrainResult {
  std::string run_id;
  std::string run_dir;
  int64_t n_params = 0;
  int64_t steps_done = 0;
  double train_loss = 0;  // mean over the last log window
  double val_loss = 0;
  double val_ppl = 0;
  double tokens_per_s = 0;  // training tokens per second over this invocation
  std::string precision;
  std::string last_ckpt, best_ckpt, metrics_path, db_path;
};

Result<PretrainResult> Pretrain(const PretrainOptions& options,
                                const PretrainCallbacks& callbacks = {});

struct LmEvalOptions {
  std::string run_dir;
  std::string ckpt;             // "" = best.ckpt, else last.ckpt
  std::string data_dir;         // "" = the run's own data
  std::string qa_file;          // JSONL {"prompt","answer"}; "" = the built-in set
  int64_t max_tokens = 200000;  // validation tokens scored for perplexity
  int threads = 0;
  std::string runs_dir = "runs";
};

struct QaResult {
  std::string prompt, answer, output;
  bool exact = false;
};

struct LmEvalResult {
  double val_loss = 0;
  double perplexity = 0;
  int64_t tokens = 0;
  int qa_correct = 0;
  int qa_total = 0;
  std::vector<QaResult> qa;
  std::string eval_path;
};

// Perplexity over the validation split and exact match on the QA set; writes eval.json and
// adds both to the run record.
Result<LmEvalResult> Evaluate(const LmEvalOptions& options);

struct LmGenerateOptions {
  std::string run_dir;
  std::string ckpt;  // "" = best.ckpt, else last.ckpt
  std::string prompt;
  int n_tokens = 64;
  bool greedy = false;
  double temperature = 0.8;
  int top_k = 40;
  uint64_t seed = 1;
  int threads = 0;
};

// Samples with LibTorch directly; `on_text` receives each new piece of text as it is decoded.
// Returns the generated text (without the prompt).
Result<std::string> Generate(const LmGenerateOptions& options,
                             const std::function<void(const std::string&)>& on_text = {});
// The generated token ids, for comparisons with the engine.
Result<std::vector<int32_t>> GenerateIds(const LmGenerateOptions& options);

// The run's logits at every position of `prompt` (BOS added), row-major [n_tokens][vocab].
Result<std::vector<float>> PromptLogits(const std::string& run_dir, const std::string& ckpt,
                                        const std::string& prompt, std::vector<int32_t>* ids);

struct LmExportOptions {
  std::string run_dir;
  std::string ckpt;  // "" = best.ckpt, else last.ckpt
  std::string type = "F32";
  std::string out;
  std::string model_name;  // "" = the run directory's name
};

struct LmExportResult {
  std::string path;
  std::string type;
  uint64_t file_bytes = 0;
  int64_t n_parameters = 0;
  nlohmann::json tensor_types;
};

Result<LmExportResult> Export(const LmExportOptions& options);

}  // namespace mle::lm
