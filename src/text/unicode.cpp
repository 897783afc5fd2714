// Code point flags (a two-stage table expanded from the generated run list), llama.cpp-compatible
// UTF-8 decoding, and GPT-2's byte-to-unicode mapping.
#include "text/unicode.h"

#include <array>
#include <map>
#include <vector>

namespace mle::text {
namespace {

constexpr uint32_t kMaxCp = 0x110000;
constexpr uint32_t kBlockBits = 8;
constexpr uint32_t kBlockSize = 1u << kBlockBits;

// stage1[cp >> 8] picks a 256-entry block in stage2; identical blocks are shared, so the
// whole code space takes ~100 KB and a lookup is two dependent loads.
struct FlagTable {
  std::vector<uint16_t> stage1;
  std::vector<uint8_t> stage2;
};

FlagTable BuildFlagTable() {
  std::vector<uint8_t> flat(kMaxCp, 0);
  for (size_t i = 0; i < internal::kUnicodeRunCount; ++i) {
    uint32_t first = internal::kUnicodeRuns[i] >> 8;
    uint32_t end = i + 1 < internal::kUnicodeRunCount ? internal::kUnicodeRuns[i + 1] >> 8 : kMaxCp;
    uint8_t flags = internal::kUnicodeRuns[i] & 0xFF;
    for (uint32_t cp = first; cp < end; ++cp) flat[cp] = flags;
  }
  FlagTable t;
  std::map<std::string, uint16_t> seen;  // block bytes -> block index
  t.stage1.resize(kMaxCp / kBlockSize);
  for (uint32_t b = 0; b < kMaxCp / kBlockSize; ++b) {
    std::string block(flat.begin() + b * kBlockSize, flat.begin() + (b + 1) * kBlockSize);
    auto [it, inserted] = seen.emplace(block, static_cast<uint16_t>(seen.size()));
    if (inserted) t.stage2.insert(t.stage2.end(), block.begin(), block.end());
    t.stage1[b] = it->second;
  }
  return t;
}

const FlagTable& Flags() {
  static const FlagTable table = BuildFlagTable();
  return table;
}

struct ByteMaps {
  std::array<uint32_t, 256> byte_to_cp{};
  std::array<int16_t, 0x144> cp_to_byte{};  // the image lies below U+0144
};

// GPT-2's bytes_to_unicode(): printable Latin-1 bytes map to themselves, the other 68 bytes
// to U+0100.. in byte order.
ByteMaps BuildByteMaps() {
  ByteMaps m;
  m.cp_to_byte.fill(-1);
  uint32_t next = 256;
  for (int b = 0; b < 256; ++b) {
    bool keep = (b >= 0x21 && b <= 0x7E) || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
    m.byte_to_cp[b] = keep ? static_cast<uint32_t>(b) : next++;
    m.cp_to_byte[m.byte_to_cp[b]] = static_cast<int16_t>(b);
  }
  return m;
}

const ByteMaps& Bytes() {
  static const ByteMaps maps = BuildByteMaps();
  return maps;
}

bool IsCont(uint8_t c) {
  return (c & 0xC0) == 0x80;
}

}  // namespace

uint8_t CpFlags(uint32_t cp) {
  if (cp >= kMaxCp) return 0;
  const FlagTable& t = Flags();
  return t.stage2[(size_t(t.stage1[cp >> kBlockBits]) << kBlockBits) | (cp & (kBlockSize - 1))];
}

uint32_t DecodeUtf8(std::string_view text, size_t* pos) {
  const auto* s = reinterpret_cast<const uint8_t*>(text.data());
  const size_t n = text.size();
  const size_t i = *pos;
  const uint8_t c = s[i];
  if (c < 0x80) {
    *pos = i + 1;
    return c;
  }
  // Same acceptance as llama.cpp's unicode_cpt_from_utf8: lead byte class plus continuation
  // bytes present; no overlong / surrogate / range checks.
  if ((c & 0xE0) == 0xC0 && i + 1 < n && IsCont(s[i + 1])) {
    *pos = i + 2;
    return (uint32_t(c & 0x1F) << 6) | (s[i + 1] & 0x3F);
  }
  if ((c & 0xF0) == 0xE0 && i + 2 < n && IsCont(s[i + 1]) && IsCont(s[i + 2])) {
    *pos = i + 3;
    return (uint32_t(c & 0x0F) << 12) | (uint32_t(s[i + 1] & 0x3F) << 6) | (s[i + 2] & 0x3F);
  }
  if ((c & 0xF8) == 0xF0 && i + 3 < n && IsCont(s[i + 1]) && IsCont(s[i + 2]) && IsCont(s[i + 3])) {
    *pos = i + 4;
    return (uint32_t(c & 0x07) << 18) | (uint32_t(s[i + 1] & 0x3F) << 12) |
           (uint32_t(s[i + 2] & 0x3F) << 6) | (s[i + 3] & 0x3F);
  }
  *pos = i + 1;
  return kReplacementChar;
}

void AppendUtf8(uint32_t cp, std::string* out) {
  if (cp < 0x80) {
    out->push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out->push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out->push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < kMaxCp) {
    out->push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    AppendUtf8(kReplacementChar, out);  // llama.cpp throws here; we degrade gracefully
  }
}

bool NormalizeUtf8(std::string_view text, std::string* out) {
  // Fast scan: find the first position whose re-encoding differs.
  size_t pos = 0;
  std::string one;
  while (pos < text.size()) {
    if (static_cast<uint8_t>(text[pos]) < 0x80) {
      ++pos;
      continue;
    }
    size_t start = pos;
    uint32_t cp = DecodeUtf8(text, &pos);
    one.clear();
    AppendUtf8(cp, &one);
    if (one != text.substr(start, pos - start)) {
      pos = start;
      break;
    }
  }
  if (pos >= text.size()) return false;
  std::string result(text.substr(0, pos));
  result.reserve(text.size() + 16);
  while (pos < text.size()) AppendUtf8(DecodeUtf8(text, &pos), &result);
  *out = std::move(result);
  return true;
}

size_t CompleteUtf8Prefix(std::string_view text) {
  // Look back at most 3 bytes for a lead byte whose sequence runs past the end.
  size_t n = text.size();
  for (size_t back = 1; back <= 3 && back <= n; ++back) {
    auto c = static_cast<uint8_t>(text[n - back]);
    if (IsCont(c)) continue;
    if (c >= 0xC0 && c < 0xF8 && Utf8SeqLen(c) > back) return n - back;
    return n;
  }
  return n;
}

uint32_t ByteToUnicode(uint8_t byte) {
  return Bytes().byte_to_cp[byte];
}

int UnicodeToByte(uint32_t cp) {
  return cp < 0x144 ? Bytes().cp_to_byte[cp] : -1;
}

bool DecodeByteLevel(std::string_view token_text, std::string* out) {
  out->clear();
  size_t pos = 0;
  while (pos < token_text.size()) {
    int b = UnicodeToByte(DecodeUtf8(token_text, &pos));
    if (b < 0) return false;
    out->push_back(static_cast<char>(b));
  }
  return true;
}

std::string EncodeByteLevel(std::string_view bytes) {
  std::string out;
  out.reserve(bytes.size() * 2);
  for (char c : bytes) AppendUtf8(ByteToUnicode(static_cast<uint8_t>(c)), &out);
  return out;
}

}  // namespace mle::text
