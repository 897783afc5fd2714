// Duplicate detection for training documents. Exact: a 128-bit hash of the normalized text.
// Near: MinHash signatures over word 5-gram shingles with LSH banding (16 bands of 8 rows), a
// candidate counting as a duplicate when its estimated Jaccard similarity is at least the
// threshold (0.8). Deterministic: fixed hash seeds, the first document seen is the one kept.
#pragma once

#include <array>
#include <cstdint>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

namespace mle::lm {

inline constexpr int kMinHashBands = 16;
inline constexpr int kMinHashRows = 8;
inline constexpr int kMinHashSize = kMinHashBands * kMinHashRows;
inline constexpr int kShingleWords = 5;

using MinHashSignature = std::array<uint32_t, kMinHashSize>;

// A fast 64-bit hash of `data` (not cryptographic), for splits and shingles.
uint64_t HashBytes(std::string_view data, uint64_t seed);

// The MinHash signature of `text`'s word 5-gram shingles (words: runs of non-white-space
// bytes; a text of fewer than 5 words is one shingle). Pure; thread-safe.
MinHashSignature ComputeMinHash(std::string_view text);

// The fraction of equal entries: an estimate of the Jaccard similarity of the shingle sets.
double EstimatedJaccard(const MinHashSignature& a, const MinHashSignature& b);

// Remembers the documents kept so far. Not thread-safe.
class DuplicateFilter {
 public:
  explicit DuplicateFilter(double near_threshold = 0.8) : threshold_(near_threshold) {}

  enum class Verdict { kNew, kExactDuplicate, kNearDuplicate };

  // Checks `text` against the documents kept so far and keeps it when it is new. `signature`
  // is ComputeMinHash(text), or null to skip the near-duplicate check.
  Verdict Add(std::string_view text, const MinHashSignature* signature);

  size_t n_kept() const { return exact_.size(); }

 private:
  struct Hash128 {
    uint64_t lo, hi;
    bool operator==(const Hash128&) const = default;
  };
  struct Hash128Hash {
    size_t operator()(const Hash128& h) const { return h.lo ^ (h.hi * 0x9E3779B97F4A7C15ull); }
  };

  double threshold_;
  std::unordered_set<Hash128, Hash128Hash> exact_;
  std::vector<MinHashSignature> signatures_;  // of the kept documents that had one
  // One map per band: band hash -> index into signatures_ of the first document that had
  // it (later owners of a band are not recorded: it halves the memory, and a document
  // sharing all 8 rows of a band with a non-duplicate is rare).
  std::array<std::unordered_map<uint64_t, uint32_t>, kMinHashBands> bands_;
};

}  // namespace mle::lm
