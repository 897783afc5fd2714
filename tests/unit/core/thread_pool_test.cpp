#include "core/thread_pool.h"

#include <gtest/gtest.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <fstream>
#include <string>
#include <vector>

namespace mle {
namespace {

TEST(ThreadPoolTest, RunCallsEveryThreadOnce) {
  auto pool = ThreadPool::Create(4);
  ASSERT_TRUE(pool.ok()) << pool.status().ToString();
  std::vector<std::atomic<int>> calls(4);
  for (int round = 0; round < 100; ++round) {
    (*pool)->Run([&](int ith, int nth) {
      ASSERT_EQ(nth, 4);
      calls[ith].fetch_add(1);
    });
  }
  for (auto& c : calls) EXPECT_EQ(c.load(), 100);
}

TEST(ThreadPoolTest, ParallelForCoversTheRangeOnce) {
  ThreadPool pool(3);
  std::vector<std::atomic<int>> seen(1001);
  pool.ParallelFor(1001, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) seen[i].fetch_add(1);
  });
  for (auto& s : seen) EXPECT_EQ(s.load(), 1);
}

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define MLE_SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define MLE_SANITIZED 1
#endif
#endif

// Bytes of address space the process maps now (VmSize), 0 if unknown.
uint64_t MappedBytes() {
  std::ifstream f("/proc/self/status");
  std::string key;
  uint64_t kib = 0;
  while (f >> key) {
    if (key == "VmSize:") {
      f >> kib;
      return kib * 1024;
    }
  }
  return 0;
}

// When the system refuses a thread (here: no address space left for its stack), Create says
// so and the process goes on; the constructor alone would leave joinable threads behind and
// end in std::terminate.
TEST(ThreadPoolTest, ThreadsThatCannotStartAreAnErrorNotACrash) {
#ifdef MLE_SANITIZED
  GTEST_SKIP() << "sanitizers reserve address space up front; the limit below would stop them";
#else
  const uint64_t mapped = MappedBytes();
  ASSERT_GT(mapped, 0u);
  const pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    // Room for a few 8 MiB thread stacks, not for 64.
    const rlimit lim{mapped + (32u << 20), mapped + (32u << 20)};
    if (setrlimit(RLIMIT_AS, &lim) != 0) _exit(3);
    auto pool = ThreadPool::Create(64);
    if (pool.ok()) _exit(4);  // the limit did not bite: nothing shown
    const bool named = pool.status().code() == StatusCode::kResourceExhausted &&
                       pool.status().message().find("cannot start 64 threads") != std::string::npos;
    _exit(named ? 0 : 5);
  }
  int wstatus = 0;
  ASSERT_EQ(waitpid(pid, &wstatus, 0), pid);
  ASSERT_TRUE(WIFEXITED(wstatus)) << "the child died of signal " << WTERMSIG(wstatus);
  EXPECT_EQ(WEXITSTATUS(wstatus), 0);
#endif
}

}  // namespace
}  // namespace mle
