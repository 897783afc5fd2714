// The acceptance bar of the forward pass: for every llama.cpp reference in
// testdata/llamacpp-ref, the model's tokens and logits at every prompt position (and, for F16,
// the greedy continuation) match llama.cpp within the bounds of testdata/README.md. Also an
// F32 copy of the F16 model, held to the F16 bound. Prints each model's worst error / rms.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdio>
#include <fstream>

#include "llm_test_util.h"

namespace mle::llm {
namespace {

using testing::Logits;
using testing::ModelPath;
using testing::SharedPath;

struct RefCase {
  std::string prompt;
  std::vector<TokenId> tokens;
  std::vector<std::vector<std::pair<TokenId, float>>> top10;  // [position]
  std::vector<float> rms;                                     // [position]
  std::vector<TokenId> greedy;
  std::vector<float> greedy_margin;
};

std::vector<RefCase> LoadRef(const std::string& path) {
  std::ifstream in(path);
  const auto j = nlohmann::json::parse(in);
  std::vector<RefCase> out;
  for (const auto& c : j.at("cases")) {
    RefCase r;
    r.prompt = c.at("prompt").get<std::string>();
    r.tokens = c.at("prompt_tokens").get<std::vector<TokenId>>();
    for (const auto& p : c.at("positions")) {
      std::vector<std::pair<TokenId, float>> top;
      for (const auto& e : p.at("top10")) top.emplace_back(e[0].get<TokenId>(), e[1].get<float>());
      r.top10.push_back(std::move(top));
      r.rms.push_back(p.at("rms").get<float>());
    }
    r.greedy = c.at("greedy").get<std::vector<TokenId>>();
    r.greedy_margin = c.at("greedy_margin").get<std::vector<float>>();
    out.push_back(std::move(r));
  }
  return out;
}

// The README's bound for a file, from its name.
double Tolerance(const std::string& file) {
  if (file.find("-F16") != std::string::npos || file.find("-F32") != std::string::npos) return 0.03;
  if (file.find("-BF16") != std::string::npos) return 0.1;
  return 0.3;
}

int ArgMax(const std::vector<float>& v) {
  return static_cast<int>(std::max_element(v.begin(), v.end()) - v.begin());
}

// Checks one model file against one reference; returns the worst top-10 error / rms.
double CheckModel(const std::string& model_path, const std::string& ref_path, double tol,
                  bool check_greedy) {
  auto model = testing::LoadOrDie(model_path);
  if (!model) return 1e9;
  double worst = 0;
  for (const RefCase& rc : LoadRef(ref_path)) {
    SCOPED_TRACE(model_path + " prompt: " + rc.prompt);
    const auto ids = model->tokenizer().Tokenize(rc.prompt, true, false);
    EXPECT_EQ(ids, rc.tokens);
    auto ctx = testing::MakeContext(*model);
    if (!ctx) return 1e9;
    const Logits logits = testing::RunPrompt(*ctx, rc.tokens);
    EXPECT_EQ(logits.size(), rc.top10.size());
    for (size_t p = 0; p < std::min(logits.size(), rc.top10.size()); ++p) {
      const auto& top = rc.top10[p];
      const double margin = top[0].second - top[1].second;
      if (margin > 0.5) {
        EXPECT_EQ(ArgMax(logits[p]), top[0].first) << "position " << p;
      }
      for (const auto& [tok, ref] : top) {
        const double err = std::fabs(logits[p][tok] - ref) / rc.rms[p];
        worst = std::max(worst, err);
        EXPECT_LE(err, tol) << "position " << p << " token " << tok;
      }
    }
    if (!check_greedy || logits.empty()) continue;
    // Greedy continuation, compared up to the first step whose reference margin is < 0.1.
    TokenId next = ArgMax(logits.back());
    for (size_t i = 0; i < rc.greedy.size(); ++i) {
      EXPECT_EQ(next, rc.greedy[i]) << "greedy step " << i;
      if (next != rc.greedy[i] || rc.greedy_margin[i] < 0.1f) break;
      const Logits l = testing::RunPrompt(*ctx, {next});
      if (l.empty()) break;
      next = ArgMax(l[0]);
    }
  }
  return worst;
}

std::vector<std::string> RefFiles() {
  std::vector<std::string> out;
  for (const auto& e : std::filesystem::directory_iterator(SharedPath("llamacpp-ref"))) {
    if (e.path().extension() == ".json") out.push_back(e.path().stem().string());
  }
  std::sort(out.begin(), out.end());
  return out;
}

class ModelRefTest : public ::testing::TestWithParam<std::string> {};

TEST_P(ModelRefTest, MatchesLlamaCpp) {
  const std::string name = GetParam();
  const double tol = Tolerance(name);
  const bool f16 = name.find("-F16") != std::string::npos;
  const double worst =
      CheckModel(ModelPath(name + ".gguf"), SharedPath("llamacpp-ref/" + name + ".json"), tol, f16);
  std::printf("[ref] %-28s worst top-10 logit error %.4f of rms (bound %.2f)\n", name.c_str(),
              worst, tol);
}

INSTANTIATE_TEST_SUITE_P(Shared, ModelRefTest, ::testing::ValuesIn(RefFiles()),
                         [](const auto& info) {
                           std::string s = info.param;
                           std::replace(s.begin(), s.end(), '-', '_');
                           return s;
                         });

TEST(ModelRefTest, F32ConversionMatchesF16Reference) {
  auto src = gguf::GgufFile::Open(ModelPath("tiny-llama-spm-F16.gguf"));
  ASSERT_TRUE(src.ok()) << src.status().ToString();
  testing::TempDir dir;
  const std::string path = dir.File("tiny-llama-spm-F32.gguf");
  ASSERT_TRUE(testing::WriteF32Copy(**src, path).ok());
  const double worst =
      CheckModel(path, SharedPath("llamacpp-ref/tiny-llama-spm-F16.json"), 0.03, true);
  std::printf("[ref] %-28s worst top-10 logit error %.4f of rms (bound %.2f)\n",
              "tiny-llama-spm-F32 (conv.)", worst, 0.03);
}

}  // namespace
}  // namespace mle::llm
