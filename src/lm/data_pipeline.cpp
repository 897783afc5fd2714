// `lm data`: files -> documents -> cleaned, deduplicated, split, tokenized -> token shards.
// Documents go through in batches: cleaning (NFKC, PII, MinHash) and tokenization run in
// parallel over a batch, the order-dependent steps (duplicate decisions, writing) run in
// order, so the output is the same for any thread count.
#include <algorithm>
#include <filesystem>
#include <optional>
#include <thread>

#include <nlohmann/json.hpp>

#include "core/file_util.h"
#include "core/thread_pool.h"
#include "lm/corpus.h"
#include "lm/lm_tokenizer.h"
#include "lm/near_dup.h"
#include "lm/token_shards.h"

namespace mle::lm {
namespace fs = std::filesystem;
namespace {

constexpr size_t kBatchDocs = 512;
constexpr size_t kBatchBytes = 16u << 20;

struct Doc {
  std::string text;
  int64_t n_chars = 0;
  PiiCounts pii;
  MinHashSignature signature;
  bool keep = false;
  Split split = Split::kTrain;
  uint64_t split_hash = 0;
  std::vector<std::vector<int32_t>> pieces;  // tokens of each piece: <s> ... </s>
};

int64_t CountChars(std::string_view s) {
  int64_t n = 0;
  for (char c : s) n += (static_cast<uint8_t>(c) & 0xC0) != 0x80;
  return n;
}

class Pipeline {
 public:
  Pipeline(const DataOptions& o, const LmTokenizer& tok, TokenShardWriter& writer, int threads)
      : o_(o), tok_(tok), writer_(writer), pool_(threads) {}

  Status AddFile(const std::string& path);
  Status Flush();
  Status Finish();
  DataReport& report() { return r_; }

 private:
  Status Clean(Doc& d) const;
  void Decide(Doc& d);
  void Tokenize(Doc& d) const;
  Status Write(Doc&& d);
  Status WritePieces(Split s, const Doc& d);

