// splitmix64: a tiny, fast 64-bit generator whose output function also serves as a hash
// (a bijection of 64-bit values that mixes every input bit into every output bit). Used where
// random numbers must be the same on every platform and standard library (sampling, synthetic
// weights, dropout masks, MinHash) or only need to be unique (request ids); never for secrets.
#pragma once

#include <cstdint>

namespace mle {

// The stream's increment (2^64 / golden ratio, odd).
inline constexpr uint64_t kSplitMixGamma = 0x9E3779B97F4A7C15ull;

// The output function applied to z.
inline uint64_t SplitMixHash(uint64_t z) {
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

// The next number of the stream whose state is `state` (which it advances).
inline uint64_t SplitMixNext(uint64_t& state) {
  return SplitMixHash(state += kSplitMixGamma);
}

}  // namespace mle
