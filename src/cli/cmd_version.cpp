// `ml-engine version`: what this binary is and what it found on this machine.
#include <cstdio>

#include "cli/commands.h"
#include "core/build_info.h"
#include "core/cpu_info.h"
#ifdef MLE_HAVE_TORCH
#include "train/torch_env.h"
#endif

namespace mle::cli {

void AddVersionCommand(CLI::App& app, CliContext& ctx) {
  auto* cmd = app.add_subcommand("version", "print version, build and machine facts");
  BindConfigFlags(cmd, ctx, "version");
  cmd->callback([&ctx] {
    ctx.run = [&ctx] {
      const CpuInfo& cpu = GetCpuInfo();
      int threads = ResolvedThreads(ctx.config);
      std::printf("ml-engine %s\n", MLE_VERSION);
      std::printf("commit:       %s\n", MLE_GIT_COMMIT);
      std::printf("build type:   %s%s%s\n", MLE_BUILD_TYPE,
                  MLE_SANITIZERS[0] ? ", sanitizers " : "", MLE_SANITIZERS);
      std::printf("cpu:          %s\n", cpu.model_name.c_str());
      std::printf("cpu features: %s\n", cpu.FeatureString().c_str());
      std::printf("hw threads:   %d\n", cpu.n_hw_threads);
      std::printf("threads:      %d (%s)\n", threads, ctx.config.Origin("common.threads").c_str());
#ifdef MLE_HAVE_TORCH
      std::printf("libtorch:     %s (%s)\n", train::TorchVersion().c_str(),
                  train::TorchParallelInfo(threads).c_str());
#else
      std::printf("libtorch:     not built in (configured with MLE_WITH_TORCH=OFF)\n");
#endif
      return kExitOk;
    };
  });
}

}  // namespace mle::cli
