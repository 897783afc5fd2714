// Tokenizer training (SentencePiece BPE fed through a SentenceIterator), loading, and the GGUF
// tokenizer metadata. See lm_tokenizer.h for the id layout and why there is no dummy prefix.
#include "lm/lm_tokenizer.h"

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <regex>
#include <thread>
#include <unordered_map>

#include <spdlog/spdlog.h>
#include <nlohmann/json.hpp>

#include "core/file_util.h"
#include "core/sha256.h"
#include "core/splitmix.h"
#include "core/thread_pool.h"
#include "gguf/gguf_writer.h"
#include "lm/corpus.h"
#include "lm/spm.h"
#include "text/vocab.h"

namespace mle::lm {
namespace fs = std::filesystem;

const char* const kChatMlTemplate =
    "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\\n' + "
    "message['content'] + '<|im_end|>' + '\\n'}}{% endfor %}{% if add_generation_prompt %}"
    "{{ '<|im_start|>assistant\\n' }}{% endif %}";

namespace {

constexpr const char* kFormatName = "mle-lm-tokenizer";
constexpr int kFormatVersion = 1;
constexpr const char* kModelFile = "tokenizer.model";
constexpr const char* kJsonFile = "tokenizer.json";
// The pieces with fixed ids 0..8, in id order.
constexpr const char* kSpecialPieces[] = {
    "<unk>",         "<s>",        "</s>",           "<pad>",
    "<|im_start|>",  "<|im_end|>", "<|fim_prefix|>", "<|fim_suffix|>",
    "<|fim_middle|>"};
constexpr int kNumSpecial = 9;
constexpr int kMaxVocabSize = 1 << 20;
// A training sample is a run of whole lines of at most this many characters: long enough for
// pieces that span line ends ("}\n"), short enough that max_sentences samples fit in memory.
constexpr size_t kSampleChars = 512;

int ThreadCount(int threads) {
  return threads > 0 ? threads
                     : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
}

// Reservoir sampling over every sample of every file: keeps at most `capacity`, the same ones
// for the same input and seed.
struct SampleSet {
  std::vector<std::string> kept;
  int64_t seen = 0;
  int64_t files_used = 0;
  int64_t files_skipped = 0;
  uint64_t rng = 0;

