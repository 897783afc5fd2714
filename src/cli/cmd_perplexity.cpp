// `ml-engine perplexity -m MODEL -f TEXT [--ctx N] [--kv f16|f32]`: the model's perplexity on
// a text file (every position scored, windows of --ctx tokens decoded from an empty cache).
#include <cstdio>
#include <memory>
#include <string>

#include "cli/commands.h"
#include "core/file_util.h"
#include "llm/perplexity.h"

namespace mle::cli {
namespace {

struct PerplexityArgs {
  std::string model;
  std::string file;
  int32_t n_ctx = 0;
  int64_t max_tokens = 0;
  std::string kv = "f16";
  bool json = false;
};

int RunPerplexity(const PerplexityArgs& args, int n_threads) {
  auto text = ReadFile(args.file);
  if (!text.ok()) return Fail(text.status());
  if (args.kv != "f16" && args.kv != "f32") {
    return Fail(InvalidArgument("--kv '" + args.kv + "' is not f16 or f32"));
  }
  auto model = llm::Model::Load(args.model, llm::LoadOptions{});
  if (!model.ok()) return Fail(model.status());
  std::vector<llm::TokenId> ids = (*model)->tokenizer().Tokenize(*text, true, false);
  llm::PerplexityOptions o;
  o.n_ctx = args.n_ctx;
  o.n_threads = n_threads;
  o.kv_type = args.kv == "f32" ? llm::KvType::kF32 : llm::KvType::kF16;
  o.max_tokens = args.max_tokens;
  auto r = llm::Perplexity(**model, ids, o);
  if (!r.ok()) return Fail(r.status());
  if (args.json) {
    std::printf(
        "{\"perplexity\": %.6f, \"mean_nll\": %.8f, \"tokens\": %lld, \"windows\": %d, "
        "\"n_ctx\": %d}\n",
        r->perplexity, r->mean_nll, static_cast<long long>(r->n_scored), r->n_windows, r->n_ctx);
  } else {
    std::printf("perplexity: %.4f (mean nll %.6f over %lld tokens, %d windows of %d)\n",
                r->perplexity, r->mean_nll, static_cast<long long>(r->n_scored), r->n_windows,
                r->n_ctx);
  }
  return kExitOk;
}

}  // namespace

void AddPerplexityCommand(CLI::App& app, CliContext& ctx) {
  auto args = std::make_shared<PerplexityArgs>();
  auto* cmd = app.add_subcommand("perplexity", "perplexity of a GGUF model on a text file");
  cmd->add_option("-m,--model", args->model, "the .gguf model")->required();
  cmd->add_option("-f,--file", args->file, "UTF-8 text file")->required();
  cmd->add_option("-c,--ctx", args->n_ctx, "window in tokens (default min(model, 512))")
      ->check(CLI::Range(2, 1 << 20));
  cmd->add_option("--max-tokens", args->max_tokens, "score at most this many tokens (0 = all)")
      ->check(CLI::Range(int64_t{0}, int64_t{1} << 40));
  cmd->add_option("--kv", args->kv, "KV cache type: f16 | f32")->capture_default_str();
  cmd->add_flag("--json", args->json, "one JSON object");
  BindConfigKeys(cmd, ctx, {"common.threads"});
  cmd->callback([&ctx, args] {
    ctx.run = [&ctx, args] { return RunPerplexity(*args, ResolvedThreads(ctx.config)); };
  });
}

}  // namespace mle::cli
