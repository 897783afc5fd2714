// `ml-engine gguf synth --shape NAME --type TYPE --vocab VOCAB.gguf -o OUT`: writes a model of a
// real shape with random weights and VOCAB's tokenizer (llm/synth.h), for benchmarks and tests
// without downloaded weights. A child of `gguf`, wired in through AddGgufSynthCommand.
#include <cstdio>
#include <memory>
#include <string>

#include "cli/commands.h"
#include "llm/synth.h"

namespace mle::cli {
namespace {

struct SynthArgs {
  llm::SynthOptions options;
  bool quiet = false;
  bool list = false;
};

int RunSynth(SynthArgs& args, int n_threads) {
  if (args.list) {
    for (const llm::SynthShape& s : llm::SynthShapes()) {
      std::printf("%-16s %-7s embd %5d  layers %3d  heads %3d/%-3d  ffn %6d  vocab %s\n",
                  s.name.c_str(), s.arch.c_str(), s.n_embd, s.n_layer, s.n_head, s.n_head_kv,
                  s.n_ff, s.n_vocab ? std::to_string(s.n_vocab).c_str() : "from --vocab");
    }
    return kExitOk;
  }
  for (const auto& [value, flag] : {std::pair{&args.options.shape, "--shape"},
                                    {&args.options.vocab_path, "--vocab"},
                                    {&args.options.out_path, "-o"}}) {
    if (value->empty()) {
      return Fail(InvalidArgument(std::string("gguf synth: ") + flag +
                                  " is required (see ml-engine gguf synth --help)"));
    }
  }
  args.options.n_threads = n_threads;
  bool progress_shown = false;
  if (!args.quiet) {
    args.options.on_tensor = [&progress_shown](size_t i, size_t n, const std::string& name) {
      std::fprintf(stderr, "\r[%4zu/%4zu] %-40s", i + 1, n, name.c_str());
      progress_shown = true;
    };
  }
  Result<llm::SynthSummary> s = llm::SynthesizeModel(args.options);
  if (progress_shown) std::fprintf(stderr, "\n");
  if (!s.ok()) return Fail(s.status());
  std::printf("wrote %s: %s %s, %.1f M parameters, %zu tensors, %.2f MiB in %.1f s (%d threads)\n",
              args.options.out_path.c_str(), s->shape.name.c_str(), args.options.type.c_str(),
              s->n_params / 1e6, s->n_tensors, s->size_bytes / 1048576.0, s->t_ms / 1000.0,
              n_threads);
  return kExitOk;
}

}  // namespace

void AddGgufSynthCommand(CLI::App* gguf_cmd, CliContext& ctx) {
  auto args = std::make_shared<SynthArgs>();
  llm::SynthOptions& o = args->options;
  o.type = "Q4_0";
  auto* cmd = gguf_cmd->add_subcommand(
      "synth", "write a model of a real shape with random weights and a given vocabulary");
  cmd->add_option("--shape", o.shape,
                  "tinyllama-1.1b, llama-3.2-1b, qwen2.5-0.5b, "
                  "phi-3.5-mini, gemma-3-1b or tiny (see --list)");
  cmd->add_option("--arch", o.arch, "architecture (optional; must match the shape)");
  cmd->add_option("--type", o.type, "Q4_0, Q8_0, Q4_K_M, Q6_K, F16, BF16 or F32 (default Q4_0)");
  cmd->add_option("--vocab", o.vocab_path, "GGUF file whose tokenizer metadata to copy");
  cmd->add_option("-o,--out", o.out_path, "output .gguf (written atomically)");
  cmd->add_option("--seed", o.seed, "weights seed (default 1)");
  cmd->add_flag("--list", args->list, "list the known shapes");
  cmd->add_flag("--quiet", args->quiet, "no progress line");
  BindConfigFlags(cmd, ctx, "gguf");
  cmd->callback([&ctx, args] {
    ctx.run = [&ctx, args] { return RunSynth(*args, ResolvedThreads(ctx.config)); };
  });
}

}  // namespace mle::cli
