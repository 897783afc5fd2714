// Logging: spdlog with a console sink (stderr) and an optional file sink. Library code logs
// through spdlog's default logger (spdlog::info etc.); the CLI calls InitLogging once.
#pragma once

#include <spdlog/spdlog.h>

#include <string>

#include "core/status.h"

namespace mle {

struct LogOptions {
  std::string level = "info";  // trace|debug|info|warn|error|off
  std::string file;            // "" = console only
};

// Installs the default logger. Errors: unknown level, unwritable log file.
Status InitLogging(const LogOptions& options);

}  // namespace mle
