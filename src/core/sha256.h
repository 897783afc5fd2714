// SHA-256 digests (OpenSSL), for checkpoint checksums and download verification.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace mle {

using Sha256Digest = std::array<uint8_t, 32>;

Sha256Digest Sha256(std::string_view data);
// Incremental form for data that arrives in pieces.
class Sha256Hasher {
 public:
  Sha256Hasher();
  ~Sha256Hasher();
  Sha256Hasher(const Sha256Hasher&) = delete;
  Sha256Hasher& operator=(const Sha256Hasher&) = delete;
  void Update(std::string_view data);
  Sha256Digest Finish();

 private:
  void* ctx_;
};
std::string ToHex(const Sha256Digest& digest);

}  // namespace mle