  const DataOptions& o_;
  const LmTokenizer& tok_;
  TokenShardWriter& writer_;
  ThreadPool pool_;
  DuplicateFilter dups_;
  std::vector<Doc> batch_;
  size_t batch_bytes_ = 0;
  std::optional<Doc> held_;  // the train document that moves to validation if none lands there
  DataReport r_;
};

Status Pipeline::AddFile(const std::string& path) {
  MLE_ASSIGN_OR_RETURN(TextFile f, ReadTextFileChecked(path));
  if (f.kind == TextKind::kBinary) {
    ++r_.cleaning.files_skipped_binary;
    return Status::Ok();
  }
  if (f.kind == TextKind::kInvalidUtf8) {
    ++r_.cleaning.files_skipped_utf8;
    return Status::Ok();
  }
  ++r_.cleaning.files_read;
  for (std::string_view d : SplitDocuments(f.text, o_.doc_separator)) {
    batch_.emplace_back().text.assign(d);
    batch_bytes_ += d.size();
    ++r_.cleaning.documents_read;
    if (batch_.size() >= kBatchDocs || batch_bytes_ >= kBatchBytes) MLE_RETURN_IF_ERROR(Flush());
  }
  return Status::Ok();
}

Status Pipeline::Clean(Doc& d) const {
  if (o_.nfkc) {
    MLE_ASSIGN_OR_RETURN(std::string n, NfkcNormalize(d.text));
    d.text = NormalizeLines(n);  // NFKC can leave trailing spaces (U+00A0 -> ' ')
  }
  d.text = ScrubPii(d.text, &d.pii);
  d.n_chars = CountChars(d.text);
  if (d.n_chars >= o_.min_chars && o_.near_dedup) d.signature = ComputeMinHash(d.text);
  return Status::Ok();
}

void Pipeline::Decide(Doc& d) {
  CleaningReport& c = r_.cleaning;
  c.pii += d.pii;
  if (d.n_chars < o_.min_chars) {
    ++c.documents_too_short;
    return;
  }
  switch (dups_.Add(d.text, o_.near_dedup ? &d.signature : nullptr)) {
    case DuplicateFilter::Verdict::kExactDuplicate:
      ++c.duplicates_exact;
      return;
    case DuplicateFilter::Verdict::kNearDuplicate:
      ++c.duplicates_near;
      return;
    case DuplicateFilter::Verdict::kNew:
      break;
  }
  d.keep = true;
  ++c.documents_kept;
  c.bytes_kept += static_cast<int64_t>(d.text.size());
  d.split_hash = SplitHash(d.text, o_.seed);
  d.split = IsValidationDocument(d.text, o_.seed, o_.val_fraction) ? Split::kVal : Split::kTrain;
}

void Pipeline::Tokenize(Doc& d) const {
  std::vector<std::string_view> pieces{d.text};
  if (d.n_chars > o_.max_chars) pieces = CutAtLines(d.text, static_cast<size_t>(o_.max_chars));
  for (std::string_view p : pieces) {
    std::vector<int32_t> ids = tok_.Encode(p, /*add_bos=*/true);
    ids.push_back(tok_.eos_id());
    d.pieces.push_back(std::move(ids));
  }
  std::string().swap(d.text);
}

Status Pipeline::WritePieces(Split s, const Doc& d) {
  for (const std::vector<int32_t>& p : d.pieces) {
    MLE_RETURN_IF_ERROR(writer_.AppendDocument(s, p));
    (s == Split::kTrain ? r_.tokens_train : r_.tokens_val) += p.size();
  }
  (s == Split::kTrain ? r_.documents_train : r_.documents_val) += 1;
  if (d.pieces.size() > 1) {
    ++r_.cleaning.documents_cut;
    r_.cleaning.pieces_from_cuts += static_cast<int64_t>(d.pieces.size());
  }
  return Status::Ok();
}

// Holds back the train document with the smallest split hash for as long as no document
// has gone to validation, so that Finish can move it there.
Status Pipeline::Write(Doc&& d) {
  if (d.split == Split::kVal) {
    MLE_RETURN_IF_ERROR(WritePieces(Split::kVal, d));
    if (held_) MLE_RETURN_IF_ERROR(WritePieces(Split::kTrain, *held_));
    held_.reset();
    return Status::Ok();
  }
  if (o_.val_fraction > 0 && r_.documents_val == 0) {
    if (!held_) {
      held_ = std::move(d);
      return Status::Ok();
    }
    if (d.split_hash < held_->split_hash) std::swap(d, *held_);
  }
  return WritePieces(Split::kTrain, d);
}

Status Pipeline::Flush() {
  std::vector<Status> errors(batch_.size());
  ForEachIndex(pool_, batch_.size(), [&](size_t i) { errors[i] = Clean(batch_[i]); });
  for (const Status& s : errors) MLE_RETURN_IF_ERROR(s);
  for (Doc& d : batch_) Decide(d);
  std::erase_if(batch_, [](const Doc& d) { return !d.keep; });
  ForEachIndex(pool_, batch_.size(), [&](size_t i) { Tokenize(batch_[i]); });
  for (Doc& d : batch_) MLE_RETURN_IF_ERROR(Write(std::move(d)));
  batch_.clear();
  batch_bytes_ = 0;
  return Status::Ok();
}

Status Pipeline::Finish() {
  MLE_RETURN_IF_ERROR(Flush());
  if (held_) {
    // No document landed in validation: the held one goes there when it is not the only one.
    const bool to_val = r_.documents_train > 0;
    MLE_RETURN_IF_ERROR(WritePieces(to_val ? Split::kVal : Split::kTrain, *held_));
    held_.reset();
  }
  return Status::Ok();
}

Status ValidateDataOptions(const DataOptions& o) {
  if (o.inputs.empty()) return InvalidArgument("lm data: give at least one --input");
  if (!(o.val_fraction >= 0 && o.val_fraction <= 0.5)) {
    return InvalidArgument("--val-fraction must be in [0, 0.5], got " +
                           std::to_string(o.val_fraction));
  }
  if (o.min_chars < 0) {
    return InvalidArgument("--min-chars must be >= 0, got " + std::to_string(o.min_chars));
  }
  if (o.max_chars < 64 || o.max_chars < o.min_chars) {
    return InvalidArgument("--max-chars must be >= 64 and >= --min-chars, got " +
                           std::to_string(o.max_chars));
  }
  if (o.doc_separator.empty() || o.doc_separator.find('\n') != std::string::npos) {
    return InvalidArgument("--doc-separator must be 'auto', 'none' or one line of text");
  }
  if (o.tokenizer_dir.empty()) return InvalidArgument("lm data: give --tokenizer TOK_DIR");
  if (o.out_dir.empty()) return InvalidArgument("lm data: give the output directory (-o)");
  return CheckOutputDirFree(o.out_dir);
}

nlohmann::json CleaningJson(const CleaningReport& c) {
  return {{"files_total", c.files_total},
          {"files_read", c.files_read},
          {"files_skipped_binary", c.files_skipped_binary},
          {"files_skipped_invalid_utf8", c.files_skipped_utf8},
          {"documents_read", c.documents_read},
          {"documents_kept", c.documents_kept},
          {"documents_too_short", c.documents_too_short},
          {"documents_cut", c.documents_cut},
          {"pieces_from_cuts", c.pieces_from_cuts},
          {"duplicates_exact", c.duplicates_exact},
          {"duplicates_near", c.duplicates_near},
          {"pii",
           {{"emails", c.pii.emails},
            {"phones", c.pii.phones},
            {"ips", c.pii.ips},
            {"numbers", c.pii.numbers}}},
          {"bytes_kept", c.bytes_kept}};
}

nlohmann::json IndexJson(const DataOptions& o, const LmTokenizer& tok, const DataReport& r,
                         nlohmann::json splits) {
  return {{"format", kShardFormatName},
          {"version", kShardFormatVersion},
          {"dtype", r.dtype},
          {"vocab_size", tok.vocab_size()},
          {"tokenizer", {{"dir", tok.dir()}, {"sha256", tok.sha256()}}},
          {"splits", std::move(splits)},
          {"totals",
           {{"n_tokens", r.tokens_train + r.tokens_val},
            {"n_documents", r.documents_train + r.documents_val}}},
          {"cleaning", CleaningJson(r.cleaning)},
          {"options",
           {{"val_fraction", o.val_fraction},
            {"nfkc", o.nfkc},
            {"min_chars", o.min_chars},
            {"max_chars", o.max_chars},
            {"doc_separator", o.doc_separator},
            {"seed", o.seed},
            {"near_dedup", o.near_dedup}}}};
}

std::string NoTextMessage(const DataOptions& o, const CleaningReport& c) {
  std::string inputs;
  for (size_t i = 0; i < o.inputs.size() && i < 3; ++i) inputs += (i ? ", " : "") + o.inputs[i];
  if (o.inputs.size() > 3) inputs += ", ...";
  const int64_t skipped = c.files_skipped_binary + c.files_skipped_utf8;
  std::string msg = "no usable text in " + inputs + ": " + std::to_string(skipped) +
                    " files skipped (binary or invalid UTF-8)";
  if (c.documents_read > 0) {
    msg += ", " + std::to_string(c.documents_too_short) + " of " +
           std::to_string(c.documents_read) + " documents shorter than --min-chars " +
           std::to_string(o.min_chars);
  }
  return msg;
}

Result<DataReport> RunInto(const DataOptions& o, const LmTokenizer& tok,
                           const std::vector<std::string>& files, const std::string& tmp) {
  MLE_ASSIGN_OR_RETURN(std::unique_ptr<TokenShardWriter> writer,
                       TokenShardWriter::Create(tmp, tok.vocab_size(), o.max_shard_bytes));
  const int threads = o.threads > 0
                          ? o.threads
                          : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  Pipeline p(o, tok, *writer, threads);
  p.report().cleaning.files_total = static_cast<int64_t>(files.size());
  for (size_t i = 0; i < files.size(); ++i) {
    MLE_RETURN_IF_ERROR(p.AddFile(files[i]));
    if (o.on_progress)
      o.on_progress(static_cast<int64_t>(i + 1), static_cast<int64_t>(files.size()));
  }
  MLE_RETURN_IF_ERROR(p.Finish());
  DataReport r = p.report();
  if (r.cleaning.documents_kept == 0) return InvalidArgument(NoTextMessage(o, r.cleaning));
  MLE_ASSIGN_OR_RETURN(nlohmann::json splits, writer->Finish());
  r.dtype = ShardDtypeFor(tok.vocab_size());
  r.shards_train = static_cast<int>(splits["train"]["shards"].size());
  r.shards_val = static_cast<int>(splits["val"]["shards"].size());
  MLE_RETURN_IF_ERROR(
      WriteFileAtomic(tmp + "/index.json", IndexJson(o, tok, r, std::move(splits)).dump(2) + "\n"));
  return r;
}

}  // namespace

Result<DataReport> PrepareData(const DataOptions& o) {
  MLE_RETURN_IF_ERROR(ValidateDataOptions(o));
  MLE_ASSIGN_OR_RETURN(std::unique_ptr<LmTokenizer> tok, LmTokenizer::Load(o.tokenizer_dir));
  MLE_ASSIGN_OR_RETURN(std::vector<std::string> files, ListInputFiles(o.inputs));
  MLE_ASSIGN_OR_RETURN(std::string tmp, MakeTempDirBeside(o.out_dir));
  Result<DataReport> r = RunInto(o, *tok, files, tmp);
  Status s = r.ok() ? RenameDirIntoPlace(tmp, o.out_dir) : r.status();
  if (!s.ok()) {
    std::error_code ec;
    fs::remove_all(tmp, ec);
    return s;
  }
  r->out_dir = fs::absolute(o.out_dir).lexically_normal().string();
  return r;
}

}  // namespace mle::lm
