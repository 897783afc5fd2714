// Differential tests against llama.cpp outputs kept in tests/unit/text/data (made by
// scripts/gen_tokenizer_refs.py): hard cases (malformed UTF-8, special-token texts, every
// white space kind, scripts) for each shared vocabulary, with and without special handling,
// and the GPT-2 vocabulary re-labelled with the pre-tokenizers no shared vocabulary uses
// (default, falcon, deepseek-llm, deepseek-coder, refact).
#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <vector>

#include "text/tokenizer.h"
#include "text/vocab_cases.h"

namespace mle::text {
namespace {

namespace fs = std::filesystem;

fs::path DataDir() {
  return fs::path(MLE_SOURCE_DIR) / "tests" / "unit" / "text" / "data";
}
fs::path VocabDir() {
  return fs::path(MLE_SHARED_DIR) / "testdata" / "vocab";
}

std::vector<std::string> Cases(const fs::path& inp) {
  auto text = ReadTextFile(inp.string());
  EXPECT_TRUE(text.ok()) << text.status().ToString();
  return text.ok() ? ParseVocabTestCases(*text) : std::vector<std::string>{};
}

// Tokenizes every case and compares with the .out file; returns the number of mismatches.
int Compare(const Tokenizer& tok, const std::vector<std::string>& cases, const fs::path& out,
            bool special) {
  auto content = ReadTextFile(out.string());
  EXPECT_TRUE(content.ok()) << content.status().ToString();
  if (!content.ok()) return 1;
  auto expected = ParseVocabTestIds(*content);
  EXPECT_TRUE(expected.ok());
  if (!expected.ok()) return 1;
  EXPECT_EQ(expected->size(), cases.size()) << out;
  int bad = 0;
  for (size_t i = 0; i < cases.size() && i < expected->size(); ++i) {
    std::vector<TokenId> got = tok.Tokenize(cases[i], special, special);
    if (got != (*expected)[i]) {
      ++bad;
      ADD_FAILURE() << out.filename() << " case " << i
                    << "\n  expected:" << FormatVocabTestIds((*expected)[i])
                    << "\n  got:     " << FormatVocabTestIds(got);
    }
  }
  return bad;
}

class SharedVocabReference : public testing::TestWithParam<std::string> {};

TEST_P(SharedVocabReference, MixedCases) {
  const std::string name = GetParam();
  auto tok = Tokenizer::FromGguf((VocabDir() / ("ggml-vocab-" + name + ".gguf")).string());
  ASSERT_TRUE(tok.ok()) << tok.status().ToString();
  const std::vector<std::string> cases = Cases(DataDir() / "mixed.inp");
  ASSERT_GE(cases.size(), 100u);
  EXPECT_EQ(Compare(**tok, cases, DataDir() / (name + ".mixed.out"), false), 0);
  EXPECT_EQ(Compare(**tok, cases, DataDir() / (name + ".mixed.special.out"), true), 0);
}

std::string ParamName(const testing::TestParamInfo<std::string>& info) {
  std::string s = info.param;
  for (char& c : s) c = c == '-' ? '_' : c;
  return s;
}

INSTANTIATE_TEST_SUITE_P(Vocabs, SharedVocabReference,
                         testing::Values("llama-spm", "llama-bpe", "gpt-2", "phi-3", "qwen2",
                                         "starcoder"),
                         ParamName);

class PreTokenizerReference : public testing::TestWithParam<std::string> {};

TEST_P(PreTokenizerReference, Gpt2VocabRelabelled) {
  auto vocab = LoadVocabFromGgufPath((VocabDir() / "ggml-vocab-gpt-2.gguf").string());
  ASSERT_TRUE(vocab.ok()) << vocab.status().ToString();
  vocab->pre = GetParam();
  auto tok = Tokenizer::Create(std::move(vocab).value());
  ASSERT_TRUE(tok.ok()) << tok.status().ToString();
  const std::string stem = "gpt-2+" + GetParam();
  EXPECT_EQ(
      Compare(**tok, Cases(DataDir() / "mixed.inp"), DataDir() / (stem + ".mixed.out"), false), 0);
  EXPECT_EQ(Compare(**tok, Cases(VocabDir() / "seedtext.inp"), DataDir() / (stem + ".seedtext.out"),
                    false),
            0);
}

INSTANTIATE_TEST_SUITE_P(Pres, PreTokenizerReference,
                         testing::Values("default", "falcon", "deepseek-llm", "deepseek-coder",
                                         "refact"),
                         ParamName);

}  // namespace
}  // namespace mle::text
