// Test helper: a running `ml-engine serve` on a free loopback port, started in a directory;
// killed (SIGKILL) when it goes out of scope unless Terminate() stopped it first.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

namespace mle::testing {

class ServeProcess {
 public:
  // Runs `ml-engine serve --port <free> <extra...>` with `dir` as working directory; its
  // output goes to dir/out.txt and dir/err.txt (a later server in the same dir replaces them).
  ServeProcess(const std::string& dir, std::vector<std::string> extra);
  ~ServeProcess();
  ServeProcess(const ServeProcess&) = delete;
  ServeProcess& operator=(const ServeProcess&) = delete;

  int port() const { return port_; }
  bool WaitHealthy(int timeout_ms = 20000);
  // SIGTERM, then waits; returns the exit code.
  int Terminate();
  // SIGKILL, as a crash would.
  void Kill();
  std::string Out() const;
  std::string Err() const;

 private:
  std::string dir_;
  int port_ = 0;
  pid_t pid_ = -1;
};

}  // namespace mle::testing
