// Special tokens: BOS/EOS insertion, splitting special-token texts out of the input (longest
// first, parse_special, user-defined tokens, lstrip/rstrip), and the EOG / FIM ids llama.cpp
// derives from token texts.
#include <gtest/gtest.h>

#include <algorithm>

#include "text/tokenizer.h"
#include "text/unicode.h"
#include "tokenizer_test_util.h"

namespace mle::text {
namespace {

using testing_util::SharedTokenizer;

bool Contains(const std::vector<TokenId>& ids, TokenId id) {
  return std::find(ids.begin(), ids.end(), id) != ids.end();
}

// A small byte-level BPE vocabulary: the 256 byte characters, "ab", and the given specials.
Vocab TinyBpe(const std::vector<std::pair<std::string, TokenType>>& specials) {
  Vocab v;
  v.model = "gpt2";
  v.pre = "gpt-2";
  for (int b = 0; b < 256; ++b) {
    v.tokens.push_back(EncodeByteLevel(std::string(1, static_cast<char>(b))));
    v.types.push_back(static_cast<int32_t>(TokenType::kNormal));
  }
  v.tokens.push_back("ab");
  v.types.push_back(static_cast<int32_t>(TokenType::kNormal));
  v.merges = {"a b"};
  for (const auto& [text, type] : specials) {
    v.tokens.push_back(text);
    v.types.push_back(static_cast<int32_t>(type));
  }
  v.bos_id = 0;
  v.eos_id = 0;
  return v;
}

TEST(TokenizerSpecial, AddBosFollowsTheVocabulary) {
  const Tokenizer& spm = SharedTokenizer("llama-spm");
  EXPECT_TRUE(spm.add_bos());
  std::vector<TokenId> with = spm.Tokenize("Hello world", true, false);
  std::vector<TokenId> without = spm.Tokenize("Hello world", false, false);
  ASSERT_EQ(with.size(), without.size() + 1);
  EXPECT_EQ(with[0], spm.bos());
  EXPECT_EQ(spm.bos(), 1);
  EXPECT_TRUE(std::equal(without.begin(), without.end(), with.begin() + 1));
  EXPECT_EQ(spm.Tokenize("", true, false), std::vector<TokenId>{1});  // BOS only, no EOS
  EXPECT_TRUE(spm.Tokenize("", false, false).empty());

  const Tokenizer& llama3 = SharedTokenizer("llama-bpe");
  EXPECT_EQ(llama3.Tokenize("Hi", true, false).front(), 128000);  // <|begin_of_text|>
  const Tokenizer& qwen2 = SharedTokenizer("qwen2");
  EXPECT_FALSE(qwen2.add_bos());
  EXPECT_EQ(qwen2.Tokenize("Hi", true, false), qwen2.Tokenize("Hi", false, false));
}

TEST(TokenizerSpecial, ControlTokensSplitOnlyWithParseSpecial) {
  const Tokenizer& qwen2 = SharedTokenizer("qwen2");
  const std::string text = "<|im_start|>user\nhello<|im_end|>";
  std::vector<TokenId> parsed = qwen2.Tokenize(text, false, true);
  ASSERT_GE(parsed.size(), 3u);
  EXPECT_EQ(parsed.front(), qwen2.FindToken("<|im_start|>"));
  EXPECT_EQ(parsed.back(), qwen2.FindToken("<|im_end|>"));
  std::vector<TokenId> middle(parsed.begin() + 1, parsed.end() - 1);
  EXPECT_EQ(middle, qwen2.Tokenize("user\nhello", false, false));

  std::vector<TokenId> plain = qwen2.Tokenize(text, false, false);
  EXPECT_FALSE(Contains(plain, qwen2.FindToken("<|im_start|>")));
  EXPECT_FALSE(Contains(plain, qwen2.FindToken("<|im_end|>")));
}

TEST(TokenizerSpecial, LongestSpecialTokenWins) {
  auto tok = Tokenizer::Create(TinyBpe({{"<|a|>", TokenType::kControl},
                                        {"<|a|>b", TokenType::kControl},
                                        {"<x>", TokenType::kUserDefined}}));
  ASSERT_TRUE(tok.ok()) << tok.status().ToString();
  const TokenId a = (*tok)->FindToken("<|a|>");
  const TokenId ab = (*tok)->FindToken("<|a|>b");
  EXPECT_EQ((*tok)->Tokenize("<|a|>b<|a|>a", false, true),
            (std::vector<TokenId>{ab, a, (*tok)->FindToken("a")}));
  // User-defined tokens split even without parse_special; control tokens do not.
  const TokenId x = (*tok)->FindToken("<x>");
  EXPECT_TRUE(Contains((*tok)->Tokenize("ab<x>ab", false, false), x));
  EXPECT_FALSE(Contains((*tok)->Tokenize("<|a|>", false, false), a));
  EXPECT_EQ((*tok)->Tokenize("ab", false, false), std::vector<TokenId>{256});  // merged "ab"
}

TEST(TokenizerSpecial, RstripOnPhi3SpecialTokens) {
  // llama.cpp marks Phi-3's special tokens rstrip: white space after them is dropped.
  const Tokenizer& phi3 = SharedTokenizer("phi-3");
  const TokenId user = phi3.FindToken("<|user|>");
  ASSERT_NE(user, kNoToken);
  EXPECT_TRUE(phi3.TokenAttrs(user) & kAttrRstrip);
  std::vector<TokenId> expected{user};
  std::vector<TokenId> hi = phi3.Tokenize("hi", false, false);
  expected.insert(expected.end(), hi.begin(), hi.end());
  EXPECT_EQ(phi3.Tokenize("<|user|>\n  hi", false, true), expected);
  // <s> is exempt from rstrip.
  EXPECT_FALSE(phi3.TokenAttrs(phi3.FindToken("<s>")) & kAttrRstrip);
}

TEST(TokenizerSpecial, LstripOnMaskToken) {
  // jina-v2 vocabularies get lstrip on <mask>: white space before it is dropped.
  Vocab v = TinyBpe({{"<mask>", TokenType::kControl}});
  v.pre = "jina-v2-de";
  auto tok = Tokenizer::Create(std::move(v));
  ASSERT_TRUE(tok.ok()) << tok.status().ToString();
  const TokenId mask = (*tok)->FindToken("<mask>");
  std::vector<TokenId> expected = (*tok)->Tokenize("ab", false, false);
  expected.push_back(mask);
  EXPECT_EQ((*tok)->Tokenize("ab \t <mask>", false, true), expected);
}

TEST(TokenizerSpecial, EndOfGenerationSets) {
  const Tokenizer& llama3 = SharedTokenizer("llama-bpe");
  EXPECT_TRUE(llama3.IsEog(llama3.FindToken("<|end_of_text|>")));
  EXPECT_TRUE(llama3.IsEog(llama3.FindToken("<|eot_id|>")));
  EXPECT_EQ(llama3.eot(), llama3.FindToken("<|eot_id|>"));
  EXPECT_FALSE(llama3.IsEog(llama3.bos()));
  EXPECT_FALSE(llama3.IsEog(llama3.FindToken("Hello")));

  const Tokenizer& qwen2 = SharedTokenizer("qwen2");
  EXPECT_TRUE(qwen2.IsEog(151643));   // <|endoftext|>
  EXPECT_TRUE(qwen2.IsEog(151645));   // <|im_end|>
  EXPECT_FALSE(qwen2.IsEog(151644));  // <|im_start|>
  EXPECT_EQ(qwen2.eot(), 151645);

  const Tokenizer& spm = SharedTokenizer("llama-spm");
  EXPECT_EQ(spm.config().eog_ids, std::vector<TokenId>{2});
  const Tokenizer& phi3 = SharedTokenizer("phi-3");
  for (const char* t : {"<|endoftext|>", "<|end|>", "</s>"}) {
    EXPECT_TRUE(phi3.IsEog(phi3.FindToken(t))) << t;
  }
  EXPECT_FALSE(phi3.IsEog(kNoToken));
}

TEST(TokenizerSpecial, FimIdsDetectedFromTexts) {
  const Tokenizer& sc = SharedTokenizer("starcoder");
  EXPECT_EQ(sc.config().fim_pre, sc.FindToken("<fim_prefix>"));
  EXPECT_EQ(sc.config().fim_suf, sc.FindToken("<fim_suffix>"));
  EXPECT_EQ(sc.config().fim_mid, sc.FindToken("<fim_middle>"));
  EXPECT_EQ(sc.config().fim_pad, sc.FindToken("<fim_pad>"));
  EXPECT_TRUE(sc.IsEog(sc.config().fim_pad));                     // llama.cpp stops on FIM padding
  EXPECT_EQ(SharedTokenizer("gpt-2").config().linefeed, 198);     // "Ċ"
  EXPECT_EQ(SharedTokenizer("llama-spm").config().linefeed, 13);  // <0x0A>
}

}  // namespace
}  // namespace mle::text
