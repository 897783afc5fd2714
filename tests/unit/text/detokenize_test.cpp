// Detokenization: token pieces, llama_detokenize's joining rules, and the streaming
// detokenizer holding back characters split across byte tokens.
#include <gtest/gtest.h>

#include "text/tokenizer.h"
#include "text/unicode.h"
#include "tokenizer_test_util.h"

namespace mle::text {
namespace {

using testing_util::SharedTokenizer;

TEST(Detokenize, PiecesOfEachKind) {
  const Tokenizer& spm = SharedTokenizer("llama-spm");
  EXPECT_EQ(spm.TokenToPiece(spm.FindToken("▁Hello"), false), " Hello");
  EXPECT_EQ(spm.TokenToPiece(13, false), "\n");         // <0x0A>
  EXPECT_EQ(spm.TokenToPiece(spm.bos(), false), "");    // control, not rendered
  EXPECT_EQ(spm.TokenToPiece(spm.bos(), true), "<s>");  // ... unless asked
  EXPECT_EQ(spm.TokenToPiece(-1, true), "");
  EXPECT_EQ(spm.TokenToPiece(spm.n_tokens(), true), "");

  const Tokenizer& gpt2 = SharedTokenizer("gpt-2");
  EXPECT_EQ(gpt2.TokenToPiece(gpt2.FindToken("Ġworld"), false), " world");
  EXPECT_EQ(gpt2.TokenToPiece(198, false), "\n");  // Ċ
  EXPECT_EQ(gpt2.TokenToPiece(50256, false), "");
  EXPECT_EQ(gpt2.TokenToPiece(50256, true), "<|endoftext|>");
}

TEST(Detokenize, JoinsLikeLlamaCpp) {
  const Tokenizer& spm = SharedTokenizer("llama-spm");
  // The space SPM adds in front is removed again.
  EXPECT_EQ(spm.Detokenize(spm.Tokenize("Hello world", false, false), false, false), "Hello world");
  EXPECT_EQ(spm.Detokenize(spm.Tokenize("  two spaces", false, false), false, false),
            "  two spaces");
  // remove_special drops the BOS (llama.cpp then keeps the leading space).
  EXPECT_EQ(spm.Detokenize(spm.Tokenize("Hi", true, false), true, false), " Hi");
  EXPECT_EQ(spm.Detokenize(spm.Tokenize("Hi", true, false), false, true), "<s> Hi");

  // GPT-2 cleans up spaces before punctuation and contractions.
  const Tokenizer& gpt2 = SharedTokenizer("gpt-2");
  EXPECT_EQ(
      gpt2.Detokenize(gpt2.Tokenize("Hello , world ! I 'm here .", false, false), false, false),
      "Hello, world! I'm here.");
  // Qwen2 does not.
  const Tokenizer& qwen2 = SharedTokenizer("qwen2");
  EXPECT_EQ(qwen2.Detokenize(qwen2.Tokenize("a , b", false, false), false, false), "a , b");
}

TEST(StreamDetokenizer, HoldsBackSplitCharacters) {
  // Llama's SPM vocabulary has no token for the llama emoji: it becomes four byte tokens.
  const Tokenizer& spm = SharedTokenizer("llama-spm");
  const std::string text = "emoji 🦙 and 한국어 ok";
  std::vector<TokenId> ids = spm.Tokenize(text, false, false);
  StreamDetokenizer stream(spm, false, /*strip_leading_space=*/true);
  std::string joined;
  int held = 0;
  for (TokenId id : ids) {
    std::string part = stream.Push(id);
    if (part.empty() && !spm.TokenToPiece(id, false).empty()) ++held;
    // Every chunk handed out is whole UTF-8 characters.
    EXPECT_EQ(CompleteUtf8Prefix(part), part.size());
    joined += part;
  }
  joined += stream.Flush();
  EXPECT_EQ(joined, text);
  EXPECT_GE(held, 3);  // the first three bytes of the emoji waited for the fourth
}

TEST(StreamDetokenizer, FlushReturnsIncompleteTail) {
  const Tokenizer& spm = SharedTokenizer("llama-spm");
  StreamDetokenizer stream(spm, false, false);
  // <0xF0> <0x9F> : the start of a 4-byte character that never completes.
  EXPECT_EQ(stream.Push(spm.FindToken("<0xF0>")), "");
  EXPECT_EQ(stream.Push(spm.FindToken("<0x9F>")), "");
  EXPECT_EQ(stream.Flush(), "\xF0\x9F");
  EXPECT_EQ(stream.Flush(), "");
  // An ASCII byte after a dangling lead byte releases both (the text is malformed anyway).
  EXPECT_EQ(stream.Push(spm.FindToken("<0xE2>")), "");
  EXPECT_EQ(stream.Push(spm.FindToken("▁x")), "\xE2 x");
}

TEST(StreamDetokenizer, SpecialTokensOnRequest) {
  const Tokenizer& qwen2 = SharedTokenizer("qwen2");
  StreamDetokenizer plain(qwen2, false, false);
  StreamDetokenizer special(qwen2, true, false);
  EXPECT_EQ(plain.Push(151645), "");
  EXPECT_EQ(special.Push(151645), "<|im_end|>");
}

}  // namespace
}  // namespace mle::text
