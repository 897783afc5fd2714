// Shared CLI plumbing (see cli_common.h).
#include "cli/cli_common.h"

#include <cstdio>
#include <cstdlib>

#include "core/cpu_info.h"
#include "core/file_util.h"
#include "core/log.h"

namespace mle::cli {

namespace {

void BindOne(CLI::App* cmd, CliContext& ctx, const OptionSpec& spec) {
  std::string help = spec.help + " [" + spec.EnvVar() + "]";
  if (!spec.default_value.is_null() && spec.default_value != "") {
    help += " (default " + spec.default_value.dump() + ")";
  }
  std::string key = spec.key;
  static const char* kTypeNames[] = {"BOOL", "INT", "FLOAT", "TEXT", "LIST"};
  if (spec.type == OptionType::kStringList) {
    // Repeatable (--api-key a --api-key b) and comma-separated; joined for SetFromString.
    cmd->add_option_function<std::vector<std::string>>(
           spec.flag,
           [&ctx, key](const std::vector<std::string>& v) {
             std::string joined;
             for (const auto& item : v) joined += (joined.empty() ? "" : ",") + item;
             ctx.flags[key] = joined;
           },
           help)
        ->type_name(kTypeNames[static_cast<int>(spec.type)]);
    return;
  }
  cmd->add_option_function<std::string>(
         spec.flag, [&ctx, key](const std::string& v) { ctx.flags[key] = v; }, help)
      ->type_name(kTypeNames[static_cast<int>(spec.type)]);
}

}  // namespace

void BindConfigFlags(CLI::App* cmd, CliContext& ctx, const std::string& scope, bool with_common) {
  for (const auto& spec : ctx.config.specs()) {
    if (spec.flag.empty()) continue;
    const std::string scopes = "," + spec.scope + ",";
    const bool in_scope = scopes.find("," + scope + ",") != std::string::npos;
    if (in_scope || (with_common && spec.scope.empty())) BindOne(cmd, ctx, spec);
  }
}

void BindConfigKeys(CLI::App* cmd, CliContext& ctx, const std::vector<std::string>& keys) {
  for (const auto& key : keys) {
    const OptionSpec* spec = ctx.config.FindSpec(key);
    MLE_CHECK_MSG(spec && !spec->flag.empty(), key.c_str());
    BindOne(cmd, ctx, *spec);
  }
}

Status ResolveConfig(CliContext& ctx) {
  Config& cfg = ctx.config;
  std::string path = ctx.config_path;
  if (path.empty()) {
    if (const char* env = std::getenv("MLE_CONFIG")) path = env;
  }
  if (!path.empty()) {
    if (!FileExists(path)) {
      return NotFound("config file '" + path + "' does not exist (fix the --config path)");
    }
    MLE_RETURN_IF_ERROR(cfg.MergeFile(path));
  } else if (FileExists("config/engine-config.json")) {
    MLE_RETURN_IF_ERROR(cfg.MergeFile("config/engine-config.json"));
  }
  MLE_RETURN_IF_ERROR(cfg.MergeEnv([](const char* name) { return std::getenv(name); }));
  for (const auto& [key, text] : ctx.flags) {
    const OptionSpec* spec = cfg.FindSpec(key);
    MLE_RETURN_IF_ERROR(cfg.SetFromString(key, text, "flag " + spec->flag));
  }
  LogOptions log;
  log.level = cfg.GetString("common.log_level");
  log.file = cfg.GetString("common.log_file");
  return InitLogging(log);
}

int Fail(const Status& status) {
  std::fprintf(stderr, "error: %s\n", status.message().c_str());
  bool usage = status.code() != StatusCode::kInternal && status.code() != StatusCode::kIoError &&
               status.code() != StatusCode::kCancelled;
  return usage ? kExitUsage : kExitFailure;
}

int ResolvedThreads(const Config& config) {
  int64_t n = config.GetInt("common.threads");
  return n > 0 ? static_cast<int>(n) : GetCpuInfo().n_hw_threads;
}

}  // namespace mle::cli
