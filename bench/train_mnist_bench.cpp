// Training step time of cnn_mnist (batch 64, Adam) through ml-engine's own training loop
// (train::Train, exactly what `ml-engine train` runs), against the same network, batch,
// optimizer, data and threads in PyTorch Python (bench/train_mnist_peer.py), measured in the
// same invocation, the two taking turns (--rounds). Prints a self-describing table and the
// ratio of the mean step times (target: C++ <= 0.8 x Python), with the medians beside it.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/build_info.h"
#include "core/cpu_info.h"
#include "train/torch_env.h"
#include "train/trainer.h"

namespace {

struct Stats {
  double mean = 0, stddev = 0, median = 0;
};

Stats Summarize(std::vector<double> v) {
  Stats s;
  if (v.empty()) return s;
  for (double x : v) s.mean += x;
  s.mean /= v.size();
  for (double x : v) s.stddev += (x - s.mean) * (x - s.mean);
  s.stddev = v.size() > 1 ? std::sqrt(s.stddev / (v.size() - 1)) : 0;
  std::sort(v.begin(), v.end());
  const size_t h = v.size() / 2;
  s.median = v.size() % 2 ? v[h] : (v[h - 1] + v[h]) / 2;
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

// Total and steal CPU ticks from /proc/stat (zeros where it cannot be read).
std::pair<uint64_t, uint64_t> CpuTicks() {
  std::ifstream f("/proc/stat");
  std::string cpu;
  uint64_t v[8] = {};
  f >> cpu;
  for (uint64_t& x : v) f >> x;
  uint64_t total = 0;
  for (uint64_t x : v) total += x;
  return {f ? total : 0, f ? v[7] : 0};
}

}  // namespace

int main(int argc, char** argv) {
  int steps = 60, warmup = 10, threads = 2, rounds = 3;
  std::string peer = std::string(MLE_SOURCE_DIR) + "/bench/train_mnist_peer.py";
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string a = argv[i];
    if (a == "--steps") steps = std::atoi(argv[i + 1]);
    if (a == "--warmup") warmup = std::atoi(argv[i + 1]);
    if (a == "--threads") threads = std::atoi(argv[i + 1]);
    if (a == "--rounds") rounds = std::max(1, std::atoi(argv[i + 1]));
  }
  if (std::string(MLE_BUILD_TYPE) != "Release") {
    std::fprintf(stderr, "WARNING: %s build; timings are not representative\n", MLE_BUILD_TYPE);
  }
  // The two engines take turns, `rounds` times, so that a slow stretch of a shared machine
  // lands on both; each step's time is kept for the mean and the median.
  std::vector<double> ours_ms, peer_ms;
  std::string peer_torch = "?";
  int peer_threads = 0;
  const auto [total0, steal0] = CpuTicks();
  char tmpl[] = "/tmp/mle-bench-XXXXXX";
  if (mkdtemp(tmpl) == nullptr) {
    std::fprintf(stderr, "error: cannot create a directory under /tmp\n");
    return 1;
  }
  const std::string dir = tmpl;
  for (int round = 0; round < rounds; ++round) {
    // Ours: the real training loop on real data; step times from the on_step callback.
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
    o.ckpt_dir = dir + "/ckpt" + std::to_string(round);
    o.runs_dir = dir + "/runs";
    mle::train::TrainCallbacks cb;
    cb.on_step = [&](const mle::train::StepEvent& ev) {
      auto now = std::chrono::steady_clock::now();
      if (ev.step > warmup) {
        ours_ms.push_back(std::chrono::duration<double, std::milli>(now - last).count());
      }
      last = now;
    };
    auto r = mle::train::Train(o, cb);
    if (!r.ok()) {
      std::fprintf(stderr, "error: %s\n", r.status().message().c_str());
      std::filesystem::remove_all(dir);
      return 1;
    }
    const std::string peer_out =
        RunCommand("/usr/bin/python3 " + peer + " --steps " + std::to_string(steps) + " --warmup " +
                   std::to_string(warmup) + " --threads " + std::to_string(threads));
    auto pj = nlohmann::json::parse(peer_out, nullptr, false);
    if (pj.is_discarded() || !pj.contains("ms")) {
      std::printf("peer failed to run (is python3-torch installed?): %s\n", peer_out.c_str());
      std::filesystem::remove_all(dir);
      return 1;
    }
    for (double t : pj["ms"]) peer_ms.push_back(t);
    peer_torch = pj["torch"].get<std::string>();
    peer_threads = pj["threads"].get<int>();
  }
  std::filesystem::remove_all(dir);
  const auto [total1, steal1] = CpuTicks();
  const Stats ours = Summarize(ours_ms), py = Summarize(peer_ms);
  const auto& cpu = mle::GetCpuInfo();
  std::printf(
      "| commit | build | cpu | threads | model | batch | optimizer | steps | engine | ms/step "
      "mean ± sd | median |\n");
  std::printf("|---|---|---|---|---|---|---|---|---|---|---|\n");
  std::printf(
      "| %s | %s | %s (%s) | %d | cnn_mnist | 64 | adam | %zu | ml-engine (LibTorch %s) | %.1f ± "
      "%.1f | %.1f |\n",
      MLE_GIT_COMMIT, MLE_BUILD_TYPE, cpu.model_name.c_str(), cpu.FeatureString().c_str(), threads,
      ours_ms.size(), mle::train::TorchVersion().c_str(), ours.mean, ours.stddev, ours.median);
  std::printf(
      "| %s | - | - | %d | cnn_mnist | 64 | adam | %zu | PyTorch Python %s | %.1f ± %.1f | %.1f "
      "|\n",
      MLE_GIT_COMMIT, peer_threads, peer_ms.size(), peer_torch.c_str(), py.mean, py.stddev,
      py.median);
  std::printf("\n%d rounds of %d steps each, the engines taking turns\n", rounds, steps);
  if (total1 > total0) {
    std::printf(
        "hypervisor steal during the runs: %.1f%% of CPU time\n",
        100.0 * static_cast<double>(steal1 - steal0) / static_cast<double>(total1 - total0));
  }
  // The mean is what a run takes (an epoch is steps x mean); the median shows the typical step.
  std::printf("ratio ml-engine / PyTorch Python: means %.3f (target <= 0.80), medians %.3f\n",
              ours.mean / py.mean, ours.median / py.median);
  return 0;
}
