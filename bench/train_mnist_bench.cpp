// Training step time of cnn_mnist (batch 64, Adam) through ml-engine's own training loop
// (train::Train, exactly what `ml-engine train` runs), against the same network, batch,
// optimizer, data and threads in PyTorch Python (bench/train_mnist_peer.py), measured in the
// same invocation. Prints a self-describing table and the ratio (target: C++ <= 0.8 x Python).
#include <chrono>
#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/build_info.h"
#include "core/cpu_info.h"
#include "train/torch_env.h"
#include "train/trainer.h"

namespace {

struct Stats {
  double mean = 0, stddev = 0;
};

Stats Summarize(const std::vector<double>& v) {
  Stats s;
  for (double x : v) s.mean += x;
  s.mean /= v.size();
  for (double x : v) s.stddev += (x - s.mean) * (x - s.mean);
  s.stddev = v.size() > 1 ? std::sqrt(s.stddev / (v.size() - 1)) : 0;
  return s;
}

std::string RunCommand(const std::string& cmd) {
  std::string out;
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) return out;
  char buf[4096];
  while (size_t n = fread(buf, 1, sizeof buf, p)) out.append(buf, n);
  pclose(p);
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  int steps = 60, warmup = 10, threads = 2;
  std::string peer = std::string(MLE_SOURCE_DIR) + "/bench/train_mnist_peer.py";
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string a = argv[i];
    if (a == "--steps") steps = std::atoi(argv[i + 1]);
    if (a == "--warmup") warmup = std::atoi(argv[i + 1]);
    if (a == "--threads") threads = std::atoi(argv[i + 1]);
  }
  if (std::string(MLE_BUILD_TYPE) != "Release") {
    std::fprintf(stderr, "WARNING: %s build; timings are not representative\n", MLE_BUILD_TYPE);
  }
  // Ours: the real training loop on real data; step times from the on_step callback.
  std::vector<double> ms;
  auto last = std::chrono::steady_clock::now();
  mle::train::TrainOptions o;
  o.model = "cnn_mnist";
  o.epochs = 1;
  o.batch_size = 64;
  o.optimizer = "adam";
  o.threads = threads;
  o.limit_train = 64 * (steps + warmup);
  o.limit_val = 64;
  o.log_every_steps = 1000000;
  char tmpl[] = "/tmp/mle-bench-XXXXXX";
  std::string dir = mkdtemp(tmpl);
  o.ckpt_dir = dir + "/ckpt";
  o.runs_dir = dir + "/runs";
  mle::train::TrainCallbacks cb;
  cb.on_step = [&](const mle::train::StepEvent& ev) {
    auto now = std::chrono::steady_clock::now();
    if (ev.step > warmup)
      ms.push_back(std::chrono::duration<double, std::milli>(now - last).count());
    last = now;
  };
  auto r = mle::train::Train(o, cb);
  if (!r.ok()) {
    std::fprintf(stderr, "error: %s\n", r.status().message().c_str());
    return 1;
  }
  Stats ours = Summarize(ms);
  std::string peer_out =
      RunCommand("/usr/bin/python3 " + peer + " --steps " + std::to_string(steps) + " --warmup " +
                 std::to_string(warmup) + " --threads " + std::to_string(threads));
  auto pj = nlohmann::json::parse(peer_out, nullptr, false);
  const auto& cpu = mle::GetCpuInfo();
  std::printf(
      "| commit | build | cpu | threads | model | batch | optimizer | steps | engine | ms/step "
      "|\n");
  std::printf("|---|---|---|---|---|---|---|---|---|---|\n");
  std::printf(
      "| %s | %s | %s (%s) | %d | cnn_mnist | 64 | adam | %d | ml-engine (LibTorch %s) | %.1f ± "
      "%.1f |\n",
      MLE_GIT_COMMIT, MLE_BUILD_TYPE, cpu.model_name.c_str(), cpu.FeatureString().c_str(), threads,
      steps, mle::train::TorchVersion().c_str(), ours.mean, ours.stddev);
  if (pj.is_discarded()) {
    std::printf("peer failed to run (is python3-torch installed?): %s\n", peer_out.c_str());
    return 1;
  }
  double py = pj["ms_per_step_mean"];
  std::printf(
      "| %s | - | - | %d | cnn_mnist | 64 | adam | %d | PyTorch Python %s | %.1f ± %.1f |\n",
      MLE_GIT_COMMIT, pj["threads"].get<int>(), pj["steps"].get<int>(),
      pj["torch"].get<std::string>().c_str(), py, pj["ms_per_step_stddev"].get<double>());
  std::printf("\nratio ml-engine / PyTorch Python = %.3f (target <= 0.80)\n", ours.mean / py);
  return 0;
}
