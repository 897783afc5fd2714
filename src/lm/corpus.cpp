// Corpus ingestion: input discovery, text checks, line normalization, NFKC, document
// splitting, cutting, the train/validation split, and the output-directory helpers that
// `lm tokenizer` and `lm data` share. The pipeline itself is in data_pipeline.cpp.
#include "lm/corpus.h"

#include <fcntl.h>
#include <unicode/normalizer2.h>
#include <unicode/unistr.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <set>

#include "core/file_util.h"
#include "core/thread_pool.h"
#include "lm/near_dup.h"

namespace mle::lm {
namespace fs = std::filesystem;
namespace {

bool Hidden(const fs::path& p) {
  const std::string name = p.filename().string();
  return !name.empty() && name[0] == '.';
}

// Appends the regular files under `dir`, entries sorted by name, recursing into directories
// (symlinked ones too, each real directory once).
Status ListDir(const fs::path& dir, std::set<std::string>* seen_dirs, std::vector<fs::path>* out) {
  std::error_code ec;
  const std::string real = fs::canonical(dir, ec).string();
  if (ec) return IoError("cannot read directory '" + dir.string() + "': " + ec.message());
  if (!seen_dirs->insert(real).second) return Status::Ok();
  std::vector<fs::path> entries;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    if (!Hidden(it->path())) entries.push_back(it->path());
  }
  if (ec) return IoError("cannot read directory '" + dir.string() + "': " + ec.message());
  std::sort(entries.begin(), entries.end());
  for (const fs::path& e : entries) {
    const fs::file_status st = fs::status(e, ec);  // follows symlinks; a dangling one: skip
    if (ec) continue;
    if (fs::is_directory(st)) {
      MLE_RETURN_IF_ERROR(ListDir(e, seen_dirs, out));
    } else if (fs::is_regular_file(st)) {
      out->push_back(e);
    }
  }
  return Status::Ok();
}

bool IsContinuation(uint8_t b) {
  return (b & 0xC0) == 0x80;
}

// Length of the well-formed UTF-8 sequence at s[i], or 0 when it is malformed.
size_t ValidSeqLen(std::string_view s, size_t i) {
  const auto b0 = static_cast<uint8_t>(s[i]);
  if (b0 < 0x80) return 1;
  size_t len;
  uint32_t cp;
  if (b0 >= 0xC2 && b0 <= 0xDF) {
    len = 2, cp = b0 & 0x1F;
  } else if (b0 >= 0xE0 && b0 <= 0xEF) {
    len = 3, cp = b0 & 0x0F;
  } else if (b0 >= 0xF0 && b0 <= 0xF4) {
    len = 4, cp = b0 & 0x07;
  } else {
    return 0;
  }
  if (i + len > s.size()) return 0;
  for (size_t k = 1; k < len; ++k) {
    const auto b = static_cast<uint8_t>(s[i + k]);
    if (!IsContinuation(b)) return 0;
    cp = (cp << 6) | (b & 0x3F);
  }
  if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10FFFF))) return 0;
  if (cp >= 0xD800 && cp <= 0xDFFF) return 0;
  return len;
}

std::string_view TrimNewlines(std::string_view s) {
  while (!s.empty() && s.front() == '\n') s.remove_prefix(1);
  while (!s.empty() && s.back() == '\n') s.remove_suffix(1);
  return s;
}

bool HasLine(std::string_view text, std::string_view line) {
  for (size_t pos = 0; pos <= text.size();) {
    size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    if (text.substr(pos, end - pos) == line) return true;
    pos = end + 1;
  }
  return false;
}

}  // namespace

