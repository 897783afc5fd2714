// `ml-engine quickstart`: the main job of `make run`. Trains cnn_mnist for one epoch on the
// default data (unless a checkpoint exists), evaluates it; then, when the models directory has
// no GGUF model, builds the demo LLM with the own-LLM pipeline (tokenizer, data, pretraining,
// evaluation, Q8_0 export into the models directory) so that `ml-engine serve` serves it.
#include <cstdio>
#include <filesystem>
#include <memory>

#include "cli/commands.h"
#include "cli/train_console.h"
#include "core/file_util.h"
#include "core/progress.h"
#include "lm/corpus.h"
#include "lm/lm.h"
#include "lm/lm_tokenizer.h"
#include "train/evaluate.h"

namespace mle::cli {
namespace {

namespace fs = std::filesystem;

constexpr const char* kDemoModel = "ml-engine-demo";

// Text any fresh machine has: Debian's fortunes (English prose) and the C headers directly
// in /usr/include (code), the design's general/code mix.
std::vector<std::string> DemoInputs() {
  std::vector<std::string> inputs;
  std::error_code ec;
  if (fs::is_directory("/usr/share/games/fortunes", ec))
    inputs.push_back("/usr/share/games/fortunes");
  std::vector<std::string> headers;
  for (const auto& e : fs::directory_iterator("/usr/include", ec)) {
    if (e.is_regular_file() && e.path().extension() == ".h") headers.push_back(e.path().string());
  }
  std::sort(headers.begin(), headers.end());
  inputs.insert(inputs.end(), headers.begin(), headers.end());
  return inputs;
}

bool HasGguf(const std::string& dir) {
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    if (e.path().extension() == ".gguf") return true;
  }
  return false;
}

// The demo LLM: each step is skipped when its output exists, so an interrupted quickstart
// continues where it stopped (pretraining resumes from its last checkpoint).
int BuildDemoLlm(const Config& c, int64_t steps) {
  const std::string work = c.GetString("paths.runs") + "/lm-demo";
  const std::string tok = work + "/tokenizer", data = work + "/data", run = work + "/run";
  const std::string models = c.GetString("paths.models");
  const std::vector<std::string> inputs = DemoInputs();
  if (inputs.empty()) {
    std::printf("demo LLM skipped: no fortunes or C headers on this machine (scripts/setup.sh)\n");
    return kExitOk;
  }
  if (Status s = EnsureDir(work); !s.ok()) return Fail(s);
  if (!FileExists(tok + "/tokenizer.json")) {
    std::printf("demo LLM 1/5: training a 4096-token BPE tokenizer on fortunes + C headers...\n");
    lm::TokenizerTrainOptions o;
    o.inputs = inputs;
    o.vocab_size = 4096;
    o.out_dir = tok;
    o.max_sentences = 200000;
    o.threads = ResolvedThreads(c);
    if (auto r = lm::TrainTokenizer(o); !r.ok()) return Fail(r.status());
  }
  if (!FileExists(data + "/index.json")) {
    std::printf("demo LLM 2/5: cleaning, deduplicating and tokenizing the corpus...\n");
    lm::DataOptions o;
    o.inputs = inputs;
    o.tokenizer_dir = tok;
    o.out_dir = data;
    o.threads = ResolvedThreads(c);
    auto r = lm::PrepareData(o);
    if (!r.ok()) return Fail(r.status());
    std::printf("  %lld documents, %llu training + %llu validation tokens\n",
                static_cast<long long>(r->cleaning.documents_kept),
                static_cast<unsigned long long>(r->tokens_train),
                static_cast<unsigned long long>(r->tokens_val));
  }
  lm::PretrainOptions po;
  po.data_dir = data;
  po.run_dir = run;
  po.size = R"({"dim":256,"n_layers":4,"n_heads":4,"context":128})";
  po.steps = steps;
  po.batch_size = 16;
  po.lr = 2e-3;
  po.eval_every = std::max<int64_t>(1, steps / 4);
  po.threads = ResolvedThreads(c);
  po.runs_dir = c.GetString("paths.runs");
  po.resume = FileExists(run + "/last.ckpt");  // a finished run resumes to nothing to do
  std::printf(
      "demo LLM 3/5: pretraining a 4M-parameter decoder for %lld steps (about five "
      "minutes on 2 cores)%s...\n",
      static_cast<long long>(steps), po.resume ? ", resuming" : "");
  std::unique_ptr<ProgressBar> bar;
  lm::PretrainCallbacks cb;
  cb.on_start = [&](const std::string&, int64_t, int64_t start, const std::string& precision) {
    std::printf("  %s, from step %lld\n", precision.c_str(), static_cast<long long>(start));
    bar = std::make_unique<ProgressBar>("pretrain", steps);
  };
  cb.on_step = [&](const lm::PretrainStep& s) {
    char suffix[96];
    std::snprintf(suffix, sizeof(suffix), "loss %.3f | %.0f tok/s", s.loss, s.tokens_per_s);
    if (bar) bar->Update(s.step, suffix);
  };
  cb.on_eval = [&](const lm::PretrainEval& e) {
    if (bar && e.step == steps) bar->Finish();
    std::printf("  [step %lld] val_loss=%.4f ppl=%.2f\n  sample: %s\n",
                static_cast<long long>(e.step), e.val_loss, e.val_ppl, e.sample.c_str());
    std::fflush(stdout);
  };
  auto pr = lm::Pretrain(po, cb);
  if (!pr.ok()) return Fail(pr.status());

  std::printf("demo LLM 4/5: evaluating...\n");
  lm::LmEvalOptions eo;
  eo.run_dir = run;
  eo.threads = ResolvedThreads(c);
  eo.runs_dir = c.GetString("paths.runs");
  auto ev = lm::Evaluate(eo);
  if (!ev.ok()) return Fail(ev.status());
  std::printf("  validation perplexity %.2f over %lld tokens; QA exact match %d/%d\n",
              ev->perplexity, static_cast<long long>(ev->tokens), ev->qa_correct, ev->qa_total);

  std::printf("demo LLM 5/5: exporting Q8_0 GGUF into %s/...\n", models.c_str());
  if (Status s = EnsureDir(models); !s.ok()) return Fail(s);
  lm::LmExportOptions xo;
  xo.run_dir = run;
  xo.type = "Q8_0";
  xo.out = models + "/" + kDemoModel + ".gguf";
  xo.model_name = kDemoModel;
  auto ex = lm::Export(xo);
  if (!ex.ok()) return Fail(ex.status());
  std::printf("  %s (%.1f MiB)\n", ex->path.c_str(),
              static_cast<double>(ex->file_bytes) / (1 << 20));
  return kExitOk;
}

}  // namespace