  void Offer(std::string_view sample, size_t capacity) {
    ++seen;
    if (kept.size() < capacity) {
      kept.emplace_back(sample);
      return;
    }
    const uint64_t j = static_cast<uint64_t>(
        (static_cast<unsigned __int128>(SplitMixNext(rng)) * static_cast<uint64_t>(seen)) >> 64);
    if (j < capacity) kept[j].assign(sample);
  }
};

// Reads the files in batches (in parallel: validating and normalizing is most of the work),
// then offers their samples in file order, so the sample does not depend on thread count.
Result<SampleSet> CollectSamples(const TokenizerTrainOptions& o) {
  MLE_ASSIGN_OR_RETURN(std::vector<std::string> files, ListInputFiles(o.inputs));
  SampleSet s;
  s.rng = 0x5EED0000ull ^ o.seed;
  ThreadPool pool(ThreadCount(o.threads));
  constexpr size_t kBatchFiles = 64;
  for (size_t b = 0; b < files.size(); b += kBatchFiles) {
    const size_t n = std::min(kBatchFiles, files.size() - b);
    std::vector<Result<TextFile>> batch(n, Internal("not read"));
    ForEachIndex(pool, n, [&](size_t i) { batch[i] = ReadTextFileChecked(files[b + i]); });
    for (Result<TextFile>& f : batch) {
      if (!f.ok()) return f.status();
      if (f->kind != TextKind::kText) {
        ++s.files_skipped;
        continue;
      }
      ++s.files_used;
      for (std::string_view doc : SplitDocuments(f->text, "auto")) {
        for (std::string_view piece : CutAtLines(doc, kSampleChars)) {
          s.Offer(piece, static_cast<size_t>(o.max_sentences));
        }
      }
      f = Internal("done");  // frees the text
    }
  }
  if (s.kept.empty()) {
    return InvalidArgument("no usable text in the inputs: " + std::to_string(s.files_skipped) +
                           " files skipped (binary or invalid UTF-8), " +
                           std::to_string(s.files_used) + " text files without text");
  }
  return s;
}

std::unordered_map<std::string, std::string> TrainerArgs(const TokenizerTrainOptions& o) {
  std::string user_symbols;
  for (int i = 4; i < kNumSpecial; ++i) {
    if (!user_symbols.empty()) user_symbols += ',';
    user_symbols += kSpecialPieces[i];
  }
  return {
      {"model_type", "bpe"},
      {"vocab_size", std::to_string(o.vocab_size)},
      {"byte_fallback", "true"},
      {"character_coverage", "0.9995"},
      {"normalization_rule_name", "identity"},
      {"remove_extra_whitespaces", "false"},
      {"add_dummy_prefix", "false"},
      {"split_digits", "true"},
      {"allow_whitespace_only_pieces", "true"},
      {"unk_id", "0"},
      {"bos_id", "1"},
      {"eos_id", "2"},
      {"pad_id", "3"},
      {"user_defined_symbols", user_symbols},
      // The sampling is ours (deterministic); SentencePiece takes every sample it is given.
      {"input_sentence_size", "0"},
      {"shuffle_input_sentence", "false"},
      {"max_sentence_length", std::to_string(4 * kSampleChars + 16)},
      // The model proto records num_threads, so any other value would change the file (and
      // its SHA-256) with the thread count; 0.1.97's BPE trainer does not use threads anyway.
      {"num_threads", "1"},
      {"minloglevel", "2"},
  };
}

// SentencePiece's vocabulary-size failures, in our words; anything else as it said it.
Status TrainerError(const Status& st, int vocab_size) {
  if (st.code() != StatusCode::kInvalidArgument) return st;  // the module could not be loaded
  const std::string msg = st.message();
  std::smatch m;
  if (std::regex_search(msg, m, std::regex(R"(Please set it to a value <= (\d+))"))) {
    return InvalidArgument("vocab size " + std::to_string(vocab_size) +
                           " is larger than the corpus supports (at most ~" + m[1].str() +
                           "); lower --vocab-size or add text");
  }
  if (std::regex_search(msg, m, std::regex(R"(required_chars\. \d+ vs (\d+))"))) {
    return InvalidArgument("vocab size " + std::to_string(vocab_size) +
                           " is smaller than the corpus needs (at least " + m[1].str() +
                           ": 265 special and byte pieces plus its characters); raise "
                           "--vocab-size");
  }
  return Internal("sentencepiece training failed: " + msg);
}

Status ValidateTrainOptions(const TokenizerTrainOptions& o) {
  if (o.inputs.empty()) return InvalidArgument("lm tokenizer: give at least one --input");
  if (o.vocab_size < kMinVocabSize || o.vocab_size > kMaxVocabSize) {
    return InvalidArgument("--vocab-size must be in [" + std::to_string(kMinVocabSize) + ", " +
                           std::to_string(kMaxVocabSize) + "], got " +
                           std::to_string(o.vocab_size));
  }
  if (o.max_sentences < 1) {
    return InvalidArgument("--max-sentences must be >= 1, got " + std::to_string(o.max_sentences));
  }
  if (o.out_dir.empty()) return InvalidArgument("lm tokenizer: give the output directory (-o)");
  return CheckOutputDirFree(o.out_dir);
}

nlohmann::json TokenizerJson(const TokenizerTrainOptions& o, const TokenizerTrainReport& r,
                             const std::string& model_sha) {
  nlohmann::json inputs = nlohmann::json::array();
  for (const std::string& in : o.inputs) inputs.push_back(fs::absolute(in).lexically_normal());
  nlohmann::json special;
  const char* names[] = {"unk",    "bos",        "eos",        "pad",       "im_start",
                         "im_end", "fim_prefix", "fim_suffix", "fim_middle"};
  for (int i = 0; i < kNumSpecial; ++i) special[names[i]] = i;
  return {
      {"format", kFormatName},
      {"version", kFormatVersion},
      {"type", "sentencepiece-bpe"},
      {"vocab_size", r.vocab_size},
      {"special_tokens", special},
      {"add_bos", true},
      {"add_eos", false},
      {"add_dummy_prefix", false},
      {"byte_fallback", true},
      {"chat_template", kChatMlTemplate},
      {"model_file", kModelFile},
      {"model_sha256", model_sha},
      {"training",
       {{"inputs", inputs},
        {"files_used", r.files_used},
        {"files_skipped", r.files_skipped},
        {"sentences", r.sentences},
        {"max_sentences", o.max_sentences},
        {"seed", o.seed},
        {"character_coverage", 0.9995}}},
  };
}

}  // namespace

Result<TokenizerTrainReport> TrainTokenizer(const TokenizerTrainOptions& o) {
  MLE_RETURN_IF_ERROR(ValidateTrainOptions(o));
  MLE_ASSIGN_OR_RETURN(SampleSet samples, CollectSamples(o));
  TokenizerTrainReport report{o.vocab_size, static_cast<int64_t>(samples.kept.size()),
                              samples.files_used, samples.files_skipped};
  spdlog::info(
      "lm tokenizer: {} samples (of {}) from {} files ({} skipped); training a {}-token "
      "BPE vocabulary",
      report.sentences, samples.seen, report.files_used, report.files_skipped, o.vocab_size);
  // Hands the samples to SentencePiece one by one, freeing each once it has been copied.
  size_t next = 0;
  auto trained = spm::Train(TrainerArgs(o), [&](std::string_view* sentence) {
    if (next > 0) std::string().swap(samples.kept[next - 1]);
    if (next >= samples.kept.size()) return false;
    *sentence = samples.kept[next++];
    return true;
  });
  if (!trained.ok()) return TrainerError(trained.status(), o.vocab_size);
  const std::string& model = *trained;

  const std::string sha = ToHex(Sha256(model));
  const std::string json = TokenizerJson(o, report, sha).dump(2) + "\n";
  MLE_ASSIGN_OR_RETURN(std::string tmp, MakeTempDirBeside(o.out_dir));
  Status s = WriteFileAtomic(tmp + "/" + kModelFile, model);
  if (s.ok()) s = WriteFileAtomic(tmp + "/" + kJsonFile, json);
  if (s.ok()) s = RenameDirIntoPlace(tmp, o.out_dir);
  if (!s.ok()) {
    std::error_code ec;
    fs::remove_all(tmp, ec);
    return s;
  }
  return report;
}

// ---- LmTokenizer ------------------------------------------------------------------------

LmTokenizer::~LmTokenizer() = default;

Result<std::unique_ptr<LmTokenizer>> LmTokenizer::Load(const std::string& tok_dir) {
  const std::string how = " (make one: ml-engine lm tokenizer --input TEXT... -o " + tok_dir + ")";
  if (!IsDirectory(tok_dir)) {
    return NotFound("tokenizer directory '" + tok_dir + "' does not exist" + how);
  }
  const std::string json_path = tok_dir + "/" + kJsonFile;
  const std::string model_path = tok_dir + "/" + kModelFile;
  for (const std::string& p : {json_path, model_path}) {
    if (!FileExists(p)) return NotFound("tokenizer file '" + p + "' is missing" + how);
  }
  MLE_ASSIGN_OR_RETURN(std::string json_text, ReadFile(json_path));
  MLE_ASSIGN_OR_RETURN(std::string model, ReadFile(model_path));
  nlohmann::json j = nlohmann::json::parse(json_text, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object() || j.value("format", "") != kFormatName ||
      j.value("version", 0) != kFormatVersion || !j.contains("vocab_size") ||
      !j["vocab_size"].is_number_integer() || !j.contains("model_sha256")) {
    return Corruption("'" + json_path + "' is not an ml-engine tokenizer.json (format " +
                      kFormatName + " version " + std::to_string(kFormatVersion) + ")" + how);
  }
  const std::string sha = ToHex(Sha256(model));
  if (j["model_sha256"] != sha) {
    return Corruption("'" + model_path + "' has SHA-256 " + sha + " but tokenizer.json records " +
                      j["model_sha256"].dump() + ": the directory is corrupt; train it again");
  }
  auto tok = std::unique_ptr<LmTokenizer>(new LmTokenizer());
  auto sp = spm::Processor::Load(model);
  if (!sp.ok()) {
    if (sp.status().code() != StatusCode::kInvalidArgument) return sp.status();
    return Corruption("'" + model_path +
                      "' is not a SentencePiece model: " + sp.status().message());
  }
  tok->sp_ = std::move(*sp);
  tok->vocab_size_ = tok->sp_->size();
  tok->pieces_.resize(static_cast<size_t>(std::max(0, tok->vocab_size_)));
  for (int i = 0; i < tok->vocab_size_; ++i) tok->pieces_[i] = tok->sp_->IdToPiece(i);
  if (tok->vocab_size_ != j["vocab_size"].get<int>() || tok->vocab_size_ <= kNumSpecial) {
    return Corruption("'" + model_path + "' has " + std::to_string(tok->vocab_size_) +
                      " pieces but tokenizer.json says " + j["vocab_size"].dump());
  }
  for (int i = 0; i < kNumSpecial; ++i) {
    if (tok->pieces_[i] != kSpecialPieces[i]) {
      return Corruption("'" + model_path + "': id " + std::to_string(i) + " is '" +
                        tok->pieces_[i] + "', expected '" + kSpecialPieces[i] + "'");
    }
  }
  tok->chat_template_ = j.value("chat_template", kChatMlTemplate);
  tok->dir_ = fs::absolute(tok_dir).lexically_normal().string();
  while (tok->dir_.size() > 1 && tok->dir_.back() == '/') tok->dir_.pop_back();
  tok->sha256_ = sha;
  return tok;
}

std::vector<int32_t> LmTokenizer::Encode(std::string_view text, bool add_bos) const {
  std::vector<int> ids = sp_->Encode(text);
  if (add_bos) ids.insert(ids.begin(), bos_id());
  return std::vector<int32_t>(ids.begin(), ids.end());
}

std::string LmTokenizer::Decode(std::span<const int32_t> ids) const {
  std::vector<int> kept;
  kept.reserve(ids.size());
  for (int32_t id : ids) {
    if (id >= kNumSpecial && id < vocab_size_) kept.push_back(id);
  }
  return sp_->Decode(kept);
}

const std::string& LmTokenizer::Piece(int32_t id) const {
  return pieces_[id];
}

float LmTokenizer::Score(int32_t id) const {
  return sp_->Score(id);
}

int32_t LmTokenizer::GgufTokenType(int32_t id) const {
  using text::TokenType;
  TokenType t = TokenType::kNormal;
  if (id == unk_id() || sp_->IsUnknown(id)) {
    t = TokenType::kUnknown;
  } else if (id < kNumSpecial || sp_->IsControl(id)) {
    t = TokenType::kControl;  // <s> </s> <pad>, and the chat and FIM markers
  } else if (sp_->IsByte(id)) {
    t = TokenType::kByte;
  } else if (sp_->IsUnused(id)) {
    t = TokenType::kUnused;
  }
  return static_cast<int32_t>(t);
}

Status AddTokenizerToGguf(const LmTokenizer& tok, gguf::GgufWriter& w) {
  const int n = tok.vocab_size();
  std::vector<std::string> tokens(n);
  std::vector<float> scores(n);
  std::vector<int32_t> types(n);
  for (int32_t id = 0; id < n; ++id) {
    tokens[id] = tok.Piece(id);
    scores[id] = tok.Score(id);
    types[id] = tok.GgufTokenType(id);
  }
  w.SetString("tokenizer.ggml.model", "llama");
  w.SetStringArray("tokenizer.ggml.tokens", tokens);
  w.SetFloat32Array("tokenizer.ggml.scores", scores);
  w.SetInt32Array("tokenizer.ggml.token_type", types);
  w.SetUint32("tokenizer.ggml.bos_token_id", static_cast<uint32_t>(tok.bos_id()));
  w.SetUint32("tokenizer.ggml.eos_token_id", static_cast<uint32_t>(tok.eos_id()));
  w.SetUint32("tokenizer.ggml.unknown_token_id", static_cast<uint32_t>(tok.unk_id()));
  w.SetUint32("tokenizer.ggml.padding_token_id", static_cast<uint32_t>(tok.pad_id()));
  w.SetUint32("tokenizer.ggml.eot_token_id", static_cast<uint32_t>(tok.im_end_id()));
  w.SetUint32("tokenizer.ggml.fim_pre_token_id", static_cast<uint32_t>(tok.fim_prefix_id()));
  w.SetUint32("tokenizer.ggml.fim_suf_token_id", static_cast<uint32_t>(tok.fim_suffix_id()));
  w.SetUint32("tokenizer.ggml.fim_mid_token_id", static_cast<uint32_t>(tok.fim_middle_id()));
  w.SetBool("tokenizer.ggml.add_bos_token", true);
  w.SetBool("tokenizer.ggml.add_eos_token", false);
  // Trained without a dummy prefix (see lm_tokenizer.h); llama.cpp's default for "llama" is
  // true, so say it explicitly.
  w.SetBool("tokenizer.ggml.add_space_prefix", false);
  w.SetBool("tokenizer.ggml.remove_extra_whitespaces", false);
  w.SetString("tokenizer.chat_template", tok.chat_template());
  return Status::Ok();
}

}  // namespace mle::lm