Result<std::vector<std::string>> ListInputFiles(const std::vector<std::string>& inputs) {
  if (inputs.empty()) return InvalidArgument("no inputs: give at least one file or directory");
  std::vector<fs::path> files;
  std::set<std::string> seen_dirs;
  for (const std::string& in : inputs) {
    std::error_code ec;
    const fs::file_status st = fs::status(in, ec);
    if (ec || !fs::exists(st)) {
      return NotFound("input '" + in + "' does not exist (give a text file or a directory)");
    }
    if (fs::is_directory(st)) {
      MLE_RETURN_IF_ERROR(ListDir(in, &seen_dirs, &files));
    } else {
      files.emplace_back(in);
    }
  }
  std::vector<std::string> out;
  std::set<std::string> seen_files;
  for (const fs::path& f : files) {
    std::error_code ec;
    std::string real = fs::canonical(f, ec).string();
    if (ec) real = f.string();
    if (seen_files.insert(real).second) out.push_back(f.string());
  }
  return out;
}

TextKind ClassifyText(std::string_view bytes) {
  size_t control = 0;
  for (char c : bytes) {
    const auto b = static_cast<uint8_t>(c);
    if (b == 0) return TextKind::kBinary;
    if ((b < 0x20 && b != '\t' && b != '\n' && b != '\r' && b != '\f' && b != '\v' && b != 0x1B) ||
        b == 0x7F) {
      ++control;
    }
  }
  if (control * 10 > bytes.size() * 3) return TextKind::kBinary;
  for (size_t i = 0; i < bytes.size();) {
    const size_t len = ValidSeqLen(bytes, i);
    if (len == 0) return TextKind::kInvalidUtf8;
    i += len;
  }
  return TextKind::kText;
}

std::string NormalizeLines(std::string_view text) {
  if (text.starts_with("\xEF\xBB\xBF")) text.remove_prefix(3);
  std::string out;
  out.reserve(text.size());
  size_t line_start = 0;  // in out
  auto end_line = [&] {
    size_t e = out.size();
    while (e > line_start &&
           (out[e - 1] == ' ' || out[e - 1] == '\t' || out[e - 1] == '\f' || out[e - 1] == '\v')) {
      --e;
    }
    out.resize(e);
  };
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '\r' || c == '\n') {
      if (c == '\r' && i + 1 < text.size() && text[i + 1] == '\n') ++i;
      end_line();
      out.push_back('\n');
      line_start = out.size();
    } else {
      out.push_back(c);
    }
  }
  end_line();
  return out;
}

Result<std::string> NfkcNormalize(std::string_view text) {
  UErrorCode err = U_ZERO_ERROR;
  const icu::Normalizer2* nfkc = icu::Normalizer2::getNFKCInstance(err);
  if (U_FAILURE(err)) return Internal(std::string("ICU NFKC unavailable: ") + u_errorName(err));
  const icu::UnicodeString src = icu::UnicodeString::fromUTF8(
      icu::StringPiece(text.data(), static_cast<int32_t>(text.size())));
  if (nfkc->isNormalized(src, err) && U_SUCCESS(err)) return std::string(text);
  err = U_ZERO_ERROR;
  const icu::UnicodeString dst = nfkc->normalize(src, err);
  if (U_FAILURE(err)) return Internal(std::string("ICU NFKC failed: ") + u_errorName(err));
  std::string out;
  dst.toUTF8String(out);
  return out;
}

std::vector<std::string_view> SplitDocuments(std::string_view text, std::string_view separator) {
  std::vector<std::string_view> docs;
  std::string_view sep = separator;
  if (separator == "auto") sep = HasLine(text, "%") ? "%" : "";
  if (separator == "none") sep = "";
  auto add = [&](std::string_view d) {
    d = TrimNewlines(d);
    if (!d.empty()) docs.push_back(d);
  };
  if (sep.empty()) {
    add(text);
    return docs;
  }
  size_t doc_start = 0;
  for (size_t pos = 0; pos <= text.size();) {
    size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    if (text.substr(pos, end - pos) == sep) {
      add(text.substr(doc_start, pos - doc_start));
      doc_start = std::min(end + 1, text.size());
    }
    pos = end + 1;
  }
  add(text.substr(doc_start));
  return docs;
}

