// Corpus cleaning: input discovery, text checks, normalization, document splitting, PII
// scrubbing (positives and negatives), exact and near duplicates, the split, and `lm data`
// end to end (PrepareData): what lands in the shards, reports, determinism and errors.
#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <set>

#include <nlohmann/json.hpp>

#include "lm/corpus.h"
#include "lm/lm_tokenizer.h"
#include "lm/near_dup.h"
#include "lm/pii_scrub.h"
#include "lm/token_shards.h"
#include "lm_text_test_util.h"

namespace mle::lm {
namespace {

using testutil::ReadText;
using testutil::TempDir;
using testutil::WriteText;

TEST(Corpus, ClassifyText) {
  EXPECT_EQ(ClassifyText("plain text\n"), TextKind::kText);
  EXPECT_EQ(ClassifyText(""), TextKind::kText);
  EXPECT_EQ(ClassifyText("naïve café — 日本語 🙂\t\f\x1b[0m"), TextKind::kText);
  EXPECT_EQ(ClassifyText(std::string("a\0b", 3)), TextKind::kBinary);
  EXPECT_EQ(ClassifyText("\x01\x02\x03\x04"
                         "ab"),
            TextKind::kBinary);                                         // > 30% control
  EXPECT_EQ(ClassifyText("a\bb overstrike is fine"), TextKind::kText);  // < 30%
  EXPECT_EQ(ClassifyText("caf\xE9"), TextKind::kInvalidUtf8);           // Latin-1
  EXPECT_EQ(ClassifyText("\xC0\x80"), TextKind::kInvalidUtf8);          // overlong NUL
  EXPECT_EQ(ClassifyText("\xED\xA0\x80"), TextKind::kInvalidUtf8);      // surrogate
  EXPECT_EQ(ClassifyText("\xF4\x90\x80\x80"), TextKind::kInvalidUtf8);  // > U+10FFFF
  EXPECT_EQ(ClassifyText("ab\xE6\x97"), TextKind::kInvalidUtf8);        // truncated
}

TEST(Corpus, NormalizeLines) {
  EXPECT_EQ(NormalizeLines("\xEF\xBB\xBFhello  \r\nworld\t\rlast \t"), "hello\nworld\nlast");
  EXPECT_EQ(NormalizeLines("a\n\n  \n\tb\n"), "a\n\n\n\tb\n");
  EXPECT_EQ(NormalizeLines(""), "");
}

TEST(Corpus, Nfkc) {
  EXPECT_EQ(NfkcNormalize("ﬁne Ａ① x²").value(), "fine A1 x2");
  EXPECT_EQ(NfkcNormalize("already normal").value(), "already normal");
  EXPECT_EQ(NfkcNormalize("e\xCC\x81").value(), "\xC3\xA9");  // e + combining acute -> é
}

TEST(Corpus, SplitDocuments) {
  using V = std::vector<std::string_view>;
  const std::string fortunes = "first\nfortune\n%\nsecond\n%\n%\nthird\n%\n";
  EXPECT_EQ(SplitDocuments(fortunes, "auto"), (V{"first\nfortune", "second", "third"}));
  EXPECT_EQ(SplitDocuments(fortunes, "none"), V{"first\nfortune\n%\nsecond\n%\n%\nthird\n%"});
  EXPECT_EQ(SplitDocuments("\n\nwhole file\n% not a separator\n", "auto"),
            (V{"whole file\n% not a separator"}));
  EXPECT_EQ(SplitDocuments("a\n---\nb", "---"), (V{"a", "b"}));
  EXPECT_EQ(SplitDocuments("\n\n", "auto"), V{});
}

TEST(Corpus, CutAtLines) {
  using V = std::vector<std::string_view>;
  EXPECT_EQ(CutAtLines("aaa\nbbb\nccc\n", 9), (V{"aaa\nbbb\n", "ccc\n"}));
  EXPECT_EQ(CutAtLines("abcdefgh", 3), (V{"abc", "def", "gh"}));
  // Characters, not bytes; never inside a UTF-8 sequence.
  EXPECT_EQ(CutAtLines("ééé", 2), (V{"éé", "é"}));
  EXPECT_EQ(CutAtLines("short", 100), (V{"short"}));
}

TEST(Corpus, ListInputFilesSortedRecursiveDeduplicated) {
  TempDir dir;
  WriteText(dir / "in/b.txt", "b");
  WriteText(dir / "in/a.txt", "a");
  WriteText(dir / "in/sub/c.txt", "c");
  WriteText(dir / "in/.hidden/d.txt", "d");
  WriteText(dir / "in/.e.txt", "e");
  std::filesystem::create_symlink(dir / "in/a.txt", dir / "in/z-link.txt");
  auto files = ListInputFiles({dir / "in", dir / "in/a.txt"});
  ASSERT_TRUE(files.ok()) << files.status().ToString();
  EXPECT_EQ(*files,
            (std::vector<std::string>{dir / "in/a.txt", dir / "in/b.txt", dir / "in/sub/c.txt"}));
  auto missing = ListInputFiles({dir / "in", dir / "nope"});
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
  EXPECT_NE(missing.status().message().find("nope' does not exist"), std::string::npos);
  EXPECT_EQ(ListInputFiles({}).status().code(), StatusCode::kInvalidArgument);
}

std::string Scrub(std::string_view text, PiiCounts* c = nullptr) {
  PiiCounts local;
  return ScrubPii(text, c ? c : &local);
}

TEST(PiiScrub, Emails) {
  PiiCounts c;
  EXPECT_EQ(Scrub("mail john.doe+tag@mail.example.co.uk, or a@b.io.", &c),
            "mail <EMAIL>, or <EMAIL>.");
  EXPECT_EQ(c.emails, 2);
  EXPECT_EQ(Scrub("<bob@example.org>"), "<<EMAIL>>");
  // Not addresses: no dot in the domain, a numeric TLD, decorators, bare @.
  for (const char* s : {"user@localhost", "x@1.2", "@Override", "a @ b.com", "foo@-bar.com",
                        "@param x the value", "git@github"}) {
    EXPECT_EQ(Scrub(s), s);
  }
}

TEST(PiiScrub, Phones) {
  PiiCounts c;
  const std::pair<const char*, const char*> hits[] = {
      {"call 555-123-4567 now", "call <PHONE> now"},
      {"call (555) 123-4567.", "call <PHONE>."},
      {"(555)123-4567", "<PHONE>"},
      {"1-800-555-1234", "<PHONE>"},
      {"1 (800) 555-1234", "<PHONE>"},
      {"555.123.4567", "<PHONE>"},
      {"+1 555 123 4567", "<PHONE>"},
      {"+44 20 7946 0958", "<PHONE>"},
      {"+14155552671", "<PHONE>"},
      {"dial 555-1234!", "dial <PHONE>!"},
  };
  for (const auto& [in, out] : hits) EXPECT_EQ(Scrub(in, &c), out) << in;
  EXPECT_EQ(c.phones, 10);
  // Dates, times, versions, ranges, hex, identifiers, math, mixed separators.
  for (const char* s :
       {"2024-05-17", "12/25/2023", "12:30:45", "version 1.2.3", "v2.6.32", "pages 12-34",
        "1984-2001", "0x555-1234", "id_555-123-4567", "555 123 4567", "3.14159",
        "x = 555-123-4567-89", "555-123.4567", "+1.5", "12345-6789", "call 55-1234"}) {
    EXPECT_EQ(Scrub(s), s) << s;
  }
}

TEST(PiiScrub, Ipv4) {
  PiiCounts c;
  EXPECT_EQ(Scrub("host 192.168.0.1:8080 and 10.0.0.255.", &c), "host <IP>:8080 and <IP>.");
  EXPECT_EQ(c.ips, 2);
  EXPECT_EQ(Scrub("net 10.1.2.0/24"), "net <IP>/24");
  for (const char* s : {"256.1.1.1", "1.2.3", "1.2.3.4.5", "v1.2.3.4", "1.2.3.4a", "1234.1.1.1",
                        "version 10.0.19041.1"}) {
    EXPECT_EQ(Scrub(s), s) << s;
  }
}

TEST(PiiScrub, LongNumbers) {
  PiiCounts c;
  EXPECT_EQ(Scrub("card 4111111111111111, ssn 078051120 ok", &c), "card <NUM>, ssn <NUM> ok");
  EXPECT_EQ(c.numbers, 2);
  EXPECT_EQ(Scrub("(1812433253)"), "(<NUM>)");
  for (const char* s : {"12345678", "0x123456789ABC", "abc1234567890", "pi 3.14159265358979",
                        "1234567890.5", "x_123456789", "1,234,567,890", "INT_MAX 2147483647",
                        "4294967295u", "4294967296", "18446744073709551615ULL", "1000000000",
                        "6402373705728000", "999999999", "0123456789", "123456789", "9876543210"}) {
    EXPECT_EQ(Scrub(s), s) << s;
  }
}

TEST(PiiScrub, MixedAndCounted) {
  PiiCounts c;
  const std::string out =
      Scrub("Bob <bob@corp.example.com>, 10.0.0.1, tel 555-867-5309, acct 000123456789", &c);
  EXPECT_EQ(out, "Bob <<EMAIL>>, <IP>, tel <PHONE>, acct <NUM>");
  EXPECT_EQ(c.total(), 4);
}

// n pseudo-random words (each followed by a space); different seeds share no 5-grams.
std::string Words(int n, int seed) {
  std::string s;
  for (int i = 0; i < n; ++i) {
    uint64_t z =
        (static_cast<uint64_t>(seed) << 32 | static_cast<uint64_t>(i)) * 0x9E3779B97F4A7C15ull;
    z = (z ^ (z >> 31)) * 0xBF58476D1CE4E5B9ull;
    s += "w" + std::to_string((z ^ (z >> 29)) % 100000) + " ";
  }
  return s;
}

TEST(NearDup, ExactAndNearDuplicates) {
  const std::string a = Words(200, 1);
  std::string a_edit = a;
  a_edit.replace(a_edit.find(' ', 500), 1, " changed ");  // one word inserted
  const std::string b = Words(200, 2);
  const MinHashSignature sa = ComputeMinHash(a), se = ComputeMinHash(a_edit),
                         sb = ComputeMinHash(b);
  EXPECT_GT(EstimatedJaccard(sa, se), 0.9);
  EXPECT_LT(EstimatedJaccard(sa, sb), 0.1);
  EXPECT_EQ(ComputeMinHash(a), sa);  // deterministic
  DuplicateFilter f;
  EXPECT_EQ(f.Add(a, &sa), DuplicateFilter::Verdict::kNew);
  EXPECT_EQ(f.Add(a, &sa), DuplicateFilter::Verdict::kExactDuplicate);
  EXPECT_EQ(f.Add(a_edit, &se), DuplicateFilter::Verdict::kNearDuplicate);
  EXPECT_EQ(f.Add(b, &sb), DuplicateFilter::Verdict::kNew);
  // Half the text replaced: kept.
  const std::string half = Words(100, 1) + Words(100, 3);
  const MinHashSignature sh = ComputeMinHash(half);
  EXPECT_EQ(f.Add(half, &sh), DuplicateFilter::Verdict::kNew);
  EXPECT_EQ(f.n_kept(), 3u);
}

TEST(Split, DeterministicBySeed) {
  int n_val = 0, n_diff = 0;
  for (int i = 0; i < 2000; ++i) {
    const std::string doc = "document number " + std::to_string(i);
    const bool v = IsValidationDocument(doc, 7, 0.1);
    EXPECT_EQ(v, IsValidationDocument(doc, 7, 0.1));
    n_val += v;
    n_diff += v != IsValidationDocument(doc, 8, 0.1);
    EXPECT_FALSE(IsValidationDocument(doc, 7, 0.0));
  }
  EXPECT_NEAR(n_val, 200, 60);
  EXPECT_GT(n_diff, 100);
}

// ---- PrepareData ------------------------------------------------------------------------

class PrepareDataTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new TempDir("lmdata");
    std::string text;
    for (const std::string& h : testutil::HeaderFiles()) {
      if (text.size() > 300000) break;
      text += ReadText(h);
    }
    WriteText(*dir_ / "tok-corpus.txt", text);
    TokenizerTrainOptions o;
    o.inputs = {*dir_ / "tok-corpus.txt"};
    o.vocab_size = 500;
    o.max_sentences = 2000;
    o.out_dir = *dir_ / "tok";
    auto r = TrainTokenizer(o);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    tok_ = LmTokenizer::Load(o.out_dir)->release();
  }
  static void TearDownTestSuite() {
    delete tok_;
    delete dir_;
  }

