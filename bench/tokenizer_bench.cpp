// tokenizer_bench: tokenizer throughput (MB/s) per vocabulary, ours against llama.cpp measured
// in the same run on the same text (through bench/tokenizer_peer.py and llama-cpp-python).
// The text is ~1 MiB made by repeating the lines of shared/testdata/vocab/seedtext.inp.
// Usage: tokenizer_bench [--reps N] [--no-peer] [--python PATH] [--shared DIR]
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "core/build_info.h"
#include "core/cpu_info.h"
#include "text/tokenizer.h"
#include "text/vocab_cases.h"

namespace {

namespace fs = std::filesystem;
using mle::text::TokenId;
using mle::text::Tokenizer;

struct Options {
  int reps = 5;
  bool peer = true;
  std::string python = MLE_SOURCE_DIR "/.venv/bin/python";
  std::string shared = MLE_SHARED_DIR;
};

struct Stats {
  double mean = 0, sd = 0;
  double wrapper = 0;  // peer only: MB/s through llama-cpp-python's Llama.tokenize()
  size_t n_tokens = 0;
  unsigned long long checksum = 0;
};

// Same checksum as tokenizer_peer.py: sum of (i+1)*id mod 2^61-1.
unsigned long long Checksum(const std::vector<TokenId>& ids) {
  const unsigned __int128 mod = (1ull << 61) - 1;
  unsigned __int128 s = 0;
  for (size_t i = 0; i < ids.size(); ++i) s = (s + (unsigned __int128)(i + 1) * ids[i]) % mod;
  return static_cast<unsigned long long>(s);
}

std::string MakeText(const std::string& seed_path) {
  auto seed = mle::text::ReadTextFile(seed_path);
  if (!seed.ok()) {
    std::fprintf(stderr, "error: %s\n", seed.status().ToString().c_str());
    std::exit(2);
  }
  std::vector<std::string> lines;
  std::istringstream in(*seed);
  for (std::string line; std::getline(in, line);) {
    if (line != "__ggml_vocab_test__") lines.push_back(line);
  }
  std::string text;
  for (size_t i = 0; text.size() < (1u << 20); ++i) text += lines[i % lines.size()] + "\n";
  return text;
}

Stats Measure(const Tokenizer& tok, const std::string& text, int reps) {
  Stats st;
  std::vector<TokenId> ids = tok.Tokenize(text, false, false);  // warm-up
  std::vector<double> rates;
  for (int r = 0; r < reps; ++r) {
    auto t0 = std::chrono::steady_clock::now();
    ids = tok.Tokenize(text, false, false);
    double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    rates.push_back(text.size() / 1e6 / s);
  }
  for (double x : rates) st.mean += x / rates.size();
  for (double x : rates)
    st.sd += (x - st.mean) * (x - st.mean) / std::max<size_t>(1, rates.size() - 1);
  st.sd = std::sqrt(st.sd);
  st.n_tokens = ids.size();
  st.checksum = Checksum(ids);
  return st;
}

// Runs the Python peer once for all vocabularies; name -> stats.
std::map<std::string, Stats> RunPeer(
    const Options& opt, const std::string& text_path,
    const std::vector<std::pair<std::string, std::string>>& vocabs) {
  std::map<std::string, Stats> out;
  if (!opt.peer) return out;
  if (!fs::exists(opt.python)) {
    std::fprintf(stderr,
                 "note: %s missing; run scripts/setup-bench-venv.sh for the llama.cpp peer\n",
                 opt.python.c_str());
    return out;
  }
  std::string cmd = opt.python + " " MLE_SOURCE_DIR "/bench/tokenizer_peer.py --text " + text_path +
                    " --reps " + std::to_string(opt.reps);
  for (const auto& [name, path] : vocabs) cmd += " " + name + "=" + path;
  cmd += " 2>/dev/null";
  std::unique_ptr<FILE, int (*)(FILE*)> pipe(popen(cmd.c_str(), "r"), pclose);
  if (!pipe) return out;
  char line[512];
  while (std::fgets(line, sizeof(line), pipe.get())) {
    char name[128];
    Stats st;
    if (std::sscanf(line, "peer %127s %lf %lf %zu %llu %lf", name, &st.mean, &st.sd, &st.n_tokens,
                    &st.checksum, &st.wrapper) == 6) {
      out[name] = st;
    }
  }
  return out;
}

Options ParseArgs(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--reps" && i + 1 < argc) {
      o.reps = std::max(1, std::atoi(argv[++i]));
    } else if (a == "--no-peer") {
      o.peer = false;
    } else if (a == "--python" && i + 1 < argc) {
      o.python = argv[++i];
    } else if (a == "--shared" && i + 1 < argc) {
      o.shared = argv[++i];
    } else {
      std::fprintf(stderr,
                   "usage: tokenizer_bench [--reps N] [--no-peer] [--python PATH] "
                   "[--shared DIR]\n");
      std::exit(2);
    }
  }
  return o;
}

