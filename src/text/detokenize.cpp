// Token -> bytes: the per-token piece table (llama.cpp's token_to_piece, cached at load),
// llama_detokenize's joining rules, and the streaming detokenizer.
#include <cstdio>

#include "text/tokenizer_internal.h"
#include "text/unicode.h"

namespace mle::text {
namespace internal {
namespace {

constexpr uint32_t kAttrRenderRaw = kAttrUnknown | kAttrControl | kAttrUserDefined;

std::string UnescapeSpaces(const std::string& text) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    if (text.compare(i, 3, "\xE2\x96\x81") == 0) {
      out.push_back(' ');
      i += 2;
    } else {
      out.push_back(text[i]);
    }
  }
  return out;
}

// "<0xXX>" -> the byte (SPM byte tokens).
std::string ByteTokenPiece(const std::string& text) {
  unsigned value = 0;
  if (text.size() < 6 || std::sscanf(text.c_str() + 3, "%2x", &value) != 1) return "";
  return std::string(1, static_cast<char>(value));
}

// A byte-level BPE token's bytes; characters outside the alphabet come out the way
// llama.cpp's llama_decode_text writes them.
std::string DecodeBpeText(const std::string& text) {
  std::string out;
  size_t pos = 0;
  while (pos < text.size()) {
    const size_t start = pos;
    const int b = UnicodeToByte(DecodeUtf8(text, &pos));
    if (b >= 0) {
      out.push_back(static_cast<char>(b));
      continue;
    }
    out += "[UNK_BYTE_0x";
    for (size_t i = start; i < pos; ++i) {
      char hex[3];
      std::snprintf(hex, sizeof(hex), "%02x", static_cast<uint8_t>(text[i]));
      out += hex;
    }
    out += text + "]";
  }
  return out;
}

// llama.cpp's clean_up_tokenization_spaces: " ?" " !" " ." " ," lose the space, a lone " ' "
// loses both, and " 's" " 'm" " 're" " 've" lose the space. Three in-place compaction passes,
// written like llama.cpp's (including its quirk of blanking the skipped space with '\0').
std::string CleanSpaces(std::string t) {
  size_t total = t.size();
  size_t n = total;
  total = total ? 1 : 0;
  for (size_t i = 1; i < n; ++i) {
    const char x = t[i];
    if (t[i - 1] == ' ' && (x == '?' || x == '!' || x == '.' || x == ',')) --total;
    t[total++] = x;
  }
  n = total;
  total = total ? 1 : 0;
  for (size_t i = 1; i < n; ++i) {
    const char x = t[i];
    if (x == '\'' && i + 1 < n && t[i - 1] == ' ' && t[i + 1] == ' ') {
      --total;
      t[++i] = '\0';
    }
    t[total++] = x;
  }
  n = total;
  total = total ? 1 : 0;
  for (size_t i = 1; i < n; ++i) {
    const char x = t[i];
    if (t[i - 1] == ' ' && x == '\'' && i + 1 < n) {
      const char x1 = t[i + 1];
      if (x1 == 's' || x1 == 'm') {
        --total;
      } else if (i + 2 < n && ((x1 == 'r' && t[i + 2] == 'e') || (x1 == 'v' && t[i + 2] == 'e'))) {
        --total;
      }
    }
    t[total++] = x;
  }
  t.resize(total);
  return t;
}

}  // namespace

void TokenizerImpl::BuildPieces() {
  const size_t n = vocab.tokens.size();
  pieces.assign(n, std::string());
  for (size_t i = 0; i < n; ++i) {
    const uint32_t attr = config.attrs[i];
    const std::string& text = vocab.tokens[i];
    if (attr & kAttrRenderRaw) {
      pieces[i] = text;
    } else if (attr & kAttrNormal) {
      const bool escaped = config.type == VocabType::kSpm || config.escape_whitespaces;
      pieces[i] = escaped ? UnescapeSpaces(text) : DecodeBpeText(text);
    } else if (attr & kAttrByte) {
      pieces[i] = ByteTokenPiece(text);
    }  // unused and undefined tokens render as nothing
  }
}

}  // namespace internal

std::string_view Tokenizer::TokenToPiece(TokenId id, bool special) const {
  const uint32_t attr = TokenAttrs(id);
  if (id < 0 || id >= n_tokens()) return {};
  if (!special && (attr & (kAttrUnknown | kAttrControl))) return {};
  return impl_->pieces[id];
}

std::string Tokenizer::Detokenize(std::span<const TokenId> ids, bool remove_special,
                                  bool unparse_special) const {
  const VocabConfig& c = impl_->config;
  bool remove_space = c.add_space_prefix;
  if (remove_special && c.add_bos && !ids.empty() && ids.front() == c.bos) {
    remove_space = false;
    ids = ids.subspan(1);
  }
  if (remove_special && c.add_eos && !ids.empty() && ids.back() == c.eos) {
    ids = ids.first(ids.size() - 1);
  }
  std::string out;
  for (TokenId id : ids) {
    std::string_view piece = TokenToPiece(id, unparse_special);
    if (remove_space && !piece.empty() && piece.front() == ' ') piece.remove_prefix(1);
    remove_space = false;
    out.append(piece);
  }
  return c.clean_spaces ? internal::CleanSpaces(std::move(out)) : out;
}

StreamDetokenizer::StreamDetokenizer(const Tokenizer& tokenizer, bool special,
                                     bool strip_leading_space)
    : tokenizer_(tokenizer), special_(special), strip_space_(strip_leading_space) {}

std::string StreamDetokenizer::Push(TokenId id) {
  std::string_view piece = tokenizer_.TokenToPiece(id, special_);
  if (strip_space_ && !piece.empty()) {
    if (piece.front() == ' ') piece.remove_prefix(1);
    strip_space_ = false;
  }
  pending_.append(piece);
  const size_t complete = CompleteUtf8Prefix(pending_);
  std::string out = pending_.substr(0, complete);
  pending_.erase(0, complete);
  return out;
}

std::string StreamDetokenizer::Flush() {
  std::string out;
  out.swap(pending_);
  return out;
}

}  // namespace mle::text