  // Documents whose cleaned text the test knows: distinct sentences, one per fortune.
  static std::string Doc(int i) {
    std::string words = Words(30, 100 + i);
    words.pop_back();  // no trailing space: NormalizeLines would strip it
    return "Fortune " + std::to_string(i) + ": " + words + "\nthe end of " +
           std::to_string(i * 31) + ".";
  }

  DataOptions Options(const std::string& out, std::vector<std::string> inputs) {
    DataOptions o;
    o.inputs = std::move(inputs);
    o.tokenizer_dir = *dir_ / "tok";
    o.out_dir = out;
    o.threads = 2;
    o.max_shard_bytes = 512;  // many shards
    return o;
  }

  // Every document in a split, decoded from the shards (split at <s>).
  static std::vector<std::string> ReadDocs(const TokenData& d, Split s) {
    std::vector<int64_t> all(d.n_tokens(s));
    EXPECT_TRUE(d.Read(s, 0, all.size(), all.data()).ok());
    std::vector<std::string> docs;
    std::vector<int32_t> cur;
    for (size_t i = 0; i < all.size(); ++i) {
      if (all[i] == tok_->bos_id()) {
        cur.clear();
      } else if (all[i] == tok_->eos_id()) {
        docs.push_back(tok_->Decode(cur));
      } else {
        cur.push_back(static_cast<int32_t>(all[i]));
      }
    }
    return docs;
  }

