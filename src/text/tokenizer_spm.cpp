// SentencePiece (BPE-by-score) encoding as llama.cpp's llm_tokenizer_spm does it: start from
// UTF-8 characters, repeatedly merge the adjacent pair whose concatenation is the
// highest-scoring token (leftmost on ties), and spell symbols that are not tokens as <0xXX>
// byte tokens. Lookups hash string_views into the input, so nothing is allocated per pair.
#include <algorithm>
#include <cstring>
#include <queue>

#include "text/tokenizer_internal.h"
#include "text/unicode.h"

namespace mle::text::internal {
namespace {

using Symbol = SpmSymbol;

struct Bigram {
  float score;
  int32_t left;
  int32_t right;
  uint32_t size;
};

// Highest score first; on equal scores the leftmost pair.
struct BigramLess {
  bool operator()(const Bigram& a, const Bigram& b) const {
    return a.score < b.score || (a.score == b.score && a.left > b.left);
  }
};

constexpr std::string_view kEscapedSpace = "\xE2\x96\x81";  // U+2581

// A character pair's bit in SpmModel::pair_bits.
uint64_t PairHash(uint32_t a, uint32_t b) {
  uint64_t k = (uint64_t{a} << 32 | b) * 0x9E3779B97F4A7C15ull;
  return k >> (64 - SpmModel::kPairBitsLog2);
}

// A character's bytes (up to 4) as one integer, to key character pairs.
uint32_t PackChar(std::string_view c) {
  uint32_t v = 0;
  std::memcpy(&v, c.data(), std::min<size_t>(c.size(), 4));
  return v;
}

// One symbol per character, linked in order. llama.cpp takes a character's length from its
// lead byte alone, even when the bytes after it are not continuation bytes; so do we, so
// malformed input tokenizes identically.
std::vector<Symbol> SplitChars(std::string_view text) {
  std::vector<Symbol> sym;
  sym.reserve(text.size());
  for (size_t offs = 0; offs < text.size();) {
    const auto len = static_cast<uint32_t>(
        std::min(Utf8SeqLen(static_cast<uint8_t>(text[offs])), text.size() - offs));
    const auto index = static_cast<int32_t>(sym.size());
    offs += len;
    sym.push_back(
        {index - 1, offs == text.size() ? -1 : index + 1, static_cast<uint32_t>(offs - len), len});
  }
  return sym;
}

}  // namespace

void SpmModel::BuildPairs(const std::vector<std::string>& tokens) {
  pair_bits.assign(kPairBitsWords, 0);
  for (const std::string& t : tokens) {
    size_t prev_start = 0, prev_len = 0;
    for (size_t offs = 0; offs < t.size();) {
      const size_t len = std::min(Utf8SeqLen(static_cast<uint8_t>(t[offs])), t.size() - offs);
      if (prev_len > 0) {
        const uint32_t a = PackChar(std::string_view(t).substr(prev_start, prev_len));
        const uint32_t b = PackChar(std::string_view(t).substr(offs, len));
        const uint64_t h = PairHash(a, b);
        pair_bits[h >> 6] |= uint64_t{1} << (h & 63);
      }
      prev_start = offs;
      prev_len = len;
      offs += len;
    }
  }
}

// llama.cpp's loop: merge the best-scoring pair whose text is a token until none is left.
// Returns the index of the segment's last symbol.
template <typename Queue>
int32_t SpmModel::MergeSegment(std::string_view text, int32_t seg, std::vector<SpmSymbol>* symbols,
                               Queue* queue) const {
  std::vector<Symbol>& sym = *symbols;
  auto try_add = [&](int32_t left, int32_t right) {
    if (left < 0 || right < 0) return;
    const uint32_t size = sym[left].n + sym[right].n;
    const TokenId id = map.Find(text.substr(sym[left].start, size));
    if (id >= 0) queue->push({scores[id], left, right, size});
  };
  int32_t last = seg;
  for (; sym[last].next >= 0; ++last) try_add(last, last + 1);
  while (!queue->empty()) {
    const Bigram b = queue->top();
    queue->pop();
    Symbol& l = sym[b.left];
    Symbol& r = sym[b.right];
    // A stale pair: one side was merged away or grew since the pair was queued.
    if (l.n == 0 || r.n == 0 || l.n + r.n != b.size) continue;
    l.n += r.n;
    r.n = 0;
    l.next = r.next;
    if (r.next >= 0) sym[r.next].prev = b.left;
    try_add(l.prev, b.left);
    try_add(b.left, l.next);
  }
  return last;
}

bool SpmModel::MayPair(uint32_t a, uint32_t b) const {
  const uint64_t h = PairHash(a, b);
  return (pair_bits[h >> 6] >> (h & 63)) & 1;
}

void SpmModel::Encode(std::string_view text, std::vector<TokenId>* out) const {
  std::vector<Symbol> sym = SplitChars(text);
  // Cut the chain where no token contains the two characters on either side: no merge can
  // cross such a point, and merging each segment alone yields what one global queue would
  // (the queue pops each segment's pairs in the same relative order). Small queues are what
  // make this fast.
  for (size_t i = 0; i + 1 < sym.size(); ++i) {
    const uint32_t a = PackChar(text.substr(sym[i].start, sym[i].n));
    const uint32_t b = PackChar(text.substr(sym[i + 1].start, sym[i + 1].n));
    if (!MayPair(a, b)) sym[i].next = sym[i + 1].prev = -1;
  }
  std::vector<Bigram> storage;
  storage.reserve(64);
  std::priority_queue<Bigram, std::vector<Bigram>, BigramLess> queue(BigramLess{},
                                                                     std::move(storage));
  for (int32_t seg = 0; seg < static_cast<int32_t>(sym.size());) {
    const int32_t last = MergeSegment(text, seg, &sym, &queue);
    for (int32_t i = seg; i != -1; i = sym[i].next) {
      EmitSymbol(text.substr(sym[i].start, sym[i].n), out);
    }
    seg = last + 1;
  }
}

void SpmModel::EmitSymbol(std::string_view piece, std::vector<TokenId>* out) const {
  const TokenId id = map.Find(piece);
  if (id >= 0) {
    out->push_back(id);
    return;
  }
  for (char c : piece) {
    const TokenId b = byte_ids[static_cast<uint8_t>(c)];
    if (b >= 0) out->push_back(b);  // llama.cpp aborts when a byte token is missing
  }
}

void TokenizerImpl::EncodeSpm(std::string_view text, const std::vector<Fragment>& frags,
                              std::vector<TokenId>* out) const {
  bool prev_special = true;  // the very first fragment gets the space prefix too
  std::string escaped;
  for (const Fragment& f : frags) {
    if (f.is_token) {
      out->push_back(f.id);
      prev_special = true;
      continue;
    }
    escaped.clear();
    if (config.add_space_prefix && prev_special) escaped.append(kEscapedSpace);
    for (char c : text.substr(f.begin, f.end - f.begin)) {
      if (c == ' ') {
        escaped.append(kEscapedSpace);
      } else {
        escaped.push_back(c);
      }
    }
    spm.Encode(escaped, out);
    prev_special = false;
  }
}

}  // namespace mle::text::internal
