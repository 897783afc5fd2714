// `ml-engine models`: the trainable models in the registry.
#include <cstdio>

#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "train/models.h"

namespace mle::cli {

void AddModelsCommand(CLI::App& app, CliContext& ctx) {
  auto* cmd = app.add_subcommand("models", "list the trainable models");
  static bool json = false;
  cmd->add_flag("--json", json, "machine-readable output");
  cmd->callback([&ctx] {
    ctx.run = [] {
      auto models = train::ListModels();
      if (json) {
        nlohmann::json out = nlohmann::json::array();
        for (const auto& m : models) {
          out.push_back({{"name", m.name},
                         {"description", m.description},
                         {"task", m.task},
                         {"n_params", m.n_params}});
        }
        std::printf("%s\n", nlohmann::json{{"models", out}}.dump(2).c_str());
        return kExitOk;
      }
      std::printf("%-12s %10s  %s\n", "name", "params", "description");
      for (const auto& m : models) {
        std::printf("%-12s %10lld  %s\n", m.name.c_str(), static_cast<long long>(m.n_params),
                    m.description.c_str());
      }
      return kExitOk;
    };
  });
}

}  // namespace mle::cli
