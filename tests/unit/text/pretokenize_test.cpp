// Pre-tokenizers: the words each regex family produces on hand-picked inputs (the reference
// tests cover them against llama.cpp on many more).
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "text/pretokenize.h"

namespace mle::text {
namespace {

std::vector<std::string> Words(PreType type, std::string_view text) {
  PreTokenizer pre(type);
  CpText scratch;
  std::vector<uint32_t> ends;
  pre.Split(text, &scratch, &ends);
  std::vector<std::string> words;
  uint32_t begin = 0;
  for (uint32_t end : ends) {
    words.emplace_back(text.substr(begin, end - begin));
    begin = end;
  }
  return words;
}

using W = std::vector<std::string>;

TEST(PreTokenize, Gpt2) {
  EXPECT_EQ(Words(PreType::kGpt2, "Hello world's  12345 !!"),
            (W{"Hello", " world", "'s", " ", " 12345", " !!"}));
  // \s+(?!\S) leaves the last white space for the next word.
  EXPECT_EQ(Words(PreType::kGpt2, "a  \n\tb   "), (W{"a", "  \n", "\t", "b", "   "}));
  EXPECT_EQ(Words(PreType::kGpt2, "I'M"), (W{"I", "'", "M"}));  // case-sensitive contractions
  EXPECT_EQ(Words(PreType::kGpt2, "한국어 텍스트"), (W{"한국어", " 텍스트"}));
  EXPECT_TRUE(Words(PreType::kGpt2, "").empty());
}

TEST(PreTokenize, Llama3) {
  EXPECT_EQ(Words(PreType::kLlama3, "1234567 I'M (word"),
            (W{"123", "456", "7", " I", "'M", " (", "word"}));
}

TEST(PreTokenize, Llama3Details) {
  EXPECT_EQ(Words(PreType::kLlama3, "x  \n\n y"), (W{"x", "  \n\n", " y"}));
  EXPECT_EQ(Words(PreType::kLlama3, "...\n\nok"), (W{"...\n\n", "ok"}));
  EXPECT_EQ(Words(PreType::kLlama3, "\tword"), (W{"\tword"}));
}

TEST(PreTokenize, Qwen2SplitsEveryDigit) {
  EXPECT_EQ(Words(PreType::kQwen2, "x=2024"), (W{"x", "=", "2", "0", "2", "4"}));
}

TEST(PreTokenize, StarcoderDigitsFirst) {
  EXPECT_EQ(Words(PreType::kStarcoder, "v12 ab"), (W{"v", "1", "2", " ab"}));
}

TEST(PreTokenize, DefaultAndFalcon) {
  // Punctuation runs split first, then GPT-2's regex, then digit runs and triples.
  EXPECT_EQ(Words(PreType::kDefault, "a+b=1234567"), (W{"a", "+", "b", "=", "123", "456", "7"}));
  EXPECT_EQ(Words(PreType::kFalcon, "`x` 12345"), (W{"`", "x", "`", " ", "123", "45"}));
}

TEST(PreTokenize, Deepseek) {
  EXPECT_EQ(Words(PreType::kDeepseekCoder, "if x:\n  return 42"),
            (W{"if", " x", ":", "\n", " ", " return", " ", "4", "2"}));
  EXPECT_EQ(Words(PreType::kDeepseekLlm, "Hello, 世界 99  "),
            (W{"Hello", ",", " ", "世界", " ", "99", "  "}));
}

TEST(PreTokenize, MalformedBytesAreSingleCharacters) {
  // The pre-tokenizer sees text after NormalizeUtf8, where bad bytes are U+FFFD (a symbol).
  EXPECT_EQ(Words(PreType::kGpt2, "a\xEF\xBF\xBD\xEF\xBF\xBD b"),
            (W{"a", "\xEF\xBF\xBD\xEF\xBF\xBD", " b"}));
}

}  // namespace
}  // namespace mle::text
