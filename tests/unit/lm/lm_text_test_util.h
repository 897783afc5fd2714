// Helpers for the lm_text tests: temp directories, small files, and real text to train on
// (Debian's fortune files when installed, C headers from /usr/include otherwise too).
#pragma once

#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace mle::lm::testutil {

inline constexpr const char* kFortuneDir = "/usr/share/games/fortunes";

// A fresh directory under $TMPDIR, removed when the object goes away.
class TempDir {
 public:
  explicit TempDir(const std::string& prefix = "lmtext") {
    std::string tmpl = (std::filesystem::temp_directory_path() / (prefix + "-XXXXXX")).string();
    path_ = ::mkdtemp(tmpl.data());
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }
  std::string operator/(const std::string& rel) const { return path_ + "/" + rel; }

 private:
  std::string path_;
};

inline void WriteText(const std::string& path, const std::string& text) {
  std::filesystem::create_directories(std::filesystem::path(path).parent_path());
  std::ofstream(path, std::ios::binary) << text;
}

inline std::string ReadText(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Fortune text files (no .dat indexes, no .u8 symlinks), sorted; empty when not installed.
inline std::vector<std::string> FortuneFiles() {
  std::vector<std::string> out;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(kFortuneDir, ec)) {
    if (e.is_symlink() || e.path().extension() == ".dat") continue;
    if (e.is_regular_file()) out.push_back(e.path().string());
  }
  std::sort(out.begin(), out.end());
  return out;
}

// /usr/include/*.h, sorted.
inline std::vector<std::string> HeaderFiles() {
  std::vector<std::string> out;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator("/usr/include", ec)) {
    if (e.path().extension() == ".h" && e.is_regular_file()) out.push_back(e.path().string());
  }
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace mle::lm::testutil
