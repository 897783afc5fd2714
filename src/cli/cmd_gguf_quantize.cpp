// `ml-engine gguf quantize IN OUT TYPE`: converts a GGUF model to Q8_0, Q4_0, Q4_K_M, Q6_K, F16
// or BF16 with llama-quantize's per-tensor choices (kernels/model_quantize.h). Prints one line
// per tensor and a summary; OUT is written atomically, so a failed run leaves no OUT behind.
#include <cstdio>
#include <memory>
#include <string>

#include "cli/commands.h"
#include "kernels/model_quantize.h"

namespace mle::cli {
namespace {

struct QuantizeArgs {
  std::string in_path;
  std::string out_path;
  std::string type;
  bool allow_requantize = false;
  bool quiet = false;
};

void PrintTensorLine(size_t index, size_t count, const kernels::TensorPlan& plan) {
  const std::string src(gguf::TensorTypeName(plan.src_type));
  const std::string dst(gguf::TensorTypeName(plan.dst_type));
  std::printf("[%4zu/%4zu] %-36s %-5s -> %-5s%s\n", index + 1, count, plan.name.c_str(),
              src.c_str(), dst.c_str(), plan.fallback ? " (row length forced a fallback)" : "");
  std::fflush(stdout);
}

int RunQuantize(const QuantizeArgs& args, int n_threads) {
  Result<kernels::QuantPreset> preset = kernels::ParseQuantPreset(args.type);
  if (!preset.ok()) return Fail(preset.status());
  kernels::QuantizeOptions options;
  options.preset = *preset;
  options.n_threads = n_threads;
  options.allow_requantize = args.allow_requantize;
  if (!args.quiet) options.on_tensor = PrintTensorLine;
  Result<kernels::QuantizeSummary> summary =
      kernels::QuantizeModelFile(args.in_path, args.out_path, options);
  if (!summary.ok()) return Fail(summary.status());
  std::printf("wrote %s: %s, %d of %zu tensors converted (%d by fallback), %.2f MiB -> %.2f MiB\n",
              args.out_path.c_str(), std::string(kernels::QuantPresetName(*preset)).c_str(),
              summary->n_converted, summary->plans.size(), summary->n_fallback,
              summary->size_in_bytes / 1048576.0, summary->size_out_bytes / 1048576.0);
  return kExitOk;
}

}  // namespace

void AddGgufQuantizeCommand(CLI::App* gguf_cmd, CliContext& ctx) {
  auto args = std::make_shared<QuantizeArgs>();
  auto* cmd = gguf_cmd->add_subcommand(
      "quantize",
      "quantize a GGUF model the way llama-quantize does (Q8_0, Q4_0, Q4_K_M, Q6_K, "
      "F16, BF16)");
  cmd->add_option("in", args->in_path, "input .gguf (F32/F16/BF16 weights)")->required();
  cmd->add_option("out", args->out_path, "output .gguf (replaced atomically)")->required();
  cmd->add_option("type", args->type, "Q8_0, Q4_0, Q4_K_M, Q6_K, F16 or BF16 (any case)")
      ->required();
  cmd->add_flag("--allow-requantize", args->allow_requantize,
                "also convert tensors that are already quantized (adds error)");
  cmd->add_flag("--quiet", args->quiet, "print only the summary line");
  BindConfigFlags(cmd, ctx, "gguf");
  cmd->callback([&ctx, args] {
    ctx.run = [&ctx, args] { return RunQuantize(*args, ResolvedThreads(ctx.config)); };
  });
}

}  // namespace mle::cli
