// Large read-mostly buffers in transparent huge pages.
#ifndef MLE_CORE_HUGE_PAGES_H_
#define MLE_CORE_HUGE_PAGES_H_

#include <cstddef>
#include <cstdlib>
#include <memory>

namespace mle {

inline constexpr size_t kHugePageBytes = size_t{2} << 20;

// Allocates `bytes` rounded up to whole 2 MiB pages, 2 MiB aligned, and asks the kernel to back
// it with transparent huge pages. A stream over such a buffer takes one TLB miss per 2 MiB
// instead of one per 4 KiB. Where huge pages are off, the buffer gets 4 KiB pages as usual.
// Returns nullptr when out of memory; release with std::free. *rounded (if given) receives the
// allocated size.
void* AllocHugePages(size_t bytes, size_t* rounded = nullptr);

struct FreeDeleter {
  void operator()(void* p) const { std::free(p); }
};

}  // namespace mle

#endif  // MLE_CORE_HUGE_PAGES_H_
