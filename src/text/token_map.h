// Hash tables on the tokenizers' hot paths: TokenMap (byte string -> id, keys copied into one
// arena, lookups by string_view without allocating) and PairMap ((left id, right id) -> BPE
// merge rank and result). Open addressing with linear probing. Built once, then read-only:
// const methods are thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

namespace mle::text {

// 64-bit hash for short byte strings (token texts are mostly under 16 bytes).
inline uint64_t HashBytes(const char* p, size_t n) {
  constexpr uint64_t kMul = 0x9FB21C651E98DF25ull;
  uint64_t h = 0x9E3779B97F4A7C15ull ^ (n * 0xFF51AFD7ED558CCDull);
  while (n >= 8) {
    uint64_t w;
    std::memcpy(&w, p, 8);
    h = (h ^ w) * kMul;
    h ^= h >> 29;
    p += 8;
    n -= 8;
  }
  if (n > 0) {
    uint64_t w = 0;
    std::memcpy(&w, p, n);
    h = (h ^ w) * kMul;
  }
  h ^= h >> 32;
  h *= kMul;
  return h ^ (h >> 29);
}

class TokenMap {
 public:
  // Prepares for about `n` keys (the table grows as needed).
  void Reserve(size_t n);
  // Adds key -> id unless the key is present; returns the id now stored for the key.
  int32_t Insert(std::string_view key, int32_t id);
  // The id of `key`, or -1.
  int32_t Find(std::string_view key) const {
    if (slots_.empty()) return -1;
    const uint64_t h = HashBytes(key.data(), key.size());
    for (size_t i = h & mask_;; i = (i + 1) & mask_) {
      const Slot& s = slots_[i];
      if (s.id < 0) return -1;
      if (s.hash == h && s.len == key.size() &&
          std::memcmp(arena_.data() + s.offset, key.data(), key.size()) == 0) {
        return s.id;
      }
    }
  }
  size_t size() const { return n_keys_; }

 private:
  struct Slot {
    uint64_t hash = 0;
    uint32_t offset = 0;
    uint32_t len = 0;
    int32_t id = -1;  // -1 = empty
  };
  void Grow();

  std::string arena_;
  std::vector<Slot> slots_;
  size_t mask_ = 0;
  size_t n_keys_ = 0;
};

class PairMap {
 public:
  struct Value {
    int32_t rank;
    int32_t result;
  };
  void Reserve(size_t n);
  // Adds (left, right) -> value unless present (the first merge of a pair wins).
  void Insert(int32_t left, int32_t right, Value v);
  // nullptr when the pair does not merge.
  const Value* Find(int32_t left, int32_t right) const {
    const uint64_t key = Key(left, right);
    for (size_t i = Mix(key) & mask_;; i = (i + 1) & mask_) {
      const Slot& s = slots_[i];
      if (s.key == key) return &s.value;
      if (s.key == kEmpty) return nullptr;
    }
  }

 private:
  static constexpr uint64_t kEmpty = ~0ull;
  struct Slot {
    uint64_t key = kEmpty;
    Value value{0, 0};
  };
  static uint64_t Key(int32_t l, int32_t r) { return (uint64_t(uint32_t(l)) << 32) | uint32_t(r); }
  static uint64_t Mix(uint64_t k) {
    k ^= k >> 33;
    k *= 0xFF51AFD7ED558CCDull;
    k ^= k >> 33;
    return k;
  }
  void Grow();

  std::vector<Slot> slots_ = std::vector<Slot>(16);
  size_t mask_ = 15;
  size_t n_keys_ = 0;
};

}  // namespace mle::text