void PrintTable(const std::vector<std::pair<std::string, std::string>>& vocabs,
                const std::map<std::string, Stats>& ours,
                const std::map<std::string, Stats>& peer) {
  bool any_differ = false;
  std::printf("%-10s %16s %16s %7s %14s %9s  %s\n", "vocab", "ml-engine MB/s", "llama.cpp MB/s",
              "ratio", "via wrapper", "tokens", "same ids");
  for (const auto& [name, path] : vocabs) {
    const Stats& o = ours.at(name);
    auto it = peer.find(name);
    char p[32] = "n/a", ratio[16] = "n/a", wrapper[16] = "n/a";
    const char* same = "n/a";
    if (it != peer.end()) {
      std::snprintf(p, sizeof(p), "%.2f ± %.2f", it->second.mean, it->second.sd);
      std::snprintf(ratio, sizeof(ratio), "%.1fx", o.mean / it->second.mean);
      std::snprintf(wrapper, sizeof(wrapper), "%.2f", it->second.wrapper);
      same = it->second.checksum == o.checksum && it->second.n_tokens == o.n_tokens ? "yes" : "NO";
      any_differ |= same[0] == 'N';
    }
    std::printf("%-10s %9.2f ± %4.2f %16s %7s %14s %9zu  %s\n", name.c_str(), o.mean, o.sd, p,
                ratio, wrapper, o.n_tokens, same);
  }
  if (any_differ) {
    std::printf(
        "NO: the ids differ from the peer's; the peer's llama.cpp may predate rules the "
        "conformance tests check (e.g. Phi-3's </s> counting as a control token).\n");
  }
}

}  // namespace

int main(int argc, char** argv) {
  const Options opt = ParseArgs(argc, argv);
  const std::string vdir = opt.shared + "/testdata/vocab/";
  const std::vector<std::pair<std::string, std::string>> vocabs = {
      {"llama-spm", vdir + "ggml-vocab-llama-spm.gguf"},
      {"llama-bpe", vdir + "ggml-vocab-llama-bpe.gguf"},
      {"qwen2", opt.shared + "/testdata/models/tiny-qwen2-bpe-Q8_0.gguf"},
      {"gpt-2", vdir + "ggml-vocab-gpt-2.gguf"},
      {"phi-3", vdir + "ggml-vocab-phi-3.gguf"},
      {"starcoder", vdir + "ggml-vocab-starcoder.gguf"},
  };
  const std::string text = MakeText(vdir + "seedtext.inp");
  const fs::path text_path = fs::temp_directory_path() / "mle_tokenizer_bench.txt";
  std::ofstream(text_path, std::ios::binary) << text;

  const mle::CpuInfo& cpu = mle::GetCpuInfo();
  std::printf("tokenizer_bench  commit %s  build %s  cpu %s  threads 1  reps %d\n", MLE_GIT_COMMIT,
              MLE_BUILD_TYPE, cpu.model_name.c_str(), opt.reps);
  std::printf("text: %zu bytes (seedtext.inp lines repeated)  add_special=0 parse_special=0\n",
              text.size());
  std::printf(
      "llama.cpp: one llama_tokenize() call via llama-cpp-python (ratio uses it); "
      "'via wrapper': Llama.tokenize(), which tokenizes long texts twice\n");
#ifndef NDEBUG
  std::printf("WARNING: assertions are on (debug build): timings are not representative\n");
#endif
  std::map<std::string, Stats> ours;
  for (const auto& [name, path] : vocabs) {
    auto tok = Tokenizer::FromGguf(path);
    if (!tok.ok()) {
      std::fprintf(stderr, "error: %s\n", tok.status().ToString().c_str());
      return 2;
    }
    ours[name] = Measure(**tok, text, opt.reps);
  }
  const std::map<std::string, Stats> peer = RunPeer(opt, text_path.string(), vocabs);
  PrintTable(vocabs, ours, peer);
  fs::remove(text_path);
  return 0;
}
