// MinHash near-duplicate detection. Each of the 128 hash functions is an odd multiplier and an
// offset applied to an already well-mixed 64-bit shingle hash (a bijection on 64 bits); the
// top 32 bits are the function's value. Band keys hash the 8 rows of a band.
#include "lm/near_dup.h"

#include <cstring>

#include "core/sha256.h"
#include "core/splitmix.h"

namespace mle::lm {
namespace {

struct MinHashParams {
  uint64_t mul[kMinHashSize];
  uint64_t add[kMinHashSize];
  MinHashParams() {
    uint64_t state = 0x4D494E4841534821ull;  // "MINHASH!": fixed, so results never vary
    for (int i = 0; i < kMinHashSize; ++i) {
      mul[i] = SplitMixNext(state) | 1;
      add[i] = SplitMixNext(state);
    }
  }
};

const MinHashParams& Params() {
  static const MinHashParams params;
  return params;
}

bool IsSpace(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

// FNV-1a over the word's bytes, ASCII letters lowercased, then mixed.
uint64_t WordHash(std::string_view w) {
  uint64_t h = 0xCBF29CE484222325ull;
  for (char c : w) {
    auto b = static_cast<uint8_t>(c);
    if (b >= 'A' && b <= 'Z') b = static_cast<uint8_t>(b + 32);
    h = (h ^ b) * 0x100000001B3ull;
  }
  return SplitMixHash(h);
}

}  // namespace

uint64_t HashBytes(std::string_view data, uint64_t seed) {
  uint64_t h = SplitMixHash(seed ^ (data.size() * kSplitMixGamma));
  size_t i = 0;
  for (; i + 8 <= data.size(); i += 8) {
    uint64_t w;
    std::memcpy(&w, data.data() + i, 8);
    h = SplitMixHash(h ^ w) + kSplitMixGamma;
  }
  uint64_t tail = 0;
  std::memcpy(&tail, data.data() + i, data.size() - i);
  return SplitMixHash(h ^ tail ^ (uint64_t{data.size() - i} << 56));
}

MinHashSignature ComputeMinHash(std::string_view text) {
  std::vector<uint64_t> words;
  for (size_t i = 0; i < text.size();) {
    while (i < text.size() && IsSpace(text[i])) ++i;
    const size_t start = i;
    while (i < text.size() && !IsSpace(text[i])) ++i;
    if (i > start) words.push_back(WordHash(text.substr(start, i - start)));
  }
  MinHashSignature sig;
  sig.fill(UINT32_MAX);
  const size_t n_shingles =
      words.size() < kShingleWords ? (words.empty() ? 0 : 1) : words.size() - kShingleWords + 1;
  const MinHashParams& p = Params();
  for (size_t s = 0; s < n_shingles; ++s) {
    uint64_t h = words[s];
    for (size_t k = 1; k < kShingleWords && s + k < words.size(); ++k)
      h = SplitMixHash(h ^ words[s + k]);
    for (int i = 0; i < kMinHashSize; ++i) {
      const auto v = static_cast<uint32_t>((p.mul[i] * h + p.add[i]) >> 32);
      sig[i] = v < sig[i] ? v : sig[i];
    }
  }
  return sig;
}

double EstimatedJaccard(const MinHashSignature& a, const MinHashSignature& b) {
  int equal = 0;
  for (int i = 0; i < kMinHashSize; ++i) equal += a[i] == b[i];
  return static_cast<double>(equal) / kMinHashSize;
}

DuplicateFilter::Verdict DuplicateFilter::Add(std::string_view text,
                                              const MinHashSignature* signature) {
  const Sha256Digest d = Sha256(text);
  Hash128 h;
  std::memcpy(&h.lo, d.data(), 8);
  std::memcpy(&h.hi, d.data() + 8, 8);
  if (exact_.count(h)) return Verdict::kExactDuplicate;

  uint64_t keys[kMinHashBands];
  if (signature != nullptr) {
    for (int b = 0; b < kMinHashBands; ++b) {
      const std::string_view rows(
          reinterpret_cast<const char*>(signature->data() + b * kMinHashRows),
          kMinHashRows * sizeof(uint32_t));
      keys[b] = HashBytes(rows, static_cast<uint64_t>(b));
      auto it = bands_[b].find(keys[b]);
      if (it != bands_[b].end() &&
          EstimatedJaccard(*signature, signatures_[it->second]) >= threshold_) {
        return Verdict::kNearDuplicate;
      }
    }
  }
  exact_.insert(h);
  if (signature != nullptr) {
    const auto index = static_cast<uint32_t>(signatures_.size());
    signatures_.push_back(*signature);
    for (int b = 0; b < kMinHashBands; ++b) bands_[b].emplace(keys[b], index);
  }
  return Verdict::kNew;
}

}  // namespace mle::lm
