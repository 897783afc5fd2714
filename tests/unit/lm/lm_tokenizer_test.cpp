// Tokenizer training: the trained directory, special tokens, determinism, the clear errors,
// and the key check: the engine's own tokenizer (src/text, llama.cpp's SPM algorithm) reading
// the GGUF metadata AddTokenizerToGguf writes produces exactly SentencePiece's ids on text
// that was not used for training.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>

#include <nlohmann/json.hpp>

#include "core/file_util.h"
#include "gguf/gguf_file.h"
#include "gguf/gguf_writer.h"
#include "lm/corpus.h"
#include "lm/lm_tokenizer.h"
#include "lm_text_test_util.h"
#include "text/tokenizer.h"
#include "text/vocab.h"

namespace mle::lm {
namespace {

using testutil::ReadText;
using testutil::TempDir;
using testutil::WriteText;

constexpr const char* kHeldOutFortunes[] = {"linux", "science", "wisdom", "zippy"};

bool IsHeldOutFortune(const std::string& path) {
  for (const char* name : kHeldOutFortunes) {
    if (std::filesystem::path(path).filename() == name) return true;
  }
  return false;
}

// Training files: fortunes except the held-out ones, and two of every three C headers.
std::vector<std::string> TrainFiles() {
  std::vector<std::string> files;
  for (const std::string& f : testutil::FortuneFiles()) {
    if (!IsHeldOutFortune(f)) files.push_back(f);
  }
  const std::vector<std::string> headers = testutil::HeaderFiles();
  for (size_t i = 0; i < headers.size(); ++i) {
    if (i % 3 != 0) files.push_back(headers[i]);
  }
  return files;
}

// Held-out texts: the held-out fortunes (whole and per fortune), every third header, and
// hand-written cases for spacing, digits, punctuation, byte fallback and chat markup.
std::vector<std::string> HeldOutTexts() {
  std::vector<std::string> texts = {
      "Hello world",
      " leading space, and  two   spaces\tand a tab",
      "The naïve café — 日本語 emoji 🙂 and Ελληνικά, also \xF0\x9F\x90\xA7!",
      "int main(void) {\n\tif (x == 0x1F) {\n\t\treturn 42;\n\t}\n    /* four spaces */\n}\n",
      "<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\nHello!<|im_end|>\n",
      "<|im_start|>system\nYou are terse.<|im_end|>\n<|im_start|>user\n2+2=?<|im_end|>\n",
      "<|fim_prefix|>def f(x):\n    <|fim_suffix|>\n    return y<|fim_middle|>",
      "Numbers: 3.14159, 1,234,567 and 2024-05-17T12:34:56Z; price $19.99 (20% off)!",
      "trailing spaces   \n\n\n   \n",
      "a\n\nb\r\nc",
      "",
      " ",
      "\n",
      "x<|im_end|>y<|im_start|>z",
      "email me at someone@example.com or call +1 (555) 123-4567.",
      "\xE2\x96\x81 is the SentencePiece space mark",
  };
  for (const std::string& f : testutil::FortuneFiles()) {
    if (!IsHeldOutFortune(f)) continue;
    const std::string text = NormalizeLines(ReadText(f));
    texts.push_back(text);
    for (std::string_view doc : SplitDocuments(text, "auto")) texts.emplace_back(doc);
  }
  const std::vector<std::string> headers = testutil::HeaderFiles();
  for (size_t i = 0; i < headers.size(); i += 3) {
    const std::string text = ReadText(headers[i]);
    if (ClassifyText(text) == TextKind::kText) texts.push_back(text);
  }
  return texts;
}

class LmTokenizerTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new TempDir("lmtok");
    TokenizerTrainOptions o;
    o.inputs = TrainFiles();
    // A binary file and an invalid UTF-8 file are skipped, not fatal.
    WriteText(*dir_ / "junk/binary.bin", std::string("\x7F"
                                                     "ELF\0\0\0\x01",
                                                     8));
    WriteText(*dir_ / "junk/latin1.txt", "caf\xE9 cr\xE8me\n");
    o.inputs.push_back(*dir_ / "junk");
    o.vocab_size = 1000;
    o.out_dir = *dir_ / "tok";
    o.threads = 2;
    auto r = TrainTokenizer(o);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    report_ = new TokenizerTrainReport(*r);
    auto tok = LmTokenizer::Load(o.out_dir);
    ASSERT_TRUE(tok.ok()) << tok.status().ToString();
    tok_ = tok->release();
  }
  static void TearDownTestSuite() {
    delete tok_;
    delete report_;
    delete dir_;
  }

