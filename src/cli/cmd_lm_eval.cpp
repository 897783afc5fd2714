// `ml-engine lm eval`: perplexity on the validation split and exact match on a QA set.
#include <cstdio>

#include "cli/commands.h"
#include "lm/lm.h"

namespace mle::cli {

void AddLmEvalCommand(CLI::App* lm, CliContext& ctx) {
  auto* cmd = lm->add_subcommand("eval", "perplexity and QA exact match of a pretraining run");
  static lm::LmEvalOptions o;
  static bool json = false;
  cmd->add_option("--run", o.run_dir, "run directory from `lm pretrain`")->required();
  cmd->add_option("--ckpt", o.ckpt, "checkpoint (default RUN/best.ckpt, else RUN/last.ckpt)");
  cmd->add_option("--data", o.data_dir, "token shards (default: the run's own data)");
  cmd->add_option("--qa", o.qa_file, "JSONL of {\"prompt\",\"answer\"} (default: built-in set)");
  cmd->add_option("--max-tokens", o.max_tokens, "validation tokens to score")
      ->capture_default_str();
  cmd->add_flag("--json", json, "print eval.json's summary as JSON");
  BindConfigKeys(cmd, ctx, {"common.threads", "paths.runs"});
  cmd->callback([&ctx] {
    ctx.run = [&ctx] {
      o.threads = ResolvedThreads(ctx.config);
      o.runs_dir = ctx.config.GetString("paths.runs");
      auto r = lm::Evaluate(o);
      if (!r.ok()) return Fail(r.status());
      if (json) {
        std::printf(
            "{\"val_loss\": %.6f, \"perplexity\": %.4f, \"tokens\": %lld, "
            "\"qa_correct\": %d, \"qa_total\": %d}\n",
            r->val_loss, r->perplexity, static_cast<long long>(r->tokens), r->qa_correct,
            r->qa_total);
        return kExitOk;
      }
      for (const lm::QaResult& q : r->qa) {
        std::string out = q.output.substr(0, q.output.find('\n'));
        std::printf("  [%s] %s -> %s\n", q.exact ? "ok" : "  ", q.prompt.c_str(), out.c_str());
      }
      std::printf("perplexity: %.3f (val_loss %.5f over %lld tokens)\n", r->perplexity, r->val_loss,
                  static_cast<long long>(r->tokens));
      std::printf("qa exact match: %d/%d\n", r->qa_correct, r->qa_total);
      std::printf("written: %s\n", r->eval_path.c_str());
      return kExitOk;
    };
  });
}

}  // namespace mle::cli
