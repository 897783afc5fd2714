// `ml-engine lm data --input PATH... --tokenizer TOK_DIR -o DATA_DIR`: cleans the text
// (normalization, PII scrubbing, duplicate removal, length filters), splits it into train and
// validation, tokenizes it and writes token shards + index.json (lm/corpus.h).
#include <chrono>
#include <cstdio>
#include <memory>

#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "core/progress.h"
#include "lm/corpus.h"

namespace mle::cli {
namespace {

struct LmDataArgs {
  lm::DataOptions options;
  bool json = false;
  bool quiet = false;
};

void PrintReport(const lm::DataReport& r, double seconds) {
  const lm::CleaningReport& c = r.cleaning;
  std::printf("wrote %s in %.1f s\n", r.out_dir.c_str(), seconds);
  std::printf("files: %lld read, %lld skipped (%lld binary, %lld invalid UTF-8)\n",
              static_cast<long long>(c.files_read),
              static_cast<long long>(c.files_skipped_binary + c.files_skipped_utf8),
              static_cast<long long>(c.files_skipped_binary),
              static_cast<long long>(c.files_skipped_utf8));
  std::printf(
      "documents: %lld read, %lld kept; dropped %lld too short, %lld exact and %lld "
      "near duplicates; %lld cut into %lld pieces\n",
      static_cast<long long>(c.documents_read), static_cast<long long>(c.documents_kept),
      static_cast<long long>(c.documents_too_short), static_cast<long long>(c.duplicates_exact),
      static_cast<long long>(c.duplicates_near), static_cast<long long>(c.documents_cut),
      static_cast<long long>(c.pieces_from_cuts));
  std::printf("pii scrubbed: %lld e-mails, %lld phones, %lld IPs, %lld long numbers\n",
              static_cast<long long>(c.pii.emails), static_cast<long long>(c.pii.phones),
              static_cast<long long>(c.pii.ips), static_cast<long long>(c.pii.numbers));
  std::printf(
      "train: %lld documents, %llu tokens in %d shard(s); val: %lld documents, %llu "
      "tokens in %d shard(s); dtype %s\n",
      static_cast<long long>(r.documents_train), static_cast<unsigned long long>(r.tokens_train),
      r.shards_train, static_cast<long long>(r.documents_val),
      static_cast<unsigned long long>(r.tokens_val), r.shards_val, r.dtype.c_str());
}

int RunLmData(LmDataArgs& args, int threads) {
  args.options.threads = threads;
  std::unique_ptr<ProgressBar> bar;
  if (!args.quiet) {
    args.options.on_progress = [&bar](int64_t done, int64_t total) {
      if (!bar) bar = std::make_unique<ProgressBar>("files", total);
      bar->Update(done);
    };
  }
  const auto t0 = std::chrono::steady_clock::now();
  Result<lm::DataReport> r = lm::PrepareData(args.options);
  if (bar) bar->Finish();
  if (!r.ok()) return Fail(r.status());
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  if (!args.json) {
    PrintReport(*r, seconds);
    return kExitOk;
  }
  const nlohmann::json j = {{"out_dir", r->out_dir},
                            {"documents_train", r->documents_train},
                            {"documents_val", r->documents_val},
                            {"tokens_train", r->tokens_train},
                            {"tokens_val", r->tokens_val},
                            {"shards_train", r->shards_train},
                            {"shards_val", r->shards_val},
                            {"dtype", r->dtype},
                            {"seconds", seconds}};
  std::printf("%s\n", j.dump(2).c_str());
  return kExitOk;
}

}  // namespace

void AddLmDataCommand(CLI::App* lm, CliContext& ctx) {
  auto args = std::make_shared<LmDataArgs>();
  lm::DataOptions& o = args->options;
  auto* cmd = lm->add_subcommand(
      "data", "clean, deduplicate, split and tokenize text into token shards for pretraining");
  cmd->add_option("-i,--input", o.inputs, "text files or directories (recursive)")
      ->required()
      ->expected(1, -1);
  cmd->add_option("--tokenizer", o.tokenizer_dir, "tokenizer directory from `lm tokenizer`")
      ->required();
  cmd->add_option("-o,--out", o.out_dir, "output directory (must not exist or be empty)")
      ->required();
  cmd->add_option("--val-fraction", o.val_fraction,
                  "share of documents for validation, in [0, 0.5] (default 0.05)");
  cmd->add_flag("--nfkc", o.nfkc, "apply Unicode NFKC normalization");
  cmd->add_option("--min-chars", o.min_chars, "drop shorter documents (default 16)");
  cmd->add_option("--max-chars", o.max_chars,
                  "cut longer documents at line ends into pieces (default 1000000)");
  cmd->add_option("--doc-separator", o.doc_separator,
                  "'auto' (split at lines that are exactly '%' where a file has them), 'none' "
                  "(one document per file), or a line that separates documents (default auto)");
  cmd->add_option("--seed", o.seed, "train/validation split seed (default 1234)");
  cmd->add_flag("--json", args->json, "print the report as JSON");
  cmd->add_flag("--quiet", args->quiet, "no progress line");
  BindConfigKeys(cmd, ctx, {"common.threads"});
  cmd->callback([&ctx, args] {
    ctx.run = [&ctx, args] { return RunLmData(*args, ResolvedThreads(ctx.config)); };
  });
}

}  // namespace mle::cli
