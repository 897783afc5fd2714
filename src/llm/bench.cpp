// Engine benchmark (see bench.h). Tokens are drawn from a fixed-seed generator so every run
// decodes the same ids; the cache is emptied before each repetition.
#include "llm/bench.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <map>
#include <memory>
#include <random>

#include "core/build_info.h"
#include "core/cpu_info.h"
#include "llm/bandwidth.h"

namespace mle::llm {
namespace {

std::vector<TokenId> RandomTokens(int n, int32_t n_vocab, uint32_t seed) {
  std::mt19937 rng(seed);
  std::vector<TokenId> t(n);
  for (TokenId& id : t) id = static_cast<TokenId>(rng() % static_cast<uint32_t>(n_vocab));
  return t;
}

// Prefill of `tokens` into the empty sequence 0; returns seconds.
Result<double> TimePrefill(Context& ctx, const std::vector<TokenId>& tokens) {
  ctx.SeqTruncate(0, 0);
  const auto t0 = std::chrono::steady_clock::now();
  Batch b;
  const size_t n_batch = static_cast<size_t>(std::max(1, ctx.n_batch()));
  for (size_t begin = 0; begin < tokens.size(); begin += n_batch) {
    b.Clear();
    const size_t end = std::min(tokens.size(), begin + n_batch);
    for (size_t i = begin; i < end; ++i) b.Add(tokens[i], int32_t(i), 0, i + 1 == end);
    MLE_RETURN_IF_ERROR(ctx.Decode(b));
  }
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// len(tokens) single-token decodes from an empty sequence 0; returns seconds.
Result<double> TimeDecode(Context& ctx, const std::vector<TokenId>& tokens) {
  ctx.SeqTruncate(0, 0);
  const auto t0 = std::chrono::steady_clock::now();
  Batch b;
  for (size_t i = 0; i < tokens.size(); ++i) {
    b.Clear();
    b.Add(tokens[i], static_cast<int32_t>(i), 0, true);
    MLE_RETURN_IF_ERROR(ctx.Decode(b));
  }
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

void Summarize(BenchTest& t) {
  double sum = 0;
  for (double s : t.samples) sum += s;
  t.mean_tps = sum / t.samples.size();
  double var = 0;
  for (double s : t.samples) var += (s - t.mean_tps) * (s - t.mean_tps);
  t.sd_tps = t.samples.size() > 1 ? std::sqrt(var / (t.samples.size() - 1)) : 0;
}

// The model's type as llama-bench shows it: general.file_type's name (llama_ftype), else the
// tensor type holding most of the matrix bytes.
std::string ModelTypeName(const Model& model) {
  static const std::map<int64_t, std::string> kFtypes = {
      {0, "F32"},     {1, "F16"},     {2, "Q4_0"},    {3, "Q4_1"},    {7, "Q8_0"},
      {8, "Q5_0"},    {9, "Q5_1"},    {10, "Q2_K"},   {11, "Q3_K_S"}, {12, "Q3_K_M"},
      {13, "Q3_K_L"}, {14, "Q4_K_S"}, {15, "Q4_K_M"}, {16, "Q5_K_S"}, {17, "Q5_K_M"},
      {18, "Q6_K"},   {32, "BF16"}};
  const Result<int64_t> ftype = model.file().GetIntOr("general.file_type", -1);
  if (ftype.ok() && kFtypes.count(*ftype)) return kFtypes.at(*ftype);
  std::map<std::string, uint64_t> bytes;
  for (const gguf::TensorInfo& t : model.file().tensors()) {
    if (t.dims.size() >= 2) bytes[std::string(gguf::TensorTypeName(t.type))] += t.size_bytes;
  }
  std::string best;
  uint64_t most = 0;
  for (const auto& [name, n] : bytes) {
    if (n > most) most = n, best = name;
  }
  return best;
}

}  // namespace

bool IsDebugBuild() {
#ifdef NDEBUG
  return std::string(MLE_BUILD_TYPE) == "Debug";
#else
  return true;
#endif
}

Result<BenchReport> RunBench(const std::string& model_path, const Model& model, Context& ctx,
                             const BenchOptions& o) {
  if (o.n_prompt < 0 || o.n_gen < 0 || o.n_reps < 1 || (o.n_prompt == 0 && o.n_gen == 0)) {
    return InvalidArgument("bench: -p and -n must be >= 0 (not both 0) and -r >= 1");
  }
  if (std::max(o.n_prompt, o.n_gen) > ctx.n_ctx()) {
    return InvalidArgument("bench: a test of " + std::to_string(std::max(o.n_prompt, o.n_gen)) +
                           " tokens does not fit the context of " + std::to_string(ctx.n_ctx()) +
                           " (lower -p/-n or raise --ctx)");
  }
  BenchReport r;
  const Hparams& hp = model.hparams();
  r.model_path = model_path;
  r.model_name = hp.name;
  r.arch = hp.arch;
  r.type_name = ModelTypeName(model);
  r.commit = MLE_GIT_COMMIT;
  r.build_type = MLE_BUILD_TYPE;
  r.cpu = GetCpuInfo().model_name;
  r.cpu_features = GetCpuInfo().FeatureString();
  r.cache_bytes = GetCpuInfo().cache_bytes;
  r.model_bytes = model.tensor_bytes();
  for (const gguf::TensorInfo& t : model.file().tensors()) r.n_params += t.n_elements;
  r.weight_bytes_per_token = model.weight_bytes_per_token();
  r.n_threads = ctx.n_threads();
  r.n_reps = o.n_reps;
  const std::vector<TokenId> tokens = RandomTokens(std::max(o.n_prompt, o.n_gen), hp.n_vocab, 42);
  // Bandwidth readings for the decode runs: one before and one after each (the after-reading of
  // one run is the before-reading of the next). The host's bandwidth drifts within seconds, and
  // the fraction a run reaches means something only against readings of the same moment.
  BandwidthOptions bw;
  bw.buffer_bytes = o.bandwidth_bytes;
  bw.n_threads = std::max(1, r.n_threads);
  std::unique_ptr<ReadBandwidthProbe> probe;
  std::vector<double> passes;
  auto run = [&](const char* kind, int n, auto timer) -> Status {
    if (n == 0) return Status::Ok();
    const std::vector<TokenId> ids(tokens.begin(), tokens.begin() + n);
    BenchTest t{kind + std::to_string(n), n, {}, 0, 0};
    MLE_ASSIGN_OR_RETURN(double warm, timer(ctx, ids));  // warm-up, not counted
    (void)warm;
    const bool paired = probe != nullptr && t.name.rfind("tg", 0) == 0;
    // A reading is the best of 3 passes: a pass the scheduler interrupts reads far too low
    // (8 GB/s beside 31 was seen), while a decode run lasts long enough to average that out.
    auto reading = [&] { return std::max({probe->Pass(), probe->Pass(), probe->Pass()}); };
    if (paired) passes.push_back(reading());
    for (int i = 0; i < o.n_reps; ++i) {
      MLE_ASSIGN_OR_RETURN(double s, timer(ctx, ids));
      t.samples.push_back(n / s);
      if (paired) {
        passes.push_back(reading());
        const double around = (passes[passes.size() - 2] + passes.back()) / 2;
        r.tg_bandwidth_fraction +=
            t.samples.back() * r.weight_bytes_per_token / (around * 1e9) / o.n_reps;
      }
    }
    Summarize(t);
    r.tests.push_back(std::move(t));
    return Status::Ok();
  };
  MLE_RETURN_IF_ERROR(run("pp", o.n_prompt, TimePrefill));
  if (o.measure_bandwidth && o.n_gen > 0) {
    MLE_ASSIGN_OR_RETURN(probe, ReadBandwidthProbe::Create(bw));
  }
  MLE_RETURN_IF_ERROR(run("tg", o.n_gen, TimeDecode));
  ctx.SeqTruncate(0, 0);
  if (!passes.empty()) {
    for (double p : passes) r.bandwidth_gb_per_s += p / passes.size();
    r.bandwidth_passes = static_cast<int>(passes.size());
    r.bandwidth_min_gb_per_s = *std::min_element(passes.begin(), passes.end());
    r.bandwidth_max_gb_per_s = *std::max_element(passes.begin(), passes.end());
  } else if (o.measure_bandwidth) {  // no decode test: the best of bw.n_runs passes
    MLE_ASSIGN_OR_RETURN(BandwidthResult b, MeasureReadBandwidth(bw));
    r.bandwidth_gb_per_s = b.best_gb_per_s;
    r.bandwidth_passes = bw.n_runs;
  }
  if (o.measure_bandwidth) r.bandwidth_bytes = bw.buffer_bytes;
  return r;
}

std::string FormatBenchMarkdown(const BenchReport& r) {
  std::string out;
  char line[512];
  auto add = [&](const char* fmt, auto... args) {
    std::snprintf(line, sizeof(line), fmt, args...);
    out += line;
  };
  add("ml-engine %s, commit %s, %s build; CPU %s (%s); %d threads; %d repetitions\n\n", MLE_VERSION,
      r.commit.c_str(), r.build_type.c_str(), r.cpu.c_str(), r.cpu_features.c_str(), r.n_threads,
      r.n_reps);
  const std::string model = r.arch + " " + r.model_name;
  const int w = static_cast<int>(std::max<size_t>(5, model.size()));
  add("| %-*s | %10s | %9s | %-7s | %7s | %6s | %18s |\n", w, "model", "size", "params", "type",
      "threads", "test", "t/s");
  add("| %s | ---------: | --------: | ------- | ------: | -----: | -----------------: |\n",
      std::string(w, '-').c_str());
  for (const BenchTest& t : r.tests) {
    char tps[64];
    std::snprintf(tps, sizeof(tps), "%.2f ± %.2f", t.mean_tps, t.sd_tps);
    add("| %-*s | %6.2f GiB | %7.2f B | %-7s | %7d | %6s | %18s |\n", w, model.c_str(),
        r.model_bytes / 1073741824.0, r.n_params / 1e9, r.type_name.c_str(), r.n_threads,
        t.name.c_str(), tps);
  }
  if (r.bandwidth_gb_per_s > 0) {
    if (r.tg_bandwidth_fraction > 0) {
      add("\nmemory read bandwidth: %.2f GB/s (%d threads, mean of %d readings around the tg "
          "runs, each the best of 3 passes over %.0f MiB; readings %.1f-%.1f GB/s)\n",
          r.bandwidth_gb_per_s, r.n_threads, r.bandwidth_passes, r.bandwidth_bytes / 1048576.0,
          r.bandwidth_min_gb_per_s, r.bandwidth_max_gb_per_s);
      add("decode reads %.1f MiB of weights per token: tg reaches %.0f%% of the bandwidth bound "
          "(%.1f t/s; each run against the readings around it)\n",
          r.weight_bytes_per_token / 1048576.0, r.tg_bandwidth_fraction * 100,
          r.bandwidth_gb_per_s * 1e9 / std::max<double>(1, r.weight_bytes_per_token));
      if (r.cache_bytes > 0 && r.weight_bytes_per_token <= r.cache_bytes) {
        add("(the weights fit in this CPU's %.0f MiB cache, so decode reads them from the cache: "
            "the memory bandwidth is no bound for this model)\n",
            r.cache_bytes / 1048576.0);
      } else if (r.tg_bandwidth_fraction > 1.0) {
        add("(over 100%%: the machine's bandwidth moved between the readings and the runs, as on "
            "a shared or busy host; more repetitions (-r) average it out)\n");
      }
    } else {
      add("\nmemory read bandwidth: %.2f GB/s (%d threads, best of %d passes over %.0f MiB)\n",
          r.bandwidth_gb_per_s, r.n_threads, r.bandwidth_passes, r.bandwidth_bytes / 1048576.0);
    }
  }
  return out;
}

nlohmann::ordered_json BenchJson(const BenchReport& r) {
  nlohmann::ordered_json j;
  j["engine"] = std::string("ml-engine ") + MLE_VERSION;
  j["commit"] = r.commit;
  j["build_type"] = r.build_type;
  j["cpu"] = r.cpu;
  j["cpu_features"] = r.cpu_features;
  j["n_threads"] = r.n_threads;
  j["n_reps"] = r.n_reps;
  j["model_path"] = r.model_path;
  j["model_name"] = r.model_name;
  j["arch"] = r.arch;
  j["type"] = r.type_name;
  j["model_bytes"] = r.model_bytes;
  j["n_params"] = r.n_params;
  j["weight_bytes_per_token"] = r.weight_bytes_per_token;
  j["tests"] = nlohmann::ordered_json::array();
  for (const BenchTest& t : r.tests) {
    j["tests"].push_back({{"test", t.name},
                          {"n_tokens", t.n_tokens},
                          {"mean_tps", t.mean_tps},
                          {"sd_tps", t.sd_tps},
                          {"samples_tps", t.samples}});
  }
  j["bandwidth_gb_per_s"] = r.bandwidth_gb_per_s;
  j["bandwidth_bytes"] = r.bandwidth_bytes;
  j["bandwidth_passes"] = r.bandwidth_passes;
  j["bandwidth_min_gb_per_s"] = r.bandwidth_min_gb_per_s;
  j["bandwidth_max_gb_per_s"] = r.bandwidth_max_gb_per_s;
  j["cpu_cache_bytes"] = r.cache_bytes;
  j["tg_bandwidth_fraction"] = r.tg_bandwidth_fraction;
  return j;
}

}  // namespace mle::llm
