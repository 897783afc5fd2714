// TokenMap / PairMap growth and insertion (lookups are inline in the header). Tables stay at
// most half full so probe sequences stay short.
#include "text/token_map.h"

namespace mle::text {
namespace {

size_t PowerOfTwoAtLeast(size_t n) {
  size_t p = 16;
  while (p < n) p <<= 1;
  return p;
}

}  // namespace

void TokenMap::Reserve(size_t n) {
  if (slots_.size() >= 2 * n) return;
  std::vector<Slot> old = std::move(slots_);
  slots_.assign(PowerOfTwoAtLeast(2 * n), Slot{});
  mask_ = slots_.size() - 1;
  for (const Slot& s : old) {
    if (s.id < 0) continue;
    size_t i = s.hash & mask_;
    while (slots_[i].id >= 0) i = (i + 1) & mask_;
    slots_[i] = s;
  }
}

void TokenMap::Grow() {
  Reserve(slots_.empty() ? 8 : slots_.size());
}

int32_t TokenMap::Insert(std::string_view key, int32_t id) {
  if (2 * (n_keys_ + 1) > slots_.size()) Grow();
  const uint64_t h = HashBytes(key.data(), key.size());
  size_t i = h & mask_;
  for (;; i = (i + 1) & mask_) {
    Slot& s = slots_[i];
    if (s.id < 0) break;
    if (s.hash == h && s.len == key.size() && arena_.compare(s.offset, s.len, key) == 0) {
      return s.id;
    }
  }
  Slot& s = slots_[i];
  s.hash = h;
  s.offset = static_cast<uint32_t>(arena_.size());
  s.len = static_cast<uint32_t>(key.size());
  s.id = id;
  arena_.append(key);
  ++n_keys_;
  return id;
}

void PairMap::Reserve(size_t n) {
  if (slots_.size() >= 2 * n) return;
  std::vector<Slot> old = std::move(slots_);
  slots_.assign(PowerOfTwoAtLeast(2 * n), Slot{});
  mask_ = slots_.size() - 1;
  for (const Slot& s : old) {
    if (s.key == kEmpty) continue;
    size_t i = Mix(s.key) & mask_;
    while (slots_[i].key != kEmpty) i = (i + 1) & mask_;
    slots_[i] = s;
  }
}

void PairMap::Grow() {
  Reserve(slots_.size());
}

void PairMap::Insert(int32_t left, int32_t right, Value v) {
  if (2 * (n_keys_ + 1) > slots_.size()) Grow();
  const uint64_t key = Key(left, right);
  size_t i = Mix(key) & mask_;
  while (slots_[i].key != kEmpty) {
    if (slots_[i].key == key) return;
    i = (i + 1) & mask_;
  }
  slots_[i].key = key;
  slots_[i].value = v;
  ++n_keys_;
}

}  // namespace mle::text