  static inline TempDir* dir_ = nullptr;
  static inline LmTokenizer* tok_ = nullptr;
};

TEST_F(PrepareDataTest, CleansDeduplicatesSplitsAndShards) {
  TempDir in;
  std::string fortunes;
  for (int i = 0; i < 40; ++i) fortunes += Doc(i) + "\n%\n";
  fortunes += Doc(3) + "\n%\n";                              // exact duplicate
  fortunes += Doc(5) + " plus\n%\n";                         // near duplicate
  fortunes += "tiny\n%\n";                                   // too short
  fortunes += "mail a.b@example.com or 10.1.2.3 ok   \r\n";  // PII, CRLF, trailing spaces
  WriteText(in / "corpus/fortunes", fortunes);
  WriteText(in / "corpus/notes.txt", "A whole file is one document, line one.\nLine two.\n");
  WriteText(in / "corpus/long.txt", std::string(3000, 'x') + "\n" + Words(400, 9));
  WriteText(in / "corpus/image.png", std::string("\x89PNG\r\n\x1a\n\0\0\0\rIHDR", 16));
  WriteText(in / "corpus/latin1.txt", "na\xEFve\n");

  DataOptions o = Options(in / "data", {in / "corpus"});
  o.max_chars = 1000;
  o.val_fraction = 0.1;
  auto r = PrepareData(o);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  const CleaningReport& c = r->cleaning;
  EXPECT_EQ(c.files_total, 5);
  EXPECT_EQ(c.files_read, 3);
  EXPECT_EQ(c.files_skipped_binary, 1);
  EXPECT_EQ(c.files_skipped_utf8, 1);
  EXPECT_EQ(c.documents_read, 40 + 4 + 2);
  EXPECT_EQ(c.duplicates_exact, 1);
  EXPECT_EQ(c.duplicates_near, 1);
  EXPECT_EQ(c.documents_too_short, 1);
  EXPECT_EQ(c.documents_kept, 43);
  EXPECT_EQ(c.pii.emails, 1);
  EXPECT_EQ(c.pii.ips, 1);
  EXPECT_EQ(c.documents_cut, 1);
  EXPECT_GE(c.pieces_from_cuts, 4);
  EXPECT_EQ(r->dtype, "uint16");
  EXPECT_GT(r->documents_val, 0);
  EXPECT_EQ(r->documents_train + r->documents_val, 43);

  auto data = TokenData::Open(in / "data", /*verify_checksums=*/true);
  ASSERT_TRUE(data.ok()) << data.status().ToString();
  EXPECT_EQ((*data)->vocab_size(), 500);
  EXPECT_EQ((*data)->tokenizer_dir(), tok_->dir());
  EXPECT_EQ((*data)->tokenizer_sha256(), tok_->sha256());
  EXPECT_EQ((*data)->n_tokens(Split::kTrain), r->tokens_train);
  EXPECT_GT(r->shards_train, 3);
  std::multiset<std::string> got;
  for (Split s : {Split::kTrain, Split::kVal}) {
    for (std::string& d : ReadDocs(**data, s)) got.insert(std::move(d));
  }
  std::string long_text = std::string(3000, 'x') + "\n" + Words(400, 9);
  long_text.pop_back();  // the trailing space NormalizeLines strips
  // The long file, cut at 1000 characters.
  std::multiset<std::string> want;
  for (int i = 0; i < 40; ++i) want.insert(Doc(i));
  want.insert("mail <EMAIL> or <IP> ok");
  want.insert("A whole file is one document, line one.\nLine two.");
  for (std::string_view p : CutAtLines(long_text, 1000)) want.insert(std::string(p));
  EXPECT_EQ(got, want);

  const nlohmann::json index = nlohmann::json::parse(ReadText(in / "data/index.json"));
  EXPECT_EQ(index["cleaning"]["duplicates_near"], 1);
  EXPECT_EQ(index["cleaning"]["pii"]["emails"], 1);
  EXPECT_EQ(index["totals"]["n_tokens"], r->tokens_train + r->tokens_val);
  EXPECT_EQ(index["splits"]["train"]["shards"][0]["file"], "train-00000.bin");
}

