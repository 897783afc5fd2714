// `ml-engine lm generate`: samples from a checkpoint with LibTorch. Only the generated text
// goes to stdout (statistics to stderr), so it compares directly with `ml-engine generate`.
#include <chrono>
#include <cstdio>

#include "cli/commands.h"
#include "lm/lm.h"

namespace mle::cli {

void AddLmGenerateCommand(CLI::App* lm, CliContext& ctx) {
  auto* cmd = lm->add_subcommand("generate", "sample text from a pretraining run (LibTorch)");
  static lm::LmGenerateOptions o;
  static bool ids = false;
  cmd->add_option("--run", o.run_dir, "run directory from `lm pretrain`")->required();
  cmd->add_option("--ckpt", o.ckpt, "checkpoint (default RUN/best.ckpt, else RUN/last.ckpt)");
  cmd->add_option("-p,--prompt", o.prompt, "prompt text")->required();
  cmd->add_option("-n,--n-predict", o.n_tokens, "tokens to generate")->capture_default_str();
  cmd->add_flag("--greedy", o.greedy, "always take the most likely token");
  cmd->add_option("--temp", o.temperature, "temperature (0 = greedy)")->capture_default_str();
  cmd->add_option("--top-k", o.top_k, "sample among the k most likely (0 = all)")
      ->capture_default_str();
  cmd->add_option("--seed", o.seed, "sampling seed")->capture_default_str();
  cmd->add_flag("--ids", ids, "print the generated token ids instead of text");
  BindConfigKeys(cmd, ctx, {"common.threads"});
  cmd->callback([&ctx] {
    ctx.run = [&ctx] {
      o.threads = ResolvedThreads(ctx.config);
      const auto t0 = std::chrono::steady_clock::now();
      if (ids) {
        auto r = lm::GenerateIds(o);
        if (!r.ok()) return Fail(r.status());
        for (size_t i = 0; i < r->size(); ++i) std::printf("%s%d", i ? " " : "", (*r)[i]);
        std::printf("\n");
        return kExitOk;
      }
      size_t pieces = 0;
      auto r = lm::Generate(o, [&](const std::string& piece) {
        std::fwrite(piece.data(), 1, piece.size(), stdout);
        std::fflush(stdout);
        ++pieces;
      });
      if (!r.ok()) return Fail(r.status());
      std::printf("\n");
      const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      std::fprintf(stderr, "generated %zu pieces in %.2f s\n", pieces, s);
      return kExitOk;
    };
  });
}

}  // namespace mle::cli
