// Byte-level BPE as llama.cpp's llm_tokenizer_bpe does it, on ids instead of strings: token
// texts are decoded from GPT-2's byte-to-unicode alphabet once, so a word's initial symbols
// are its raw bytes, and every merge "a b" becomes (id a, id b) -> (rank, id ab). Strings
// that only merges produce get ids past the vocabulary; a final symbol that is not a token is
// spelled with single-character tokens, as llama.cpp does.
#include <algorithm>
#include <climits>
#include <queue>

#include "text/tokenizer_internal.h"
#include "text/unicode.h"

namespace mle::text::internal {
namespace {

// Words up to this many bytes merge by rescanning a rank array (fast for short words);
// longer ones use a heap, as llama.cpp does for all words. Both pick the lowest rank,
// leftmost first, so they agree.
constexpr size_t kLinearScanMax = 48;

// Per-thread arrays reused from word to word (resizing them allocates only when a word is
// longer than any before it on this thread).
struct MergeArrays {
  std::vector<int32_t> id, next, prev, rank, result, len;
};

// The symbols of one word while it merges: a linked list over byte positions, with the merge
// (rank, result) of each symbol and its right neighbour cached.
class WordMerger {
 public:
  // Initial symbols are bytes, or UTF-8 characters when `chars` is given (the map that
  // names them).
  WordMerger(const PairMap& merges, const std::array<int32_t, 256>& byte_sym, const TokenMap* chars,
             std::string_view w, MergeArrays* a)
      : merges_(merges),
        n_(static_cast<int32_t>(w.size())),
        id_(a->id),
        next_(a->next),
        prev_(a->prev),
        rank_(a->rank),
        result_(a->result),
        len_(a->len) {
    for (auto* v : {&id_, &next_, &prev_, &rank_, &result_, &len_}) v->resize(n_);
    int32_t prev = -1;
    for (int32_t i = 0; i < n_;) {
      int32_t len = 1;
      if (chars == nullptr) {
        id_[i] = byte_sym[static_cast<uint8_t>(w[i])];
      } else {
        len = static_cast<int32_t>(
            std::min<size_t>(Utf8SeqLen(static_cast<uint8_t>(w[i])), w.size() - i));
        id_[i] = chars->Find(w.substr(i, len));
      }
      len_[i] = len;
      prev_[i] = prev;
      next_[i] = i + len < n_ ? i + len : -1;
      prev = i;
      i += len;
    }
    for (int32_t i = 0; i >= 0; i = next_[i]) SetPair(i);
  }

  // Repeatedly merges the lowest-ranked adjacent pair, leftmost first.
  void Run() { static_cast<size_t>(n_) <= kLinearScanMax ? RunScan() : RunHeap(); }

  // Calls emit(symbol id, byte offset, byte length) for each final symbol, in order.
  template <typename Emit>
  void ForEach(Emit emit) const {
    for (int32_t i = 0; i >= 0; i = next_[i]) emit(id_[i], i, len_[i]);
  }

 private:
  void SetPair(int32_t i) {
    rank_[i] = INT_MAX;
    const int32_t j = next_[i];
    if (j < 0 || id_[i] < 0 || id_[j] < 0) return;
    if (const PairMap::Value* v = merges_.Find(id_[i], id_[j])) {
      rank_[i] = v->rank;
      result_[i] = v->result;
    }
  }

  void Merge(int32_t i) {  // i absorbs its right neighbour
    const int32_t r = next_[i];
    id_[i] = result_[i];
    len_[i] += len_[r];
    len_[r] = 0;
    next_[i] = next_[r];
    if (next_[r] >= 0) prev_[next_[r]] = i;
    SetPair(i);
    if (prev_[i] >= 0) SetPair(prev_[i]);
  }

  void RunScan() {
    for (;;) {
      int32_t best = -1;
      int32_t best_rank = INT_MAX;
      for (int32_t i = 0; i >= 0; i = next_[i]) {
        if (rank_[i] < best_rank) best_rank = rank_[i], best = i;
      }
      if (best < 0) return;
      Merge(best);
    }
  }

  struct Entry {
    int32_t rank, left, right, lid, rid;
    bool operator>(const Entry& o) const {
      return rank > o.rank || (rank == o.rank && left > o.left);
    }
  };

  void RunHeap() {
    std::priority_queue<Entry, std::vector<Entry>, std::greater<Entry>> heap;
    auto push = [&](int32_t i) {
      if (i >= 0 && rank_[i] != INT_MAX) heap.push({rank_[i], i, next_[i], id_[i], id_[next_[i]]});
    };
    for (int32_t i = 0; i >= 0; i = next_[i]) push(i);
    while (!heap.empty()) {
      const Entry e = heap.top();
      heap.pop();
      // Stale: a side merged (or was merged away) since this pair was queued.
      if (len_[e.left] == 0 || next_[e.left] != e.right || id_[e.left] != e.lid ||
          id_[e.right] != e.rid) {
        continue;
      }
      Merge(e.left);
      push(e.left);
      push(prev_[e.left]);
    }
  }