TEST_F(PrepareDataTest, DeterministicAndAtLeastOneValidationDocument) {
  TempDir in, out;
  WriteText(in / "a.txt", Doc(1));
  WriteText(in / "b.txt", Doc(2));
  DataOptions o = Options(out / "d1", {in.path()});
  o.val_fraction = 0.001;  // would put nothing in validation
  o.threads = 1;
  auto r1 = PrepareData(o);
  ASSERT_TRUE(r1.ok()) << r1.status().ToString();
  EXPECT_EQ(r1->documents_val, 1);
  EXPECT_EQ(r1->documents_train, 1);
  o.out_dir = out / "d2";
  o.threads = 2;
  ASSERT_TRUE(PrepareData(o).ok());
  const nlohmann::json i1 = nlohmann::json::parse(ReadText(out / "d1/index.json"));
  const nlohmann::json i2 = nlohmann::json::parse(ReadText(out / "d2/index.json"));
  EXPECT_EQ(i1["splits"], i2["splits"]);
  // One document: it stays in train.
  TempDir one;
  WriteText(one / "a.txt", Doc(1));
  DataOptions o1 = Options(one / "d", {one / "a.txt"});
  auto r = PrepareData(o1);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->documents_train, 1);
  EXPECT_EQ(r->documents_val, 0);
}

