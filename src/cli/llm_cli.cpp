// Shared plumbing of the LLM commands (see llm_cli.h).
#include "cli/llm_cli.h"

#include <chrono>

namespace mle::cli {

Result<LoadedModel> LoadModelAndContext(const std::string& path, const llm::ContextOptions& opts,
                                        const llm::LoadOptions& load) {
  const auto t0 = std::chrono::steady_clock::now();
  LoadedModel m;
  MLE_ASSIGN_OR_RETURN(m.model, llm::Model::Load(path, load));
  MLE_ASSIGN_OR_RETURN(m.ctx, llm::Context::Create(*m.model, opts));
  m.t_load_ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  return m;
}

void AddLoadFlags(CLI::App* cmd, llm::LoadOptions& o) {
  cmd->add_flag_callback(
      "--no-repack", [&o] { o.repack = false; },
      "use every weight in the file's own layout (no interleaved copy of Q4_0/Q4_K matrices)");
}

void AddSamplingFlags(CLI::App* cmd, llm::SamplingParams& p) {
  cmd->add_option("--temp", p.temperature, "temperature; 0 = greedy (default 0.8)");
  cmd->add_option("--top-k", p.top_k, "keep the k most likely tokens; 0 = off (default 40)");
  cmd->add_option("--top-p", p.top_p, "nucleus sampling threshold; 1 = off (default 0.95)");
  cmd->add_option("--min-p", p.min_p, "drop tokens below min-p x the best; 0 = off (default 0.05)");
  cmd->add_option("--repeat-penalty", p.repeat_penalty, "penalty for repeated tokens; 1 = off");
  cmd->add_option("--repeat-last-n", p.repeat_last_n,
                  "penalty window in tokens; 0 = off, -1 = context (default 64)");
  cmd->add_option("--presence-penalty", p.presence_penalty, "presence penalty (default 0)");
  cmd->add_option("--frequency-penalty", p.frequency_penalty, "frequency penalty (default 0)");
  cmd->add_option("--seed", p.seed, "sampling seed; -1 = random (default -1)");
}

}  // namespace mle::cli
