// Test helper: run a program (usually the built ml-engine binary) with arguments and capture
// its exit code, stdout and stderr; or start it in the background and kill it.
#pragma once

#include <sys/types.h>

#include <map>
#include <string>
#include <vector>

namespace mle::testing {

struct ProcessResult {
  int exit_code = -1;  // -signal when killed by a signal
  std::string out;
  std::string err;
};

// Runs argv[0] with argv, waits, captures output. `env` entries are added to the environment.
ProcessResult RunProcess(const std::vector<std::string>& argv,
                         const std::map<std::string, std::string>& env = {},
                         const std::string& cwd = "");
// Starts a process with stdout/stderr sent to files; returns its pid.
pid_t StartProcess(const std::vector<std::string>& argv, const std::string& out_path,
                   const std::string& err_path, const std::string& cwd = "");
// Waits for a started process; returns the exit code (or -signal).
int WaitProcess(pid_t pid);

// Path of the built ml-engine binary.
std::string EngineBinary();
// A fresh empty temporary directory (removed by the caller if wanted).
std::string MakeTempDir(const std::string& prefix);

}  // namespace mle::testing