TEST_F(PrepareDataTest, NfkcOption) {
  TempDir in;
  WriteText(in / "a.txt", "ﬁnally Ｆｕｌｌｗｉｄｔｈ text\u00A0\nline two");
  DataOptions o = Options(in / "d", {in / "a.txt"});
  o.nfkc = true;
  o.val_fraction = 0;
  ASSERT_TRUE(PrepareData(o).ok());
  auto data = TokenData::Open(in / "d");
  ASSERT_TRUE(data.ok());
  EXPECT_EQ(ReadDocs(**data, Split::kTrain),
            std::vector<std::string>{"finally Fullwidth text\nline two"});
}

TEST_F(PrepareDataTest, BadInputsAreClearErrorsAndLeaveNothing) {
  TempDir in;
  WriteText(in / "a.txt", Doc(1));
  auto msg = [](const Result<DataReport>& r) { return r.ok() ? "" : r.status().message(); };

  WriteText(in / "busy/x", "x");
  EXPECT_NE(msg(PrepareData(Options(in / "busy", {in / "a.txt"})))
                .find("output directory '" + in / "busy" + "' exists and is not empty"),
            std::string::npos);
  DataOptions o = Options(in / "out", {in / "a.txt"});
  o.val_fraction = 0.6;
  EXPECT_NE(msg(PrepareData(o)).find("--val-fraction must be in [0, 0.5]"), std::string::npos);
  o = Options(in / "out", {in / "a.txt"});
  o.tokenizer_dir = in / "no-tok";
  auto r = PrepareData(o);
  EXPECT_EQ(r.status().code(), StatusCode::kNotFound);
  EXPECT_NE(msg(r).find("tokenizer directory"), std::string::npos);
  EXPECT_EQ(PrepareData(Options(in / "out", {})).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(PrepareData(Options(in / "out", {in / "missing"})).status().code(),
            StatusCode::kNotFound);

  WriteText(in / "bin/a.dat", std::string("\0\1\2", 3));
  WriteText(in / "bin/b.txt", "\xFF\xFF");
  EXPECT_EQ(msg(PrepareData(Options(in / "out", {in / "bin"}))),
            "no usable text in " + in / "bin" + ": 2 files skipped (binary or invalid UTF-8)");
  // Nothing but the inputs is left in the parent directory.
  std::set<std::string> names;
  for (const auto& e : std::filesystem::directory_iterator(in.path())) {
    names.insert(e.path().filename());
  }
  EXPECT_EQ(names, (std::set<std::string>{"a.txt", "bin", "busy"}));
}

}  // namespace
}  // namespace mle::lm