  static inline TempDir* dir_ = nullptr;
  static inline TokenizerTrainReport* report_ = nullptr;
  static inline LmTokenizer* tok_ = nullptr;
};

TEST_F(LmTokenizerTest, WritesModelAndMetadata) {
  ASSERT_NE(tok_, nullptr);
  EXPECT_EQ(report_->vocab_size, 1000);
  EXPECT_EQ(report_->files_skipped, 2);
  EXPECT_EQ(report_->files_used, static_cast<int64_t>(TrainFiles().size()));
  EXPECT_GT(report_->sentences, 1000);
  EXPECT_EQ(tok_->vocab_size(), 1000);
  EXPECT_EQ(tok_->dir(), *dir_ / "tok");
  EXPECT_EQ(tok_->sha256().size(), 64u);
  const nlohmann::json j = nlohmann::json::parse(ReadText(*dir_ / "tok/tokenizer.json"));
  EXPECT_EQ(j["vocab_size"], 1000);
  EXPECT_EQ(j["model_sha256"], tok_->sha256());
  EXPECT_EQ(j["special_tokens"]["bos"], 1);
  EXPECT_EQ(j["special_tokens"]["im_end"], 5);
  EXPECT_EQ(j["special_tokens"]["fim_middle"], 8);
  EXPECT_EQ(j["chat_template"], kChatMlTemplate);
  EXPECT_EQ(j["training"]["files_skipped"], 2);
  // Nothing else in TOK_DIR, and no temp directory left beside it.
  int n = 0;
  for (const auto& e : std::filesystem::directory_iterator(*dir_ / "tok")) n += !e.is_directory();
  EXPECT_EQ(n, 2);
  for (const auto& e : std::filesystem::directory_iterator(dir_->path())) {
    EXPECT_EQ(e.path().filename().string().find(".tmp-"), std::string::npos) << e.path();
  }
}

TEST_F(LmTokenizerTest, SpecialTokensAreSingleIds) {
  ASSERT_NE(tok_, nullptr);
  const char* pieces[] = {"<unk>",         "<s>",        "</s>",           "<pad>",
                          "<|im_start|>",  "<|im_end|>", "<|fim_prefix|>", "<|fim_suffix|>",
                          "<|fim_middle|>"};
  for (int32_t id = 0; id < 9; ++id) EXPECT_EQ(tok_->Piece(id), pieces[id]);
  EXPECT_EQ(tok_->bos_id(), 1);
  EXPECT_EQ(tok_->eos_id(), 2);
  EXPECT_EQ(tok_->pad_id(), 3);
  EXPECT_EQ(tok_->im_end_id(), 5);
  for (int32_t id = 4; id < 9; ++id) {
    EXPECT_EQ(tok_->Encode(pieces[id], false), std::vector<int32_t>{id}) << pieces[id];
  }
  const std::vector<int32_t> ids = tok_->Encode("<|im_start|>user\nhi<|im_end|>", true);
  ASSERT_GE(ids.size(), 4u);
  EXPECT_EQ(ids[0], 1);
  EXPECT_EQ(ids[1], 4);
  EXPECT_EQ(ids.back(), 5);
  EXPECT_EQ(tok_->Decode(ids), "user\nhi");  // specials dropped
  // Byte fallback: every byte pieces exists, and text round-trips through it.
  EXPECT_EQ(tok_->Piece(9), "<0x00>");
  EXPECT_EQ(tok_->Piece(9 + 255), "<0xFF>");
  const std::string odd = "naïve café — 日本語 emoji 🙂\t\ttabs   spaces\n";
  EXPECT_EQ(tok_->Decode(tok_->Encode(odd, true)), odd);
  // No dummy prefix: a leading space is kept both ways, and "Hello" is not "▁Hello".
  EXPECT_EQ(tok_->Decode(tok_->Encode("  two leading spaces", true)), "  two leading spaces");
  EXPECT_NE(tok_->Encode("the", false), tok_->Encode(" the", false));
  EXPECT_EQ(tok_->Encode("", true), std::vector<int32_t>{1});
}

