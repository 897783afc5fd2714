// Unicode helpers the tokenizers share: UTF-8 decoding with llama.cpp's exact rules for
// malformed input, the general-category class and White_Space property of a code point (the
// \p{L} / \p{N} / \s of pre-tokenizer regexes), and GPT-2's byte <-> printable-char mapping.
// All functions are pure and thread-safe (tables are built once, on first use).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace mle::text {

// General category, collapsed to its major class (Lu/Ll/Lt/Lm/Lo -> kLetter, ...).
enum class CpClass : uint8_t {
  kUnassigned = 0,   // Cn, and values above U+10FFFF
  kNumber = 1,       // Nd, Nl, No
  kLetter = 2,       // L*
  kSeparator = 3,    // Z*
  kMark = 4,         // M*
  kPunctuation = 5,  // P*
  kSymbol = 6,       // S*
  kOther = 7,        // Cc, Cf, Co, Cs
};

inline constexpr uint8_t kCpClassMask = 0x07;
inline constexpr uint8_t kCpWhitespace = 0x08;  // the Unicode White_Space property
inline constexpr uint32_t kReplacementChar = 0xFFFD;

// Class bits | kCpWhitespace for `cp` (any uint32; out-of-range values are unassigned).
uint8_t CpFlags(uint32_t cp);
inline CpClass CpClassOf(uint32_t cp) {
  return static_cast<CpClass>(CpFlags(cp) & kCpClassMask);
}
inline bool IsLetter(uint8_t flags) {
  return (flags & kCpClassMask) == uint8_t(CpClass::kLetter);
}
inline bool IsNumber(uint8_t flags) {
  return (flags & kCpClassMask) == uint8_t(CpClass::kNumber);
}
inline bool IsWhitespace(uint8_t flags) {
  return (flags & kCpWhitespace) != 0;
}

// Byte length of the UTF-8 sequence a lead byte announces, from its top four bits, exactly
// as llama.cpp's unicode_len_utf8 computes it (1 for continuation bytes, 4 for 0xF0..0xFF).
inline size_t Utf8SeqLen(uint8_t lead) {
  static constexpr uint8_t kLen[16] = {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 3, 4};
  return kLen[lead >> 4];
}

// Decodes one code point at text[*pos] and advances *pos. Follows llama.cpp's lenient rules:
// overlong forms and surrogates decode as written; a byte that cannot start a well-formed
// sequence (a stray continuation byte, 0xF8+, a truncated sequence) yields U+FFFD and
// advances by one byte. REQUIRES: *pos < text.size().
uint32_t DecodeUtf8(std::string_view text, size_t* pos);

// Appends the UTF-8 encoding of `cp` (1..4 bytes; values above U+10FFFF encode U+FFFD).
void AppendUtf8(uint32_t cp, std::string* out);

// Returns `text` re-encoded from its decoded code points (DecodeUtf8 then AppendUtf8), which
// is how llama.cpp's BPE path sees text: malformed bytes become U+FFFD and overlong forms
// shrink. Returns false and leaves *out untouched when the re-encoding equals `text` (the
// common case), so callers can keep using the original.
bool NormalizeUtf8(std::string_view text, std::string* out);

// Length of the longest prefix of `text` that ends on a complete UTF-8 character, i.e.
// without a trailing incomplete multi-byte sequence (used by streaming detokenization).
size_t CompleteUtf8Prefix(std::string_view text);

// GPT-2 byte-level BPE maps each byte to a printable code point (U+0021..U+0143).
uint32_t ByteToUnicode(uint8_t byte);
// Inverse of ByteToUnicode; -1 for code points outside its image.
int UnicodeToByte(uint32_t cp);

// Decodes a byte-level BPE token text (GPT-2 chars) into raw bytes. Returns false when a
// character is outside the mapping's image (such a text can never match encoded input).
bool DecodeByteLevel(std::string_view token_text, std::string* out);
// Encodes raw bytes into GPT-2 chars (the inverse of DecodeByteLevel).
std::string EncodeByteLevel(std::string_view bytes);

namespace internal {
extern const uint32_t kUnicodeRuns[];  // generated: (first cp << 8) | flags
extern const size_t kUnicodeRunCount;
}  // namespace internal

}  // namespace mle::text
