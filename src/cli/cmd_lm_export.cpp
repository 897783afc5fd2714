// `ml-engine lm export`: a run's checkpoint to GGUF ("llama" architecture) for any engine.
#include <cstdio>

#include "cli/commands.h"
#include "lm/lm.h"

namespace mle::cli {

void AddLmExportCommand(CLI::App* lm, CliContext& ctx) {
  auto* cmd = lm->add_subcommand("export", "write a run's model as a GGUF file");
  static lm::LmExportOptions o;
  cmd->add_option("--run", o.run_dir, "run directory from `lm pretrain`")->required();
  cmd->add_option("--ckpt", o.ckpt, "checkpoint (default RUN/best.ckpt, else RUN/last.ckpt)");
  cmd->add_option("--type", o.type, "F32 | F16 | Q8_0 | Q4_0")->capture_default_str();
  cmd->add_option("-o,--out", o.out, "output .gguf file")->required();
  cmd->add_option("--name", o.model_name, "general.name (default: the run directory's name)");
  BindConfigKeys(cmd, ctx, {"common.threads"});
  cmd->callback([&ctx] {
    ctx.run = [] {
      auto r = lm::Export(o);
      if (!r.ok()) return Fail(r.status());
      std::printf("exported %s: %s, %.2fM parameters, %.2f MiB, tensors %s\n", r->path.c_str(),
                  r->type.c_str(), static_cast<double>(r->n_parameters) / 1e6,
                  static_cast<double>(r->file_bytes) / (1 << 20), r->tensor_types.dump().c_str());
      return kExitOk;
    };
  });
}

}  // namespace mle::cli
