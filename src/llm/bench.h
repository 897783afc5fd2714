// Engine benchmark the llama-bench way: pp<N> times the prefill of N tokens (in n_batch
// chunks) into an empty cache, tg<N> times N single-token decodes from an empty cache; random
// tokens, no tokenization or sampling; one warm-up run each, then r repetitions reported as
// the mean and sample stddev of the per-run rates. Every report carries what it ran on.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/status.h"
#include "llm/model.h"

namespace mle::llm {

struct BenchOptions {
  int n_prompt = 128;  // pp test size; 0 = skip
  int n_gen = 64;      // tg test size; 0 = skip
  int n_reps = 3;
  bool measure_bandwidth = true;
  uint64_t bandwidth_bytes = 1ull << 30;
};

struct BenchTest {
  std::string name;  // "pp128", "tg64"
  int n_tokens = 0;
  std::vector<double> samples;  // tokens per second, one per repetition
  double mean_tps = 0;
  double sd_tps = 0;
};

struct BenchReport {
  // What ran, and on what.
  std::string model_path, model_name, arch, type_name, commit, build_type, cpu, cpu_features;
  uint64_t model_bytes = 0, n_params = 0, weight_bytes_per_token = 0;
  int n_threads = 0, n_reps = 0;
  std::vector<BenchTest> tests;
  // Memory read bandwidth (0 when not measured): with a tg test, the mean of the readings (each
  // the best of 3 passes) taken before and after each tg run; without, the best of
  // bandwidth_passes passes.
  double bandwidth_gb_per_s = 0;
  uint64_t bandwidth_bytes = 0;  // the buffer it was measured over
  int bandwidth_passes = 0;      // readings with a tg test, else passes
  double bandwidth_min_gb_per_s = 0, bandwidth_max_gb_per_s = 0;  // of the readings
  uint64_t cache_bytes = 0;  // the CPU's largest cache (CpuInfo::cache_bytes), 0 if unknown
  // Mean over the tg runs of: t/s x weight bytes per token / mean of the readings around it.
  double tg_bandwidth_fraction = 0;
};

// Errors: n_prompt / n_gen / n_reps out of range, tests that do not fit the context, Decode
// errors, a bandwidth buffer that cannot be allocated.
Result<BenchReport> RunBench(const std::string& model_path, const Model& model, Context& ctx,
                             const BenchOptions& options);

// A llama-bench-like markdown table plus the lines describing the run.
std::string FormatBenchMarkdown(const BenchReport& r);
nlohmann::ordered_json BenchJson(const BenchReport& r);

// True in a build with assertions or without optimization (the figures are then not useful).
bool IsDebugBuild();

}  // namespace mle::llm
