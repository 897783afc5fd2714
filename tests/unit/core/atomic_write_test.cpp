// Atomic writes: a reader sees the old or the new file, never a mix, even when the writer is
// killed (SIGKILL) in the middle of writing.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <random>

#include "common/subprocess.h"
#include "core/file_util.h"
#include "core/sha256.h"

namespace mle {
namespace {

// Content that verifies itself: 64 hex chars of SHA-256 followed by the body.
std::string SelfChecking(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::string body(n, '\0');
  for (auto& c : body) c = static_cast<char>('a' + rng() % 26);
  return ToHex(Sha256(body)) + body;
}

bool Verifies(const std::string& data) {
  if (data.size() < 64) return false;
  return data.substr(0, 64) == ToHex(Sha256(std::string_view(data).substr(64)));
}

TEST(AtomicWriteTest, WritesAndReplaces) {
  std::string dir = testing::MakeTempDir("mle-atomic");
  std::string path = dir + "/f.bin";
  ASSERT_TRUE(WriteFileAtomic(path, "one").ok());
  EXPECT_EQ(*ReadFile(path), "one");
  ASSERT_TRUE(WriteFileAtomic(path, "two").ok());
  EXPECT_EQ(*ReadFile(path), "two");
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    EXPECT_EQ(e.path().filename(), "f.bin") << "no temp files left behind";
  }
}

TEST(AtomicWriteTest, MissingDirectoryIsAnError) {
  Status s = WriteFileAtomic("/nonexistent-dir-xyz/f.bin", "x");
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("/nonexistent-dir-xyz/f.bin"), std::string::npos);
}

// A directory as the target used to be found only at the final rename, after the temp file
// was written beside it (for "/tmp": "/tmp.tmp.<pid>.0" in "/").
TEST(AtomicWriteTest, DirectoryOrMissingParentIsRefusedBeforeWriting) {
  std::string dir = testing::MakeTempDir("mle-atomic-dir");
  Status s = WriteFileAtomic(dir, "x");
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("is a directory"), std::string::npos) << s.message();
  const auto parent = std::filesystem::path(dir).parent_path();
  for (const auto& e : std::filesystem::directory_iterator(parent)) {
    EXPECT_EQ(
        e.path().filename().string().find(std::filesystem::path(dir).filename().string() + ".tmp."),
        std::string::npos)
        << e.path();
  }
  s = CheckOutputFilePath(dir + "/no/such/f.bin");
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("does not exist (create it first)"), std::string::npos);
  std::ofstream(dir + "/file") << "x";
  s = CheckOutputFilePath(dir + "/file/f.bin");
  EXPECT_NE(s.message().find("is not a directory"), std::string::npos) << s.message();
  EXPECT_TRUE(CheckOutputFilePath(dir + "/f.bin").ok());
  EXPECT_FALSE(CheckOutputFilePath("").ok());
}

TEST(AtomicWriteTest, KilledWriterNeverLeavesCorruptFile) {
  std::string dir = testing::MakeTempDir("mle-atomic-kill");
  std::string path = dir + "/ckpt.bin";
  ASSERT_TRUE(WriteFileAtomic(path, SelfChecking(1000, 0)).ok());
  std::mt19937 rng(7);
  for (int round = 0; round < 20; ++round) {
    pid_t pid = fork();
    if (pid == 0) {
      // Child: rewrite the file over and over with large self-checking contents.
      for (uint32_t i = 1;; ++i) {
        if (!WriteFileAtomic(path, SelfChecking(4 << 20, i)).ok()) _exit(3);
      }
    }
    usleep(20000 + rng() % 150000);
    kill(pid, SIGKILL);
    int status = 0;
    waitpid(pid, &status, 0);
    auto data = ReadFile(path);
    ASSERT_TRUE(data.ok()) << "round " << round;
    ASSERT_TRUE(Verifies(*data)) << "round " << round << ": torn file of " << data->size();
  }
  RemoveStaleTempFiles(dir);
  int files = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    (void)e;
    ++files;
  }
  EXPECT_EQ(files, 1) << "stale temp files are removed";
}

TEST(FileUtilTest, ReadMissingFileNamesIt) {
  auto r = ReadFile("/no/such/file.txt");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kNotFound);
  EXPECT_NE(r.status().message().find("/no/such/file.txt"), std::string::npos);
}

TEST(FileUtilTest, AppendLine) {
  std::string dir = testing::MakeTempDir("mle-append");
  ASSERT_TRUE(AppendLine(dir + "/l.jsonl", "a").ok());
  ASSERT_TRUE(AppendLine(dir + "/l.jsonl", "b").ok());
  EXPECT_EQ(*ReadFile(dir + "/l.jsonl"), "a\nb\n");
}

}  // namespace
}  // namespace mle
