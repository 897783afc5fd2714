// The prompts of shared/testdata/llamacpp-ref: llama.cpp's token ids for three prompts per
// test model (add_special=true, parse_special=false), read from each model's own GGUF. This
// covers the Gemma 3 model's "gemma4" vocabulary (BPE over raw UTF-8 with ▁ and byte tokens).
#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <span>
#include <string>
#include <vector>

#include "text/tokenizer.h"
#include "text/vocab_cases.h"

namespace mle::text {
namespace {

namespace fs = std::filesystem;

const fs::path kTestData = fs::path(MLE_SHARED_DIR) / "testdata";

std::vector<std::string> RefFiles() {
  std::vector<std::string> names;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(kTestData / "llamacpp-ref", ec)) {
    if (e.path().extension() == ".json") names.push_back(e.path().stem().string());
  }
  std::sort(names.begin(), names.end());
  return names;
}

class ModelPromptReference : public testing::TestWithParam<std::string> {};

TEST_P(ModelPromptReference, PromptTokensMatch) {
  auto content = ReadTextFile((kTestData / "llamacpp-ref" / (GetParam() + ".json")).string());
  ASSERT_TRUE(content.ok()) << content.status().ToString();
  const nlohmann::json ref = nlohmann::json::parse(*content);
  auto tok =
      Tokenizer::FromGguf((kTestData / "models" / ref.at("model").get<std::string>()).string());
  ASSERT_TRUE(tok.ok()) << tok.status().ToString();
  ASSERT_FALSE(ref.at("cases").empty());
  for (const auto& c : ref.at("cases")) {
    const std::string prompt = c.at("prompt").get<std::string>();
    const auto expected = c.at("prompt_tokens").get<std::vector<TokenId>>();
    EXPECT_EQ((*tok)->Tokenize(prompt, /*add_special=*/true, /*parse_special=*/false), expected)
        << "prompt: " << prompt;
    // And back: without the BOS, the ids detokenize to the prompt.
    std::span<const TokenId> ids(expected);
    if (!ids.empty() && ids.front() == (*tok)->bos()) ids = ids.subspan(1);
    EXPECT_EQ((*tok)->Detokenize(ids, false, false), prompt);
  }
}

INSTANTIATE_TEST_SUITE_P(Models, ModelPromptReference, testing::ValuesIn(RefFiles()),
                         [](const testing::TestParamInfo<std::string>& info) {
                           std::string s = info.param;
                           for (char& ch : s)
                             ch = std::isalnum(static_cast<unsigned char>(ch)) ? ch : '_';
                           return s;
                         });

}  // namespace
}  // namespace mle::text
