// Unicode helpers: category classes and white space, llama.cpp-compatible UTF-8 decoding,
// and GPT-2's byte <-> unicode mapping.
#include <gtest/gtest.h>

#include <set>

#include "text/unicode.h"

namespace mle::text {
namespace {

TEST(Unicode, Classes) {
  EXPECT_EQ(CpClassOf('a'), CpClass::kLetter);
  EXPECT_EQ(CpClassOf(0xAC00), CpClass::kLetter);  // 가
  EXPECT_EQ(CpClassOf(0x4E00), CpClass::kLetter);  // 一
  EXPECT_EQ(CpClassOf('7'), CpClass::kNumber);
  EXPECT_EQ(CpClassOf(0x2167), CpClass::kNumber);  // Ⅷ (Nl)
  EXPECT_EQ(CpClassOf(0x00BD), CpClass::kNumber);  // ½ (No)
  EXPECT_EQ(CpClassOf(0x0301), CpClass::kMark);
  EXPECT_EQ(CpClassOf('!'), CpClass::kPunctuation);
  EXPECT_EQ(CpClassOf('$'), CpClass::kSymbol);
  EXPECT_EQ(CpClassOf(0x1F999), CpClass::kSymbol);  // 🦙
  EXPECT_EQ(CpClassOf(' '), CpClass::kSeparator);
  EXPECT_EQ(CpClassOf(0x200D), CpClass::kOther);  // ZWJ (Cf)
  EXPECT_EQ(CpClassOf(0xE000), CpClass::kOther);  // private use
  EXPECT_EQ(CpClassOf(0x0378), CpClass::kUnassigned);
  EXPECT_EQ(CpFlags(0x110000), 0);
}

TEST(Unicode, WhiteSpaceIsTheUnicodeProperty) {
  std::set<uint32_t> ws;
  for (uint32_t cp = 0; cp < 0x110000; ++cp) {
    if (IsWhitespace(CpFlags(cp))) ws.insert(cp);
  }
  const std::set<uint32_t> expected = {0x09,   0x0A,   0x0B,   0x0C,   0x0D,   0x20,   0x85,
                                       0xA0,   0x1680, 0x2000, 0x2001, 0x2002, 0x2003, 0x2004,
                                       0x2005, 0x2006, 0x2007, 0x2008, 0x2009, 0x200A, 0x2028,
                                       0x2029, 0x202F, 0x205F, 0x3000};
  EXPECT_EQ(ws, expected);
}

TEST(Unicode, DecodeLikeLlamaCpp) {
  auto decode_all = [](std::string_view s) {
    std::vector<uint32_t> out;
    for (size_t pos = 0; pos < s.size();) out.push_back(DecodeUtf8(s, &pos));
    return out;
  };
  EXPECT_EQ(decode_all("a\xC3\xA9"), (std::vector<uint32_t>{'a', 0xE9}));
  EXPECT_EQ(decode_all("\xF0\x9F\xA6\x99"), (std::vector<uint32_t>{0x1F999}));
  EXPECT_EQ(decode_all("\x80"), (std::vector<uint32_t>{kReplacementChar}));
  // A truncated sequence: the lead byte becomes U+FFFD, then each continuation byte too.
  EXPECT_EQ(decode_all("\xE2\x82"), (std::vector<uint32_t>{kReplacementChar, kReplacementChar}));
  EXPECT_EQ(decode_all("\xE2\x41"), (std::vector<uint32_t>{kReplacementChar, 'A'}));
  EXPECT_EQ(decode_all("\xC0\x80"), (std::vector<uint32_t>{0}));  // overlong, accepted
  EXPECT_EQ(decode_all("\xFF"), (std::vector<uint32_t>{kReplacementChar}));
}

TEST(Unicode, Normalize) {
  std::string out = "untouched";
  EXPECT_FALSE(NormalizeUtf8("plain ascii and é", &out));
  EXPECT_EQ(out, "untouched");
  EXPECT_TRUE(NormalizeUtf8("a\x80z", &out));
  EXPECT_EQ(out, "a\xEF\xBF\xBDz");
  EXPECT_TRUE(NormalizeUtf8("\xC0\x80", &out));
  EXPECT_EQ(out, std::string(1, '\0'));
}

TEST(Unicode, CompletePrefix) {
  EXPECT_EQ(CompleteUtf8Prefix("abc"), 3u);
  EXPECT_EQ(CompleteUtf8Prefix("ab\xF0\x9F\xA6"), 2u);
  EXPECT_EQ(CompleteUtf8Prefix("ab\xF0\x9F\xA6\x99"), 6u);
  EXPECT_EQ(CompleteUtf8Prefix("\xC3"), 0u);
  EXPECT_EQ(CompleteUtf8Prefix("\x80\x80"), 2u);  // stray continuation bytes are not held
  EXPECT_EQ(CompleteUtf8Prefix(""), 0u);
}

TEST(Unicode, ByteLevelMapping) {
  EXPECT_EQ(ByteToUnicode(' '), 0x120u);   // Ġ
  EXPECT_EQ(ByteToUnicode('\n'), 0x10Au);  // Ċ
  EXPECT_EQ(ByteToUnicode('A'), uint32_t('A'));
  std::set<uint32_t> image;
  for (int b = 0; b < 256; ++b) {
    image.insert(ByteToUnicode(static_cast<uint8_t>(b)));
    EXPECT_EQ(UnicodeToByte(ByteToUnicode(static_cast<uint8_t>(b))), b);
  }
  EXPECT_EQ(image.size(), 256u);
  EXPECT_EQ(UnicodeToByte(' '), -1);
  std::string raw;
  EXPECT_TRUE(DecodeByteLevel(EncodeByteLevel("hi \xFF\n"), &raw));
  EXPECT_EQ(raw, "hi \xFF\n");
  EXPECT_FALSE(DecodeByteLevel("has space", &raw));
}

}  // namespace
}  // namespace mle::text
