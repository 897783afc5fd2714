// File helpers: whole-file reads and crash-safe writes. WriteFileAtomic writes to a temp file
// in the same directory, fsyncs it, renames it over the target and fsyncs the directory, so a
// reader (or a process killed mid-write) sees either the old file or the new one, never a mix.
#pragma once

#include <functional>
#include <string>
#include <string_view>

#include <nlohmann/json_fwd.hpp>

#include "core/status.h"

namespace mle {

// Reads a whole file. Errors name the path and the reason (NotFound / IoError).
Result<std::string> ReadFile(const std::string& path);

// Atomically replaces `path` with `data` (see above). Creates no directories.
Status WriteFileAtomic(const std::string& path, std::string_view data);

// Whether a file can be written at `path` before any work goes into it: InvalidArgument when
// the path is empty, is a directory, or its directory does not exist.
Status CheckOutputFilePath(const std::string& path);

// Creates `path` and its parents if missing (mkdir -p).
Status EnsureDir(const std::string& path);

bool FileExists(const std::string& path);
bool IsDirectory(const std::string& path);

// Appends one line (plus '\n') to a file and flushes it; used for JSONL logs.
Status AppendLine(const std::string& path, std::string_view line);

// Rewrites a JSONL log atomically with only the lines `keep` accepts (a resumed run cuts its
// metrics back to its checkpoint). Lines that are not JSON (a torn last line) are dropped. A
// missing file is left missing.
Status KeepJsonLines(const std::string& path,
                     const std::function<bool(const nlohmann::json& line)>& keep);

// A path a request names, confined to `root`: "" means `root` itself; a relative path is
// taken inside `root`; an absolute one must lie inside it. Any ".." component, and any path
// whose existing part resolves (through symlinks) outside `root`, is InvalidArgument naming
// `what`. Returns the path to use (root-joined, not canonicalized).
Result<std::string> ConfinedPath(const std::string& root, const std::string& requested,
                                 const std::string& what);

// Removes leftover temp files ("<name>.tmp.*") of interrupted atomic writes in `dir`.
void RemoveStaleTempFiles(const std::string& dir);

}  // namespace mle
