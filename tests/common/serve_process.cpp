#include "common/serve_process.h"

#include <signal.h>

#include <fstream>
#include <sstream>

#include "common/http_test_client.h"
#include "common/subprocess.h"

namespace mle::testing {
namespace {

std::string Slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace

ServeProcess::ServeProcess(const std::string& dir, std::vector<std::string> extra) : dir_(dir) {
  port_ = FreePort();
  std::vector<std::string> argv = {EngineBinary(), "serve", "--port", std::to_string(port_)};
  argv.insert(argv.end(), extra.begin(), extra.end());
  pid_ = StartProcess(argv, dir + "/out.txt", dir + "/err.txt", dir);
}

ServeProcess::~ServeProcess() {
  Kill();
}

bool ServeProcess::WaitHealthy(int timeout_ms) {
  return testing::WaitHealthy(port_, timeout_ms);
}

int ServeProcess::Terminate() {
  if (pid_ <= 0) return -1;
  ::kill(pid_, SIGTERM);
  const int rc = WaitProcess(pid_);
  pid_ = -1;
  return rc;
}

void ServeProcess::Kill() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGKILL);
  WaitProcess(pid_);
  pid_ = -1;
}

std::string ServeProcess::Out() const {
  return Slurp(dir_ + "/out.txt");
}

std::string ServeProcess::Err() const {
  return Slurp(dir_ + "/err.txt");
}

}  // namespace mle::testing