void AddQuickstartCommand(CLI::App& app, CliContext& ctx) {
  auto* cmd = app.add_subcommand("quickstart", "train, evaluate and show how to use cnn_mnist");
  static int64_t epochs = 1;
  static int64_t lm_steps = 600;
  static bool force = false, no_lm = false;
  cmd->add_option("--epochs", epochs, "epochs to train")->capture_default_str();
  cmd->add_flag("--retrain", force, "train even if a checkpoint exists");
  cmd->add_option("--lm-steps", lm_steps, "pretraining steps of the demo LLM")
      ->capture_default_str()
      ->check(CLI::Range(int64_t{1}, int64_t{1} << 30));
  cmd->add_flag("--no-lm", no_lm, "skip the demo LLM");
  BindConfigFlags(cmd, ctx, "quickstart");
  BindConfigKeys(cmd, ctx, {"paths.data", "paths.models"});
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
      if (no_lm) return kExitOk;
      if (HasGguf(c.GetString("paths.models"))) {
        std::printf("\ndemo LLM: %s/ already holds a GGUF model; serving that\n",
                    c.GetString("paths.models").c_str());
        return kExitOk;
      }
      std::printf("\n");
      if (int rc = BuildDemoLlm(c, lm_steps); rc != kExitOk) return rc;
      std::printf(
          "\nnext steps with the LLM:\n"
          "  ml-engine generate -m %s/%s.gguf -p 'The meaning of life is' -n 48\n"
          "  ml-engine lm eval --run %s/lm-demo/run\n"
          "  curl -s localhost:18080/v1/chat/completions -H 'Content-Type: application/json' "
          "-d '{\"model\":\"%s\",\"messages\":[{\"role\":\"user\",\"content\":\"Tell me a "
          "fortune\"}]}'\n",
          c.GetString("paths.models").c_str(), kDemoModel, c.GetString("paths.runs").c_str(),
          kDemoModel);
      return kExitOk;
    };
  });
}

}  // namespace mle::cli
