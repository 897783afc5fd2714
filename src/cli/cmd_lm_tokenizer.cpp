// `ml-engine lm tokenizer --input PATH... --vocab-size N -o TOK_DIR`: trains the own LLM's
// SentencePiece BPE tokenizer (lm/lm_tokenizer.h) and writes tokenizer.model + tokenizer.json.
#include <chrono>
#include <cstdio>
#include <memory>

#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "lm/lm_tokenizer.h"

namespace mle::cli {
namespace {

struct LmTokenizerArgs {
  lm::TokenizerTrainOptions options;
  bool json = false;
};

int RunLmTokenizer(LmTokenizerArgs& args, int threads) {
  args.options.threads = threads;
  const auto t0 = std::chrono::steady_clock::now();
  Result<lm::TokenizerTrainReport> r = lm::TrainTokenizer(args.options);
  if (!r.ok()) return Fail(r.status());
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  if (args.json) {
    const nlohmann::json j = {{"out_dir", args.options.out_dir},   {"vocab_size", r->vocab_size},
                              {"sentences", r->sentences},         {"files_used", r->files_used},
                              {"files_skipped", r->files_skipped}, {"seconds", seconds}};
    std::printf("%s\n", j.dump(2).c_str());
    return kExitOk;
  }
  std::printf(
      "wrote %s: %d tokens, trained on %lld samples from %lld files (%lld skipped: "
      "binary or invalid UTF-8) in %.1f s\n",
      args.options.out_dir.c_str(), r->vocab_size, static_cast<long long>(r->sentences),
      static_cast<long long>(r->files_used), static_cast<long long>(r->files_skipped), seconds);
  return kExitOk;
}

}  // namespace

void AddLmTokenizerCommand(CLI::App* lm, CliContext& ctx) {
  auto args = std::make_shared<LmTokenizerArgs>();
  lm::TokenizerTrainOptions& o = args->options;
  auto* cmd = lm->add_subcommand(
      "tokenizer", "train a SentencePiece BPE tokenizer (byte fallback, ChatML and FIM tokens)");
  cmd->add_option("-i,--input", o.inputs, "text files or directories (recursive)")
      ->required()
      ->expected(1, -1);
  cmd->add_option("--vocab-size", o.vocab_size, "vocabulary size (default 32000)")
      ->check(CLI::Range(lm::kMinVocabSize, 1 << 20));
  cmd->add_option("-o,--out", o.out_dir, "output directory (must not exist or be empty)")
      ->required();
  cmd->add_option("--max-sentences", o.max_sentences,
                  "train on at most this many samples (runs of lines), drawn by --seed "
                  "(default 2000000)")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--seed", o.seed, "sampling seed (default 1234)");
  cmd->add_flag("--json", args->json, "print the report as JSON");
  BindConfigKeys(cmd, ctx, {"common.threads"});
  cmd->callback([&ctx, args] {
    ctx.run = [&ctx, args] { return RunLmTokenizer(*args, ResolvedThreads(ctx.config)); };
  });
}

}  // namespace mle::cli
