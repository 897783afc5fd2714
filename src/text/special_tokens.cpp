// SpecialSplitter: splits special-token texts out of the input before the model tokenizes the
// rest, with llama.cpp's exact precedence (tokenizer_st_partition). A trie pass first finds
// which special tokens occur at all, so text without any costs one scan.
#include <algorithm>
#include <numeric>

#include "text/tokenizer_internal.h"

namespace mle::text::internal {
namespace {

// C isspace() in the "C" locale, which llama.cpp uses for lstrip / rstrip.
bool IsCSpace(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
}

constexpr uint32_t kSpecialAttrs = kAttrControl | kAttrUserDefined | kAttrUnknown;

}  // namespace

void SpecialSplitter::Build(const std::vector<std::string>& texts,
                            const std::vector<uint32_t>& attrs) {
  std::vector<TokenId> ids;
  for (size_t i = 0; i < texts.size(); ++i) {
    if (attrs[i] & kSpecialAttrs) ids.push_back(static_cast<TokenId>(i));
  }
  // Longest first; equal lengths keep id order (llama.cpp's std::sort leaves it unspecified).
  std::stable_sort(ids.begin(), ids.end(),
                   [&](TokenId a, TokenId b) { return texts[a].size() > texts[b].size(); });
  order_ = ids;
  texts_.clear();
  attrs_.clear();
  trie_.assign(1, Node{});
  first_byte_.fill(false);
  for (size_t k = 0; k < order_.size(); ++k) {
    const std::string& t = texts[order_[k]];
    texts_.push_back(t);
    attrs_.push_back(attrs[order_[k]]);
    int32_t node = 0;
    for (char ch : t) {
      auto byte = static_cast<uint8_t>(ch);
      auto& next = trie_[node].next;
      auto it = std::find_if(next.begin(), next.end(), [&](auto& e) { return e.first == byte; });
      if (it == next.end()) {
        trie_.push_back(Node{});
        trie_[node].next.emplace_back(byte, static_cast<int32_t>(trie_.size() - 1));
        node = static_cast<int32_t>(trie_.size() - 1);
      } else {
        node = it->second;
      }
    }
    if (trie_[node].order < 0) trie_[node].order = static_cast<int32_t>(k);
    if (!t.empty()) first_byte_[static_cast<uint8_t>(t[0])] = true;
  }
}

// Marks (by order_ index) every special token that occurs somewhere in `text` and may be
// split out. Splitting only removes occurrences, so this is exactly the set that matters.
void SpecialSplitter::Detect(std::string_view text, bool parse_special,
                             std::vector<uint8_t>* present) const {
  present->assign(order_.size(), 0);
  for (size_t i = 0; i < text.size(); ++i) {
    if (!first_byte_[static_cast<uint8_t>(text[i])]) continue;
    int32_t node = 0;
    for (size_t j = i; j < text.size(); ++j) {
      const auto& next = trie_[node].next;
      auto byte = static_cast<uint8_t>(text[j]);
      auto it = std::find_if(next.begin(), next.end(), [&](auto& e) { return e.first == byte; });
      if (it == next.end()) break;
      node = it->second;
      int32_t k = trie_[node].order;
      if (k < 0) continue;
      // Without parse_special only user-defined tokens split (llama.cpp skips control and
      // unknown tokens; a token that is both user-defined and control counts as control).
      if (parse_special || !(attrs_[k] & (kAttrControl | kAttrUnknown))) (*present)[k] = 1;
    }
  }
}

// Splits every raw fragment at the occurrences of special token order_[k].
void SpecialSplitter::SplitBy(std::string_view text, int32_t k,
                              std::vector<Fragment>* frags) const {
  const std::string_view tok = texts_[k];
  const bool lstrip = attrs_[k] & kAttrLstrip;
  const bool rstrip = attrs_[k] & kAttrRstrip;
  std::vector<Fragment> out;
  out.reserve(frags->size() + 4);
  for (const Fragment& f : *frags) {
    if (f.is_token) {
      out.push_back(f);
      continue;
    }
    const std::string_view region = text.substr(0, f.end);
    size_t pos = f.begin;
    while (pos < f.end) {
      const size_t m = region.find(tok, pos);
      if (m == std::string_view::npos) break;
      size_t left_end = m;
      if (lstrip) {
        while (left_end > pos && IsCSpace(text[left_end - 1])) --left_end;
      }
      if (left_end > pos) out.push_back({false, kNoToken, uint32_t(pos), uint32_t(left_end)});
      out.push_back({true, order_[k], 0, 0});
      pos = m + tok.size();
      if (rstrip) {
        while (pos < f.end && IsCSpace(text[pos])) ++pos;
      }
    }
    if (pos < f.end) out.push_back({false, kNoToken, uint32_t(pos), f.end});
  }
  frags->swap(out);
}

void SpecialSplitter::Partition(std::string_view text, bool parse_special,
                                std::vector<Fragment>* out) const {
  out->clear();
  if (text.empty()) return;
  out->push_back({false, kNoToken, 0, static_cast<uint32_t>(text.size())});
  if (order_.empty()) return;
  std::vector<uint8_t> present;
  Detect(text, parse_special, &present);
  for (size_t k = 0; k < order_.size(); ++k) {
    if (present[k]) SplitBy(text, static_cast<int32_t>(k), out);
  }
}

}  // namespace mle::text::internal
