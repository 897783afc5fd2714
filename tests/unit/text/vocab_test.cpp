// Vocabulary resolution (llama.cpp's defaults and errors), tokenizing with hand-made
// vocabularies (SPM merge order, byte fallback), the test-case file format, and the hash maps.
#include <gtest/gtest.h>

#include "text/token_map.h"
#include "text/tokenizer.h"
#include "text/vocab_cases.h"

namespace mle::text {
namespace {

// SPM vocabulary: ▁ a b, two of their pairs, and one byte token.
Vocab TinySpm(float score_a_b, float score_space_a) {
  Vocab v;
  v.model = "llama";
  v.tokens = {"<unk>", "<s>", "</s>", "▁", "a", "b", "▁a", "ab", "zz", "<0x63>"};
  v.scores = {0, 0, 0, -1, -1, -1, score_space_a, score_a_b, -2, 0};
  v.types = {2, 3, 3, 1, 1, 1, 1, 1, 1, 6};
  return v;
}

TEST(Vocab, SpmMergesHighestScoreFirst) {
  // "ab" is encoded as "▁ab": both "▁a" and "ab" are tokens; the better score merges first
  // and decides the result.
  auto ab_first = Tokenizer::Create(TinySpm(-0.5f, -0.9f));
  ASSERT_TRUE(ab_first.ok()) << ab_first.status().ToString();
  EXPECT_EQ((*ab_first)->Tokenize("ab", false, false), (std::vector<TokenId>{3, 7}));
  auto space_a_first = Tokenizer::Create(TinySpm(-0.9f, -0.5f));
  ASSERT_TRUE(space_a_first.ok());
  EXPECT_EQ((*space_a_first)->Tokenize("ab", false, false), (std::vector<TokenId>{6, 5}));
  // Unknown characters fall back to byte tokens.
  EXPECT_EQ((*ab_first)->Tokenize("c", false, false), (std::vector<TokenId>{3, 9}));
  EXPECT_EQ((*ab_first)->Tokenize("ab", true, false), (std::vector<TokenId>{1, 3, 7}));
}

TEST(Vocab, DefaultsPerModel) {
  auto spm = ResolveVocabConfig(TinySpm(0, 0));
  ASSERT_TRUE(spm.ok());
  EXPECT_EQ(spm->type, VocabType::kSpm);
  EXPECT_EQ(spm->bos, 1);
  EXPECT_EQ(spm->eos, 2);
  EXPECT_EQ(spm->unk, 0);
  EXPECT_TRUE(spm->add_bos);
  EXPECT_FALSE(spm->add_eos);
  EXPECT_TRUE(spm->add_space_prefix);
  Vocab v = TinySpm(0, 0);
  v.add_space_prefix = false;
  v.add_bos = false;
  v.eos_id = 7;
  auto custom = ResolveVocabConfig(v);
  ASSERT_TRUE(custom.ok());
  EXPECT_FALSE(custom->add_space_prefix);
  EXPECT_FALSE(custom->add_bos);
  EXPECT_EQ(custom->eos, 7);
  v.eos_id = 100;  // out of range: llama.cpp keeps the default
  EXPECT_EQ(ResolveVocabConfig(v)->eos, 2);
}

TEST(Vocab, Errors) {
  Vocab v = TinySpm(0, 0);
  v.model = "t5";
  EXPECT_EQ(ResolveVocabConfig(v).status().code(), StatusCode::kInvalidArgument);
  v = TinySpm(0, 0);
  v.tokens[4] = "b";
  EXPECT_NE(ResolveVocabConfig(v).status().message().find("duplicate token"), std::string::npos);
  v = TinySpm(0, 0);
  v.scores.pop_back();
  EXPECT_FALSE(ResolveVocabConfig(v).ok());
  v = TinySpm(0, 0);
  v.model = "gpt2";
  v.merges = {"a b"};
  v.pre = "no-such-pre";
  EXPECT_NE(ResolveVocabConfig(v).status().message().find("no-such-pre"), std::string::npos);
  v.pre = "llama-bpe";  // asks for BOS, and the default BOS id 11 is outside 10 tokens
  EXPECT_NE(ResolveVocabConfig(v).status().message().find("bos_token_id"), std::string::npos);
  v.merges.clear();
  EXPECT_FALSE(ResolveVocabConfig(v).ok());
  EXPECT_FALSE(Tokenizer::FromGguf("/nonexistent/model.gguf").ok());
}

TEST(Vocab, EmptyTokenTextsAreRenamed) {
  Vocab v = TinySpm(0, 0);
  v.tokens[5] = "";
  auto tok = Tokenizer::Create(v);
  ASSERT_TRUE(tok.ok()) << tok.status().ToString();
  EXPECT_EQ((*tok)->TokenText(5), "[EMPTY_5]");
}

TEST(VocabCases, Format) {
  const std::string inp = std::string("a b\n") + "__ggml_vocab_test__\n" + "\n" +
                          "__ggml_vocab_test__\n" + "\n\n" + "__ggml_vocab_test__\n" + "tail";
  EXPECT_EQ(ParseVocabTestCases(inp), (std::vector<std::string>{"a b", "", "\n", "tail"}));
  EXPECT_EQ(ParseVocabTestCases("x\n__ggml_vocab_test__\n"), std::vector<std::string>{"x"});
  auto ids = ParseVocabTestIds(" 1 2 3\n\n 42\n");
  ASSERT_TRUE(ids.ok());
  EXPECT_EQ(*ids, (std::vector<std::vector<TokenId>>{{1, 2, 3}, {}, {42}}));
  EXPECT_FALSE(ParseVocabTestIds(" 1 x\n").ok());
  EXPECT_EQ(FormatVocabTestIds(std::vector<TokenId>{1, 22}), " 1 22");
  EXPECT_EQ(FormatVocabTestIds(std::vector<TokenId>{}), "");
  EXPECT_EQ(ReadTextFile("/nonexistent/file").status().code(), StatusCode::kNotFound);
}

TEST(TokenMap, InsertFindManyKeys) {
  TokenMap m;
  for (int i = 0; i < 5000; ++i) EXPECT_EQ(m.Insert("key" + std::to_string(i), i), i);
  EXPECT_EQ(m.Insert("key7", 99), 7);  // first insertion wins
  for (int i = 0; i < 5000; ++i) EXPECT_EQ(m.Find("key" + std::to_string(i)), i);
  EXPECT_EQ(m.Find("key5000"), -1);
  EXPECT_EQ(m.Find(""), -1);
  EXPECT_EQ(m.size(), 5000u);

  PairMap p;
  for (int i = 0; i < 3000; ++i) p.Insert(i, i + 1, {i, -i});
  p.Insert(5, 6, {77, 77});
  ASSERT_NE(p.Find(5, 6), nullptr);
  EXPECT_EQ(p.Find(5, 6)->rank, 5);
  EXPECT_EQ(p.Find(2999, 3000)->result, -2999);
  EXPECT_EQ(p.Find(6, 5), nullptr);
}

}  // namespace
}  // namespace mle::text
