// `ml-engine bench model -m MODEL [-p 128 -n 64 -r 3 -t 2 -o md|json]`: prefill and decode
// speed the llama-bench way, the machine's memory read bandwidth and the fraction of it the
// decode reaches (llm/bench.h). `bench` is a parent command for later benchmarks.
#include <cstdio>
#include <memory>
#include <string>

#include "cli/commands.h"
#include "cli/llm_cli.h"
#include "llm/bench.h"

namespace mle::cli {
namespace {

struct BenchArgs {
  std::string model;
  llm::LoadOptions load;
  llm::BenchOptions options;
  int n_threads = 0;
  int32_t n_ctx = 0;
  std::string output = "md";
  int bandwidth_mib = 1024;
};

int RunBenchModel(BenchArgs& args, int config_threads) {
  if (llm::IsDebugBuild()) {
    std::fprintf(stderr,
                 "\n*** WARNING: this is not an optimized Release build; the figures below are "
                 "not meaningful (build with -DCMAKE_BUILD_TYPE=Release) ***\n\n");
  }
  llm::ContextOptions copts;
  copts.n_threads = args.n_threads > 0 ? args.n_threads : config_threads;
  copts.n_ctx =
      args.n_ctx > 0 ? args.n_ctx : std::max({args.options.n_prompt, args.options.n_gen, 256});
  Result<LoadedModel> m = LoadModelAndContext(args.model, copts, args.load);
  if (!m.ok()) return Fail(m.status());
  args.options.bandwidth_bytes = static_cast<uint64_t>(args.bandwidth_mib) << 20;
  args.options.measure_bandwidth = args.bandwidth_mib > 0;
  Result<llm::BenchReport> r = llm::RunBench(args.model, *m->model, *m->ctx, args.options);
  if (!r.ok()) return Fail(r.status());
  if (args.output == "json") {
    std::printf("%s\n", llm::BenchJson(*r).dump(2).c_str());
  } else {
    std::printf("%s", llm::FormatBenchMarkdown(*r).c_str());
  }
  return kExitOk;
}

}  // namespace

void AddBenchCommand(CLI::App& app, CliContext& ctx) {
  auto* bench = app.add_subcommand("bench", "benchmarks of the engine");
  bench->require_subcommand(1);
  auto args = std::make_shared<BenchArgs>();
  auto* cmd = bench->add_subcommand("model",
                                    "prefill and decode tokens per second, llama-bench "
                                    "style, with the memory bandwidth bound");
  cmd->add_option("-m,--model", args->model, "the .gguf model")->required();
  AddLoadFlags(cmd, args->load);
  cmd->add_option("-p,--n-prompt", args->options.n_prompt, "prefill test size (default 128)")
      ->check(CLI::Range(0, 1 << 16));
  cmd->add_option("-n,--n-gen", args->options.n_gen, "decode test size (default 64)")
      ->check(CLI::Range(0, 1 << 16));
  cmd->add_option("-r,--repetitions", args->options.n_reps, "repetitions (default 3)")
      ->check(CLI::Range(1, 1000));
  cmd->add_option("-t", args->n_threads, "threads (default: --threads)")
      ->check(CLI::Range(1, 1024));
  cmd->add_option("-c,--ctx", args->n_ctx, "context size (default max(p, n, 256))")
      ->check(CLI::Range(0, 1 << 24));
  cmd->add_option("-o,--output", args->output, "md or json (default md)")
      ->check(CLI::IsMember({"md", "json"}));
  cmd->add_option("--bandwidth-mib", args->bandwidth_mib,
                  "bandwidth buffer in MiB; 0 = skip the measurement (default 1024)")
      ->check(CLI::Range(0, 1 << 20));
  BindConfigFlags(cmd, ctx, "bench");
  cmd->callback([&ctx, args] {
    ctx.run = [&ctx, args] { return RunBenchModel(*args, ResolvedThreads(ctx.config)); };
  });
}

}  // namespace mle::cli
