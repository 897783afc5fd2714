// What the LLM commands (generate, logits, bench model) share: loading a model and a context
// with the load time measured, and the sampling flags.
#pragma once

#include <memory>
#include <string>

#include "cli/cli_common.h"
#include "llm/model.h"
#include "llm/sampler.h"

namespace mle::cli {

struct LoadedModel {
  std::unique_ptr<llm::Model> model;
  std::unique_ptr<llm::Context> ctx;
  double t_load_ms = 0;  // model load plus context creation
};

// Loads `path` and creates a one-sequence context. Errors: the loader's and Context::Create's
// (missing file, unsupported architecture, n_ctx above the model's limit, ...).
Result<LoadedModel> LoadModelAndContext(const std::string& path, const llm::ContextOptions& opts,
                                        const llm::LoadOptions& load = {});

// Adds --no-repack (keep every weight in the file's layout; see LoadOptions::repack).
void AddLoadFlags(CLI::App* cmd, llm::LoadOptions& o);

// Adds --temp, --top-k, --top-p, --min-p, --repeat-penalty, --repeat-last-n,
// --presence-penalty, --frequency-penalty and --seed, bound to `p` (validated later).
void AddSamplingFlags(CLI::App* cmd, llm::SamplingParams& p);

}  // namespace mle::cli