TEST_F(LmTokenizerTest, EngineTokenizerMatchesSentencePieceOnHeldOutText) {
  ASSERT_NE(tok_, nullptr);
  gguf::GgufWriter w;
  ASSERT_TRUE(AddTokenizerToGguf(*tok_, w).ok());
  auto bytes = w.WriteToString();
  ASSERT_TRUE(bytes.ok()) << bytes.status().ToString();
  auto file =
      gguf::GgufFile::FromBuffer(reinterpret_cast<const uint8_t*>(bytes->data()), bytes->size());
  ASSERT_TRUE(file.ok()) << file.status().ToString();
  auto vocab = text::LoadVocabFromGguf(**file);
  ASSERT_TRUE(vocab.ok()) << vocab.status().ToString();
  auto engine = text::Tokenizer::Create(*vocab);
  ASSERT_TRUE(engine.ok()) << engine.status().ToString();
  const text::Tokenizer& e = **engine;
  EXPECT_EQ(e.n_tokens(), 1000);
  EXPECT_EQ(e.bos(), 1);
  EXPECT_EQ(e.eos(), 2);
  EXPECT_EQ(e.pad(), 3);
  EXPECT_EQ(e.eot(), 5);
  EXPECT_TRUE(e.IsEog(5));
  EXPECT_TRUE(e.IsControl(4));
  EXPECT_EQ(e.config().fim_pre, 6);
  EXPECT_EQ(e.config().fim_mid, 8);
  EXPECT_EQ(e.TokenAttrs(9 + 0x41), text::kAttrByte);

  // The one intended difference: with parse_special the engine (like llama.cpp) turns the
  // text of *every* control token into that token, "<s>" and "</s>" too, while SentencePiece
  // matches only the user-defined <|...|> markers and reads "<s>" as text. Such texts are
  // compared without parse_special (then the engine splits no control tokens, so they must
  // have no <|...|> markers either).
  auto has_literal_control = [](const std::string& t) {
    for (const char* c : {"<unk>", "<s>", "</s>", "<pad>"}) {
      if (t.find(c) != std::string::npos) return true;
    }
    return false;
  };
  const std::vector<std::string> texts = HeldOutTexts();
  ASSERT_GT(texts.size(), 100u);
  size_t n_tokens = 0, n_mismatch = 0, n_literal = 0;
  for (const std::string& t : texts) {
    const bool literal = has_literal_control(t);
    if (literal && t.find("<|") != std::string::npos) continue;
    n_literal += literal;
    const std::vector<int32_t> want = tok_->Encode(t, /*add_bos=*/true);
    const std::vector<text::TokenId> got = e.Tokenize(t, /*add_special=*/true,
                                                      /*parse_special=*/!literal);
    n_tokens += want.size();
    if (got != want && ++n_mismatch <= 3) {
      ADD_FAILURE() << "engine and SentencePiece disagree on: " << t.substr(0, 200);
    }
    // The engine's detokenizer gives the text back (but for a literal U+2581, which is how
    // SentencePiece spells a space).
    if (t.find("<|") == std::string::npos && t.find("\xE2\x96\x81") == std::string::npos) {
      EXPECT_EQ(e.Detokenize(got, /*remove_special=*/true, /*unparse_special=*/false), t);
    }
  }
  EXPECT_EQ(n_mismatch, 0u) << "of " << texts.size() << " texts";
  EXPECT_GT(n_tokens, 100000u);
  EXPECT_GE(n_literal, 1u);  // sentencepiece_processor.h says "Returns BOS (<s>) id."
  const std::vector<text::TokenId> eos_in_text = e.Tokenize("a</s>b", false, true);
  EXPECT_EQ(std::count(eos_in_text.begin(), eos_in_text.end(), 2), 1);
  const std::vector<int32_t> sp_ids = tok_->Encode("a</s>b", false);
  EXPECT_EQ(std::count(sp_ids.begin(), sp_ids.end(), 2), 0);
  EXPECT_EQ((*file)->GetString("tokenizer.chat_template").value(), kChatMlTemplate);
}

// A small corpus for the option and error tests (fast to train on).
std::vector<std::string> SmallCorpus(const TempDir& dir) {
  std::string text;
  const std::vector<std::string> headers = testutil::HeaderFiles();
  for (size_t i = 0; i < headers.size() && text.size() < 200000; i += 5) {
    text += ReadText(headers[i]);
  }
  WriteText(dir / "small/a.txt", text);
  return {dir / "small"};
}

TEST(LmTokenizerTrain, DeterministicForTheSameSeed) {
  TempDir dir;
  TokenizerTrainOptions o;
  o.inputs = SmallCorpus(dir);
  o.vocab_size = 600;
  o.max_sentences = 300;
  o.threads = 2;
  o.out_dir = dir / "a";
  auto a = TrainTokenizer(o);
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  EXPECT_EQ(a->sentences, 300);
  o.out_dir = dir / "b";
  o.threads = 1;
  ASSERT_TRUE(TrainTokenizer(o).ok());
  EXPECT_EQ(ReadText(dir / "a/tokenizer.model"), ReadText(dir / "b/tokenizer.model"));
  o.out_dir = dir / "c";
  o.seed = 99;  // another sample of 300 runs of lines: another vocabulary
  ASSERT_TRUE(TrainTokenizer(o).ok());
  EXPECT_NE(ReadText(dir / "a/tokenizer.model"), ReadText(dir / "c/tokenizer.model"));
}