std::vector<std::string_view> CutAtLines(std::string_view text, size_t max_chars) {
  std::vector<std::string_view> pieces;
  while (!text.empty()) {
    // Walk max_chars characters; remember the last line end inside that window.
    size_t pos = 0, chars = 0, last_nl = std::string_view::npos;
    while (pos < text.size() && chars < max_chars) {
      if (text[pos] == '\n') last_nl = pos;
      ++pos;
      while (pos < text.size() && IsContinuation(static_cast<uint8_t>(text[pos]))) ++pos;
      ++chars;
    }
    // At the last line end, unless that would make a piece of less than half the limit.
    size_t cut = pos;
    if (pos < text.size() && last_nl != std::string_view::npos && 2 * (last_nl + 1) >= pos) {
      cut = last_nl + 1;
    }
    pieces.push_back(text.substr(0, cut));
    text.remove_prefix(cut);
  }
  return pieces;
}

Result<TextFile> ReadTextFileChecked(const std::string& path) {
  MLE_ASSIGN_OR_RETURN(std::string bytes, ReadFile(path));
  TextFile f;
  f.path = path;
  f.kind = ClassifyText(bytes);
  if (f.kind == TextKind::kText) f.text = NormalizeLines(bytes);
  return f;
}

uint64_t SplitHash(std::string_view text, uint32_t seed) {
  return HashBytes(text, 0x53504C4954000000ull ^ seed);  // "SPLIT"
}

bool IsValidationDocument(std::string_view text, uint32_t seed, double val_fraction) {
  const double u = static_cast<double>(SplitHash(text, seed) >> 11) * 0x1.0p-53;
  return u < val_fraction;
}

void ForEachIndex(ThreadPool& pool, size_t n, const std::function<void(size_t)>& fn) {
  std::atomic<size_t> next{0};
  pool.Run([&](int, int) {
    for (size_t i = next++; i < n; i = next++) fn(i);
  });
}

// ---- Output directories ---------------------------------------------------------------

Status CheckOutputDirFree(const std::string& dir) {
  std::error_code ec;
  const fs::file_status st = fs::status(dir, ec);
  if (ec || !fs::exists(st)) return Status::Ok();
  if (fs::is_directory(st) && fs::is_empty(dir, ec) && !ec) return Status::Ok();
  return InvalidArgument("output directory '" + dir +
                         "' exists and is not empty; choose another -o or remove it");
}

Result<std::string> MakeTempDirBeside(const std::string& dir) {
  static std::atomic<uint32_t> counter{0};
  fs::path target = fs::absolute(dir).lexically_normal();
  if (!target.has_filename()) target = target.parent_path();  // "out/" -> "out"
  MLE_RETURN_IF_ERROR(EnsureDir(target.parent_path().string()));
  for (int attempt = 0; attempt < 100; ++attempt) {
    const std::string tmp =
        target.parent_path() / ("." + target.filename().string() + ".tmp-" +
                                std::to_string(getpid()) + "-" + std::to_string(counter++));
    std::error_code ec;
    if (fs::create_directory(tmp, ec)) return tmp;
    if (ec) return IoError("cannot create directory '" + tmp + "': " + ec.message());
  }
  return IoError("cannot create a temp directory beside '" + dir + "'");
}

Status RenameDirIntoPlace(const std::string& tmp, const std::string& dir) {
  auto sync_dir = [](const std::string& d) {
    int fd = ::open(d.c_str(), O_RDONLY | O_DIRECTORY);
    if (fd >= 0) {
      ::fsync(fd);
      ::close(fd);
    }
  };
  sync_dir(tmp);
  fs::path target = fs::absolute(dir).lexically_normal();
  if (!target.has_filename()) target = target.parent_path();
  if (::rename(tmp.c_str(), target.c_str()) != 0) {
    return IoError("cannot move '" + tmp + "' to '" + target.string() +
                   "': " + std::strerror(errno) + " (is it a non-empty directory now?)");
  }
  sync_dir(target.parent_path().string());
  return Status::Ok();
}

}  // namespace mle::lm
