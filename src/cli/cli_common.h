// What every subcommand shares: the resolved configuration, flag binding from the option
// table, and the one way a command fails (one line on stderr, exit code 2).
#pragma once

#include <CLI/CLI.hpp>

#include <functional>
#include <map>
#include <memory>
#include <string>

#include "core/config.h"
#include "core/status.h"

namespace mle::cli {

constexpr int kExitOk = 0;
constexpr int kExitFailure = 1;  // a run that started and then failed
constexpr int kExitUsage = 2;    // bad input: flag, file, config

struct CliContext {
  Config config{EngineOptionSpecs()};
  std::string config_path;                   // --config (or MLE_CONFIG)
  std::map<std::string, std::string> flags;  // option key -> flag text given
  std::function<int()> run;                  // set by the chosen subcommand
};

// Adds the table's flags whose scope is `scope` (and, when `with_common`, the common ones).
void BindConfigFlags(CLI::App* cmd, CliContext& ctx, const std::string& scope,
                     bool with_common = true);

// Adds the flags of the named options only (e.g. {"paths.data"} for eval).
void BindConfigKeys(CLI::App* cmd, CliContext& ctx, const std::vector<std::string>& keys);

// Merges config file, MLE_* env and flags into ctx.config and sets up logging and threads.
Status ResolveConfig(CliContext& ctx);

// Prints "error: <message>" and returns kExitUsage (or kExitFailure for run-time failures).
int Fail(const Status& status);

// The thread count to use: common.threads, or all hardware threads when 0.
int ResolvedThreads(const Config& config);

}  // namespace mle::cli