TEST(LmTokenizerTrain, VocabLargerThanTheCorpusIsAClearError) {
  TempDir dir;
  WriteText(dir / "tiny.txt", "the cat sat on the mat. the dog sat on the log.\n");
  TokenizerTrainOptions o;
  o.inputs = {dir / "tiny.txt"};
  o.vocab_size = 2000;
  o.out_dir = dir / "tok";
  auto r = TrainTokenizer(o);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(r.status().message().find("vocab size 2000 is larger than the corpus supports (at "
                                      "most ~"),
            std::string::npos)
      << r.status().message();
  EXPECT_NE(r.status().message().find("lower --vocab-size or add text"), std::string::npos);
  EXPECT_FALSE(std::filesystem::exists(dir / "tok"));
  for (const auto& e : std::filesystem::directory_iterator(dir.path())) {
    EXPECT_EQ(e.path().filename(), "tiny.txt");  // no temp directory left behind
  }
}

TEST(LmTokenizerTrain, VocabSmallerThanTheCharactersIsAClearError) {
  TempDir dir;
  TokenizerTrainOptions o;
  o.inputs = SmallCorpus(dir);
  o.vocab_size = 300;
  o.out_dir = dir / "tok";
  auto r = TrainTokenizer(o);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("is smaller than the corpus needs"), std::string::npos)
      << r.status().message();
}

TEST(LmTokenizerTrain, BadInputs) {
  TempDir dir;
  TokenizerTrainOptions o;
  o.vocab_size = 500;
  o.out_dir = dir / "tok";
  EXPECT_EQ(TrainTokenizer(o).status().code(), StatusCode::kInvalidArgument);  // no inputs
  o.inputs = {dir / "missing.txt"};
  auto r = TrainTokenizer(o);
  EXPECT_EQ(r.status().code(), StatusCode::kNotFound);
  EXPECT_NE(r.status().message().find("missing.txt' does not exist"), std::string::npos);
  WriteText(dir / "bin/a.bin", std::string("\0\1\2\3", 4));
  WriteText(dir / "bin/b.txt", "\xFF\xFE bad utf-8");
  o.inputs = {dir / "bin"};
  r = TrainTokenizer(o);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("no usable text in the inputs: 2 files skipped"),
            std::string::npos)
      << r.status().message();
  WriteText(dir / "busy/file", "x");
  o.inputs = SmallCorpus(dir);
  o.out_dir = dir / "busy";
  r = TrainTokenizer(o);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("exists and is not empty; choose another -o or remove it"),
            std::string::npos);
  o.out_dir = dir / "tok";
  o.vocab_size = 100;
  EXPECT_NE(TrainTokenizer(o).status().message().find("--vocab-size must be in"),
            std::string::npos);
}

TEST(LmTokenizerLoad, MissingAndCorruptDirectories) {
  TempDir dir;
  auto r = LmTokenizer::Load(dir / "nope");
  EXPECT_EQ(r.status().code(), StatusCode::kNotFound);
  EXPECT_NE(r.status().message().find("ml-engine lm tokenizer"), std::string::npos);

  TokenizerTrainOptions o;
  o.inputs = SmallCorpus(dir);
  o.vocab_size = 500;
  o.max_sentences = 200;
  o.out_dir = dir / "tok";
  ASSERT_TRUE(TrainTokenizer(o).ok());
  ASSERT_TRUE(LmTokenizer::Load(dir / "tok").ok());
  std::string model = ReadText(dir / "tok/tokenizer.model");
  model[model.size() / 2] ^= 0x20;
  WriteText(dir / "tok/tokenizer.model", model);
  r = LmTokenizer::Load(dir / "tok");
  EXPECT_EQ(r.status().code(), StatusCode::kCorruption);
  EXPECT_NE(r.status().message().find("SHA-256"), std::string::npos);
  std::filesystem::remove(dir / "tok/tokenizer.json");
  EXPECT_EQ(LmTokenizer::Load(dir / "tok").status().code(), StatusCode::kNotFound);
}

}  // namespace
}  // namespace mle::lm
