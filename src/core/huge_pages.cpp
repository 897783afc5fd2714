#include "core/huge_pages.h"

#include <sys/mman.h>

namespace mle {

void* AllocHugePages(size_t bytes, size_t* rounded) {
  const size_t size = (bytes + kHugePageBytes - 1) & ~(kHugePageBytes - 1);
  if (size < bytes) return nullptr;  // overflow
  void* p = std::aligned_alloc(kHugePageBytes, size);
  // Advice only: EINVAL where transparent huge pages are compiled out changes nothing.
  if (p != nullptr) (void)::madvise(p, size, MADV_HUGEPAGE);
  if (rounded != nullptr) *rounded = p != nullptr ? size : 0;
  return p;
}

}  // namespace mle
