// File helpers (see file_util.h).
#include "core/file_util.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>
#include <sstream>

namespace mle {
namespace {

std::string ErrnoText(int err) {
  return std::strerror(err);
}

Status WriteAll(int fd, std::string_view data, const std::string& path) {
  size_t off = 0;
  while (off < data.size()) {
    ssize_t n = ::write(fd, data.data() + off, data.size() - off);
    if (n < 0) {
      if (errno == EINTR) continue;
      return IoError("cannot write '" + path + "': " + ErrnoText(errno));
    }
    off += static_cast<size_t>(n);
  }
  return Status::Ok();
}

Status FsyncDir(const std::string& dir) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return IoError("cannot open directory '" + dir + "': " + ErrnoText(errno));
  int rc = ::fsync(fd);
  int err = errno;
  ::close(fd);
  if (rc != 0) return IoError("cannot fsync directory '" + dir + "': " + ErrnoText(err));
  return Status::Ok();
}

}  // namespace

Result<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    if (!FileExists(path)) return NotFound("cannot open '" + path + "': no such file");
    return IoError("cannot open '" + path + "': " + ErrnoText(errno));
  }
  std::string data((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) return IoError("cannot read '" + path + "'");
  return data;
}

Status CheckOutputFilePath(const std::string& path) {
  if (path.empty()) return InvalidArgument("no output file given");
  if (IsDirectory(path)) return InvalidArgument("'" + path + "' is a directory; give a file path");
  std::filesystem::path target(path);
  const std::string dir = target.has_parent_path() ? target.parent_path().string() : ".";
  if (!FileExists(dir)) {
    return InvalidArgument("cannot write '" + path + "': the directory '" + dir +
                           "' does not exist (create it first)");
  }
  if (!IsDirectory(dir)) {
    return InvalidArgument("cannot write '" + path + "': '" + dir + "' is not a directory");
  }
  return Status::Ok();
}

Status WriteFileAtomic(const std::string& path, std::string_view data) {
  MLE_RETURN_IF_ERROR(CheckOutputFilePath(path));
  static std::atomic<unsigned> counter{0};
  std::filesystem::path target(path);
  std::string dir = target.has_parent_path() ? target.parent_path().string() : ".";
  std::string tmp =
      path + ".tmp." + std::to_string(::getpid()) + "." + std::to_string(counter.fetch_add(1));
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0) return IoError("cannot create '" + tmp + "': " + ErrnoText(errno));
  Status s = WriteAll(fd, data, tmp);
  if (s.ok() && ::fsync(fd) != 0) s = IoError("cannot fsync '" + tmp + "': " + ErrnoText(errno));
  if (::close(fd) != 0 && s.ok()) s = IoError("cannot close '" + tmp + "': " + ErrnoText(errno));
  if (s.ok() && ::rename(tmp.c_str(), path.c_str()) != 0) {
    s = IoError("cannot rename '" + tmp + "' to '" + path + "': " + ErrnoText(errno));
  }
  if (!s.ok()) {
    ::unlink(tmp.c_str());
    return s;
  }
  return FsyncDir(dir);
}

Status EnsureDir(const std::string& path) {
  std::error_code ec;
  std::filesystem::create_directories(path, ec);
  if (ec) return IoError("cannot create directory '" + path + "': " + ec.message());
  if (!IsDirectory(path)) return IoError("'" + path + "' exists and is not a directory");
  return Status::Ok();
}

bool FileExists(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0;
}

bool IsDirectory(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

Status AppendLine(const std::string& path, std::string_view line) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0) return IoError("cannot open '" + path + "' for append: " + ErrnoText(errno));
  std::string buf(line);
  buf.push_back('\n');
  Status s = WriteAll(fd, buf, path);
  ::close(fd);
  return s;
}

void RemoveStaleTempFiles(const std::string& dir) {
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
    std::string name = entry.path().filename().string();
    if (name.find(".tmp.") != std::string::npos) std::filesystem::remove(entry.path(), ec);
  }
}

Status KeepJsonLines(const std::string& path,
                     const std::function<bool(const nlohmann::json& line)>& keep) {
  if (!FileExists(path)) return Status::Ok();
  MLE_ASSIGN_OR_RETURN(std::string text, ReadFile(path));
  std::istringstream in(text);
  std::string line, kept;
  while (std::getline(in, line)) {
    const nlohmann::json j = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
    if (!j.is_discarded() && keep(j)) kept += line + "\n";
  }
  return WriteFileAtomic(path, kept);
}

Result<std::string> ConfinedPath(const std::string& root, const std::string& requested,
                                 const std::string& what) {
  namespace fs = std::filesystem;
  const std::string hint = " (give a path inside '" + root + "')";
  if (requested.find('\0') != std::string::npos) {
    return InvalidArgument("'" + what + "' must not contain NUL characters");
  }
  const fs::path req(requested);
  for (const auto& part : req) {
    if (part == "..") return InvalidArgument("'" + what + "' must not contain '..'" + hint);
  }
  const fs::path base(root.empty() ? "." : root);
  fs::path full = requested.empty() ? base : (req.is_absolute() ? req : base / req);
  std::error_code ec1, ec2;
  const fs::path canon_root = fs::weakly_canonical(fs::absolute(base), ec1);
  const fs::path canon_full = fs::weakly_canonical(fs::absolute(full), ec2);
  if (ec1 || ec2) return InvalidArgument("'" + what + "': cannot resolve '" + requested + "'");
  auto r = canon_root.begin();
  auto f = canon_full.begin();
  for (; r != canon_root.end(); ++r, ++f) {
    if (r->empty()) continue;  // a trailing separator
    if (f == canon_full.end() || *f != *r) {
      return InvalidArgument("'" + what + "': '" + requested +
                             "' is outside the allowed directory" + hint);
    }
  }
  return full.lexically_normal().string();
}

}  // namespace mle
