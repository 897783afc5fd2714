// `lm eval`: perplexity on the validation split and exact match on a small fixed set of
// prompts with known continuations (English sayings and C code), written to eval.json and
// the run record.
#include <cctype>
#include <cmath>
#include <sstream>

#include "core/file_util.h"
#include "lm/lm.h"
#include "lm/lm_checkpoint.h"
#include "lm/token_shards.h"
#include "train/run_store.h"
#include "train/torch_env.h"

namespace mle::lm {
namespace {

struct QaItem {
  std::string prompt, answer;
};

// Continuations a model trained on English prose and C headers can learn.
const std::vector<QaItem>& BuiltinQa() {
  static const std::vector<QaItem> items = {
      {"The early bird catches the", "worm"},
      {"Actions speak louder than", "words"},
      {"A penny saved is a penny", "earned"},
      {"Time flies like an", "arrow"},
      {"Where there's a will, there's a", "way"},
      {"All that glitters is not", "gold"},
      {"One, two, three, four,", "five"},
      {"Monday, Tuesday,", "Wednesday"},
      {"#include <stdio", ".h>"},
      {"int main(int argc, char **", "argv"},
      {"#ifndef _STDIO_H\n#define", "_STDIO_H"},
      {"typedef unsigned", "int"},
      {"#ifdef __cplusplus\nextern", "\"C\""},
      {"  for (int i = 0; i < n; i", "++"},
      {"#endif /* __cplusplus", "*/"},
      {"struct", "timespec"},
  };
  return items;
}

Result<std::vector<QaItem>> ReadQa(const std::string& path) {
  MLE_ASSIGN_OR_RETURN(std::string text, ReadFile(path));
  std::vector<QaItem> out;
  std::istringstream in(text);
  std::string line;
  int n = 0;
  while (std::getline(in, line)) {
    ++n;
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    nlohmann::json j = nlohmann::json::parse(line, nullptr, false);
    if (j.is_discarded() || !j.is_object() || !j.contains("prompt") || !j["prompt"].is_string() ||
        !j.contains("answer") || !j["answer"].is_string()) {
      return InvalidArgument("--qa '" + path + "' line " + std::to_string(n) +
                             ": expected a JSON object with string fields prompt and answer");
    }
    out.push_back({j["prompt"].get<std::string>(), j["answer"].get<std::string>()});
  }
  if (out.empty()) return InvalidArgument("--qa '" + path + "' holds no questions");
  return out;
}

std::string Trim(const std::string& s) {
  const size_t b = s.find_first_not_of(" \t\n");
  if (b == std::string::npos) return "";
  return s.substr(b, s.find_last_not_of(" \t\n") - b + 1);
}

// Exact match: the continuation (leading white space dropped) starts with the answer and the
// answer ends at a word boundary.
bool ExactMatch(const std::string& output, const std::string& answer) {
  const size_t b = output.find_first_not_of(" \t");
  if (b == std::string::npos) return false;
  const std::string want = Trim(answer);
  if (output.compare(b, want.size(), want) != 0) return false;
  const size_t end = b + want.size();
  if (end >= output.size()) return true;
  const auto next = static_cast<unsigned char>(output[end]);
  const auto last = static_cast<unsigned char>(want.back());
  return !(std::isalnum(last) && (std::isalnum(next) || next == '_'));
}

}  // namespace

Result<LmEvalResult> Evaluate(const LmEvalOptions& o) {
  if (o.max_tokens < 2) return InvalidArgument("--max-tokens must be >= 2");
  train::SetTorchThreads(o.threads > 0 ? o.threads
                                       : static_cast<int>(std::thread::hardware_concurrency()));
  MLE_ASSIGN_OR_RETURN(LoadedRun run, LoadRun(o.run_dir, o.ckpt));
  const std::string data_dir =
      o.data_dir.empty() ? run.run_config.value("data_dir", std::string()) : o.data_dir;
  MLE_ASSIGN_OR_RETURN(std::unique_ptr<TokenData> data, TokenData::Open(data_dir));
  if (data->tokenizer_sha256() != run.tokenizer->sha256()) {
    return InvalidArgument("data '" + data_dir +
                           "' was tokenized with another tokenizer than the run's; give --data "
                           "made with the run's tokenizer");
  }
  std::vector<QaItem> qa = BuiltinQa();
  if (!o.qa_file.empty()) {
    MLE_ASSIGN_OR_RETURN(qa, ReadQa(o.qa_file));
  }

  LmEvalResult r;
  // Perplexity: non-overlapping windows of context + 1 tokens, 8 per forward pass.
  {
    torch::NoGradGuard no_grad;
    const int64_t t = run.config.context;
    const uint64_t n_val =
        std::min<uint64_t>(data->n_tokens(Split::kVal), static_cast<uint64_t>(o.max_tokens));
    double nll = 0;
    int64_t counted = 0;
    uint64_t pos = 0;
    while (pos + 1 < n_val) {
      const int64_t len = static_cast<int64_t>(std::min<uint64_t>(t, n_val - pos - 1));
      const int64_t rows = std::min<int64_t>(8, static_cast<int64_t>((n_val - pos - 1) / len));
      torch::Tensor buf = torch::empty({rows, len + 1}, torch::kInt64);
      for (int64_t r2 = 0; r2 < rows; ++r2) {
        MLE_RETURN_IF_ERROR(data->Read(Split::kVal, pos + r2 * len, static_cast<size_t>(len + 1),
                                       buf.data_ptr<int64_t>() + r2 * (len + 1)));
      }
      torch::Tensor x = buf.narrow(1, 0, len).contiguous(), y = buf.narrow(1, 1, len).contiguous();
      torch::Tensor logits = run.model->forward(x);
      nll += torch::cross_entropy_loss(logits.view({-1, run.config.vocab_size}), y.view({-1}), {},
                                       at::Reduction::Sum)
                 .item<double>();
      counted += rows * len;
      pos += static_cast<uint64_t>(rows * len);
    }
    r.tokens = counted;
    r.val_loss = counted > 0 ? nll / static_cast<double>(counted) : 0;
    r.perplexity = std::exp(r.val_loss);
  }
  for (const QaItem& item : qa) {
    std::vector<int32_t> prompt = run.tokenizer->Encode(item.prompt, true);
    const int n = static_cast<int>(run.tokenizer->Encode(item.answer, false).size()) + 4;
    std::vector<int32_t> out =
        SampleIds(run.model, prompt, n, SampleParams{true, 0, 0}, 1, run.tokenizer->eos_id());
    QaResult q{item.prompt, item.answer, run.tokenizer->Decode(out), false};
    q.exact = ExactMatch(q.output, item.answer);
    r.qa_correct += q.exact ? 1 : 0;
    r.qa.push_back(std::move(q));
  }
  r.qa_total = static_cast<int>(r.qa.size());

  nlohmann::json qa_json = nlohmann::json::array();
  for (const QaResult& q : r.qa) {
    qa_json.push_back(
        {{"prompt", q.prompt}, {"answer", q.answer}, {"output", q.output}, {"exact", q.exact}});
  }
  nlohmann::json report = {{"checkpoint", run.ckpt_path},
                           {"step", run.meta.value("step", int64_t{0})},
                           {"data_dir", data_dir},
                           {"val_tokens", r.tokens},
                           {"val_loss", r.val_loss},
                           {"perplexity", r.perplexity},
                           {"qa_exact_match", r.qa_total ? double(r.qa_correct) / r.qa_total : 0.0},
                           {"qa_correct", r.qa_correct},
                           {"qa_total", r.qa_total},
                           {"qa", qa_json}};
  r.eval_path = o.run_dir + "/eval.json";
  MLE_RETURN_IF_ERROR(WriteFileAtomic(r.eval_path, report.dump(2) + "\n"));

  const std::string run_id = run.run_config.value("run_id", std::string());
  if (!run_id.empty() && FileExists(o.runs_dir + "/ml-engine.db")) {
    MLE_ASSIGN_OR_RETURN(std::unique_ptr<train::RunStore> store,
                         train::RunStore::Open(o.runs_dir + "/ml-engine.db"));
    MLE_ASSIGN_OR_RETURN(std::optional<train::RunRecord> rec, store->Get(run_id));
    if (rec) {
      nlohmann::json summary = report;
      summary.erase("qa");
      rec->metrics["eval"] = summary;
      MLE_RETURN_IF_ERROR(store->Put(*rec));
    }
  }
  return r;
}

}  // namespace mle::lm
