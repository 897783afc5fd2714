// Corpus ingestion for the own-LLM pipeline: finding the text files under the inputs, telling
// text from binary, splitting files into documents, normalizing them, and the deterministic
// train/validation split. `lm tokenizer` reads its samples through here; `lm data`
// (PrepareData, below) adds PII scrubbing (pii_scrub.h), duplicate removal (near_dup.h),
// length filters, tokenization and token shards (token_shards.h).
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "lm/pii_scrub.h"

namespace mle {
class ThreadPool;
}

namespace mle::lm {

// Every regular file under `inputs`, in argument order: a file as given, a directory
// recursively with its entries sorted by name (so the order does not depend on the file
// system) and entries whose names begin with '.' left out. A file reached twice (a symlink,
// a repeated argument) is listed once. Errors: InvalidArgument when `inputs` is empty,
// NotFound naming an input that does not exist, IoError when a directory cannot be read.
Result<std::vector<std::string>> ListInputFiles(const std::vector<std::string>& inputs);

enum class TextKind { kText, kBinary, kInvalidUtf8 };

// kBinary: a NUL byte, or more than 30% control bytes (other than \t \n \r \f \v and ESC);
// kInvalidUtf8: not well-formed UTF-8 (overlong forms, surrogates and values above U+10FFFF
// are malformed too); else kText.
TextKind ClassifyText(std::string_view bytes);

// CRLF and lone CR become LF, trailing spaces and tabs of every line are removed, and a
// leading UTF-8 byte order mark is dropped. REQUIRES: valid UTF-8.
std::string NormalizeLines(std::string_view text);

// Unicode NFKC (ICU). Errors: Internal naming ICU's error.
Result<std::string> NfkcNormalize(std::string_view text);

// Splits a file's text into documents. `separator`: "auto" splits at lines that are exactly
// "%" (the fortune file format) when the file has such a line, else keeps the file whole;
// "none" keeps the file whole; any other string splits at lines equal to it. Documents are
// returned without the separator lines; empty ones are dropped.
std::vector<std::string_view> SplitDocuments(std::string_view text, std::string_view separator);

// Cuts `text` into pieces of at most `max_chars` characters (code points), each ending at the
// last line end of its window when that keeps it at least half as long, else at the limit
// (never inside a UTF-8 sequence). Pieces keep their '\n'. REQUIRES: max_chars >= 1.
std::vector<std::string_view> CutAtLines(std::string_view text, size_t max_chars);

// A file read and checked: its text (normalized by NormalizeLines) or why it was skipped.
struct TextFile {
  std::string path;
  TextKind kind = TextKind::kText;
  std::string text;  // empty unless kind == kText
};

// Reads `path` and classifies it. Errors: IoError when it cannot be read.
Result<TextFile> ReadTextFileChecked(const std::string& path);

// True when the document goes to the validation split: a 64-bit hash of (text, seed) mapped
// to [0, 1) is below `val_fraction`. Depends only on the text and seed.
bool IsValidationDocument(std::string_view text, uint32_t seed, double val_fraction);
// The same hash, for tie-breaking (the document with the smallest value is the one moved to
// validation when no document landed there).
uint64_t SplitHash(std::string_view text, uint32_t seed);

// Calls fn(i) for i in [0, n) on the pool's threads, handing out indexes one by one (the
// items, documents or files, differ wildly in size, so contiguous ranges would not balance).
void ForEachIndex(ThreadPool& pool, size_t n, const std::function<void(size_t)>& fn);

// ---- Output directories ---------------------------------------------------------------

// OK when `dir` does not exist or is an empty directory; else InvalidArgument saying to
// choose another or remove it.
Status CheckOutputDirFree(const std::string& dir);
// Creates a fresh directory beside `dir` (same parent, so a rename can move it into place)
// and returns its path. Creates the parent when missing.
Result<std::string> MakeTempDirBeside(const std::string& dir);
// fsyncs `tmp` and renames it to `dir` (which must not exist or be empty), then fsyncs the
// parent. Errors: IoError.
Status RenameDirIntoPlace(const std::string& tmp, const std::string& dir);

// ---- `lm data` --------------------------------------------------------------------------

struct DataOptions {
  std::vector<std::string> inputs;  // files and directories
  std::string tokenizer_dir;        // TOK_DIR from `lm tokenizer`
  std::string out_dir;              // DATA_DIR: must not exist or be empty
  double val_fraction = 0.05;       // in [0, 0.5]
  bool nfkc = false;
  int64_t min_chars = 16;       // shorter documents (after cleaning, in bytes) are dropped
  int64_t max_chars = 1000000;  // longer ones are cut at line ends into pieces of at most this
  std::string doc_separator = "auto";  // see SplitDocuments
  uint32_t seed = 1234;
  bool near_dedup = true;
  uint64_t max_shard_bytes = 64ull << 20;  // per shard file; tests use small values
  int threads = 0;                         // 0 = all hardware threads
  // Progress (stderr in the CLI): called now and then with the files done and the total.
  std::function<void(int64_t files_done, int64_t files_total)> on_progress;
};

struct CleaningReport {
  int64_t files_total = 0;
  int64_t files_read = 0;
  int64_t files_skipped_binary = 0;
  int64_t files_skipped_utf8 = 0;
  int64_t documents_read = 0;
  int64_t documents_kept = 0;
  int64_t documents_too_short = 0;
  int64_t documents_cut = 0;  // longer than max_chars, cut into pieces
  int64_t pieces_from_cuts = 0;
  int64_t duplicates_exact = 0;
  int64_t duplicates_near = 0;
  PiiCounts pii;
  int64_t bytes_kept = 0;
};

struct DataReport {
  CleaningReport cleaning;
  int64_t documents_train = 0;
  int64_t documents_val = 0;
  uint64_t tokens_train = 0;
  uint64_t tokens_val = 0;
  int shards_train = 0;
  int shards_val = 0;
  std::string dtype;  // "uint16" or "uint32"
  std::string out_dir;
};

// Runs the whole pipeline and writes DATA_DIR (token shards + index.json, see token_shards.h)
// atomically: everything goes to a temp directory beside it that is renamed into place at the
// end. Errors (InvalidArgument unless said): no inputs, an input that does not exist
// (NotFound), a missing or broken tokenizer, a non-empty output directory, val_fraction out
// of [0, 0.5], min/max chars out of range, no usable text.
Result<DataReport> PrepareData(const DataOptions& opts);

}  // namespace mle::lm