  const PairMap& merges_;
  const int32_t n_;
  std::vector<int32_t>&id_, &next_, &prev_, &rank_, &result_, &len_;
};

}  // namespace

Status BpeModel::Build(const Vocab& vocab, const VocabConfig& config) {
  n_vocab = static_cast<int32_t>(vocab.tokens.size());
  byte_level = config.byte_level;
  ignore_merges = config.ignore_merges;
  whole_newline_words = config.pre_type == PreType::kGemma4;
  // Texts as the input will show them: byte-level tokens decoded to raw bytes.
  auto decode = [this](std::string_view text, std::string* out) {
    if (byte_level) return DecodeByteLevel(text, out);
    out->assign(text);
    return true;
  };
  raw.Reserve(vocab.tokens.size() + vocab.merges.size());
  single_char.fill(kNoToken);
  std::string bytes;
  for (int32_t i = 0; i < n_vocab; ++i) {
    const std::string& text = vocab.tokens[i];
    if (decode(text, &bytes)) raw.Insert(bytes, i);
    if (text.size() == 1 && single_char[static_cast<uint8_t>(text[0])] < 0) {
      single_char[static_cast<uint8_t>(text[0])] = i;
    }
  }
  int32_t next_id = n_vocab;
  auto intern = [&](const std::string& s) {
    int32_t id = raw.Insert(s, next_id);
    if (id == next_id) ++next_id;
    return id;
  };
  merges.Reserve(vocab.merges.size());
  std::string left, right;
  for (size_t rank = 0; rank < vocab.merges.size(); ++rank) {
    const std::string& m = vocab.merges[rank];
    const size_t sp = m.find(' ', 1);
    if (sp == std::string::npos) continue;  // malformed: llama.cpp stores a pair that never applies
    // Merges over characters outside the byte alphabet can never apply to encoded text.
    if (!decode(std::string_view(m).substr(0, sp), &left) ||
        !decode(std::string_view(m).substr(sp + 1), &right)) {
      continue;
    }
    const int32_t lid = intern(left);
    const int32_t rid = intern(right);
    const int32_t res = intern(left + right);
    merges.Insert(lid, rid, {static_cast<int32_t>(rank), res});
  }
  for (int b = 0; b < 256; ++b) {
    byte_sym[b] = raw.Find(std::string(1, static_cast<char>(b)));
    const TokenId id = byte_level ? kNoToken : raw.Find(ByteTokenText(static_cast<uint8_t>(b)));
    byte_tokens[b] = id < n_vocab ? id : kNoToken;
  }
  return Status::Ok();
}

void BpeModel::Fallback(std::string_view bytes, std::vector<TokenId>* out) const {
  if (!byte_level) {
    for (char c : bytes) {
      const TokenId id = byte_tokens[static_cast<uint8_t>(c)];
      if (id >= 0) out->push_back(id);
    }
    return;
  }
  // llama.cpp looks up each byte of the symbol's encoded (GPT-2 alphabet) text as a
  // one-byte token; bytes of multi-byte characters find nothing and are dropped.
  for (char c : EncodeByteLevel(bytes)) {
    const TokenId id = single_char[static_cast<uint8_t>(c)];
    if (id >= 0) out->push_back(id);
  }
}

// The shortcuts that skip merging: a word that is one token (ignore_merges, a gemma4 run of
// newlines) and one-byte words. Returns true when the word is done.
bool BpeModel::EmitWhole(std::string_view w, std::vector<TokenId>* out) const {
  const bool newlines = whole_newline_words && w.find_first_not_of('\n') == std::string_view::npos;
  if (!ignore_merges && !newlines && w.size() != 1) return false;
  const int32_t id = w.size() == 1 ? byte_sym[static_cast<uint8_t>(w[0])] : raw.Find(w);
  if (id >= 0 && id < n_vocab) {
    out->push_back(id);
    return true;
  }
  if (w.size() != 1) return false;
  Fallback(w, out);
  return true;
}

void BpeModel::EncodeWord(std::string_view w, std::vector<TokenId>* out) const {
  if (w.empty() || EmitWhole(w, out)) return;
  thread_local MergeArrays arrays;
  WordMerger word(merges, byte_sym, byte_level ? nullptr : &raw, w, &arrays);
  word.Run();
  word.ForEach([&](int32_t id, int32_t start, int32_t len) {
    if (id >= 0 && id < n_vocab) {
      out->push_back(id);
    } else {
      Fallback(w.substr(start, len), out);
    }
  });
}

void TokenizerImpl::EncodeBpe(std::string_view text, const std::vector<Fragment>& frags,
                              std::vector<TokenId>* out) const {
  CpText scratch;
  std::vector<uint32_t> ends;
  std::string normalized;
  std::string escaped;
  for (const Fragment& f : frags) {
    if (f.is_token) {
      out->push_back(f.id);
      continue;
    }
    std::string_view piece = text.substr(f.begin, f.end - f.begin);
    if (config.escape_whitespaces) {
      escaped.clear();
      for (char c : piece) {
        if (c == ' ') {
          escaped.append("\xE2\x96\x81");  // U+2581
        } else {
          escaped.push_back(c);
        }
      }
      piece = escaped;
    }
    if (NormalizeUtf8(piece, &normalized)) piece = normalized;
    ends.clear();
    pre.Split(piece, &scratch, &ends);
    uint32_t begin = 0;
    for (uint32_t end : ends) {
      bpe.EncodeWord(piece.substr(begin, end - begin), out);
      begin = end;
    }
  }
}

}  // namespace mle::text::internal
