// Conformance against llama.cpp: every vocabulary in shared/testdata/vocab must tokenize every
// case of its .inp file and of seedtext.inp to exactly the ids in the matching .out file
// (add_special=false, parse_special=false), and the ids must detokenize back to the input.
#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "text/tokenizer.h"
#include "text/vocab_cases.h"

namespace mle::text {
namespace {

namespace fs = std::filesystem;

fs::path VocabDir() {
  return fs::path(MLE_SHARED_DIR) / "testdata" / "vocab";
}

// Every ggml-vocab-NAME.gguf in the shared folder, by NAME.
std::vector<std::string> VocabNames() {
  std::vector<std::string> names;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(VocabDir(), ec)) {
    const std::string file = entry.path().filename().string();
    const std::string prefix = "ggml-vocab-";
    if (file.rfind(prefix, 0) == 0 && entry.path().extension() == ".gguf") {
      names.push_back(file.substr(prefix.size(), file.size() - prefix.size() - 5));
    }
  }
  std::sort(names.begin(), names.end());
  return names;
}

struct CaseFiles {
  std::vector<std::string> cases;
  std::vector<std::vector<TokenId>> expected;
};

CaseFiles ReadCases(const fs::path& inp, const fs::path& out) {
  CaseFiles f;
  auto inp_text = ReadTextFile(inp.string());
  auto out_text = ReadTextFile(out.string());
  EXPECT_TRUE(inp_text.ok()) << inp_text.status().ToString();
  EXPECT_TRUE(out_text.ok()) << out_text.status().ToString();
  if (!inp_text.ok() || !out_text.ok()) return f;
  f.cases = ParseVocabTestCases(*inp_text);
  auto ids = ParseVocabTestIds(*out_text);
  EXPECT_TRUE(ids.ok()) << ids.status().ToString();
  if (ids.ok()) f.expected = std::move(ids).value();
  EXPECT_EQ(f.cases.size(), f.expected.size()) << inp << " vs " << out;
  return f;
}

// The pieces joined, without llama.cpp's clean-up of spaces (a presentation rule, not part
// of the encoding), dropping the one space SPM adds in front.
std::string JoinPieces(const Tokenizer& tok, const std::vector<TokenId>& ids) {
  std::string s;
  for (TokenId id : ids) s.append(tok.TokenToPiece(id, true));
  if (tok.config().add_space_prefix && !s.empty() && s[0] == ' ') s.erase(0, 1);
  return s;
}

struct Tally {
  int n = 0, passed = 0, roundtrip = 0;
};

Tally CheckCases(const Tokenizer& tok, const CaseFiles& f, const std::string& label) {
  Tally t;
  for (size_t i = 0; i < f.cases.size() && i < f.expected.size(); ++i) {
    const std::string& text = f.cases[i];
    std::vector<TokenId> got = tok.Tokenize(text, /*add_special=*/false, /*parse_special=*/false);
    ++t.n;
    if (got == f.expected[i]) {
      ++t.passed;
    } else {
      ADD_FAILURE() << label << " case " << i << " '" << text
                    << "'\n  expected:" << FormatVocabTestIds(f.expected[i])
                    << "\n  got:     " << FormatVocabTestIds(got);
    }
    // Every case here is valid UTF-8 and every vocabulary has byte fallback, so each one
    // is representable and must come back unchanged.
    if (JoinPieces(tok, f.expected[i]) == text) {
      ++t.roundtrip;
    } else {
      ADD_FAILURE() << label << " case " << i << " does not detokenize back: '"
                    << JoinPieces(tok, f.expected[i]) << "' vs '" << text << "'";
    }
  }
  return t;
}

class VocabConformance : public testing::TestWithParam<std::string> {};

TEST_P(VocabConformance, MatchesLlamaCpp) {
  const std::string name = GetParam();
  const fs::path gguf = VocabDir() / ("ggml-vocab-" + name + ".gguf");
  auto tok = Tokenizer::FromGguf(gguf.string());
  ASSERT_TRUE(tok.ok()) << tok.status().ToString();

  CaseFiles own = ReadCases(gguf.string() + ".inp", gguf.string() + ".out");
  CaseFiles seed =
      ReadCases(VocabDir() / "seedtext.inp", VocabDir() / ("ggml-vocab-" + name + ".seedtext.out"));
  ASSERT_FALSE(own.cases.empty());
  ASSERT_FALSE(seed.cases.empty());
  Tally a = CheckCases(**tok, own, name + ".inp");
  Tally b = CheckCases(**tok, seed, name + " seedtext");
  std::printf("vocab %-12s inp %d/%d  seedtext %d/%d  detok round-trip %d/%d\n", name.c_str(),
              a.passed, a.n, b.passed, b.n, a.roundtrip + b.roundtrip, a.n + b.n);
  EXPECT_EQ(a.passed, a.n);
  EXPECT_EQ(b.passed, b.n);
}

INSTANTIATE_TEST_SUITE_P(SharedVocabs, VocabConformance, testing::ValuesIn(VocabNames()),
                         [](const testing::TestParamInfo<std::string>& info) {
                           std::string s = info.param;
                           for (char& c : s) {
                             if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
                           }
                           return s;
                         });

TEST(VocabConformanceData, SharedVocabsPresent) {
  // The conformance suite is only meaningful if it found the reference vocabularies.
  std::vector<std::string> names = VocabNames();
  for (const char* required : {"gpt-2", "llama-bpe", "llama-spm", "phi-3"}) {
    EXPECT_NE(std::find(names.begin(), names.end(), required), names.end())
        << "missing ggml-vocab-" << required << ".gguf in " << VocabDir();
  }
}

}  // namespace
}  // namespace mle::text
