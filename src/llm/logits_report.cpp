// Prompt logits report (see logits_report.h).
#include "llm/logits_report.h"

#include <algorithm>
#include <cmath>

namespace mle::llm {

PositionLogits SummarizeLogits(const float* logits, int32_t n_vocab, int top_k) {
  PositionLogits p;
  double sum = 0, sum_sq = 0;
  for (int32_t i = 0; i < n_vocab; ++i) {
    sum += logits[i];
    sum_sq += static_cast<double>(logits[i]) * logits[i];
  }
  p.mean = n_vocab ? sum / n_vocab : 0;
  p.rms = n_vocab ? std::sqrt(sum_sq / n_vocab) : 0;
  std::vector<TokenId> ids(n_vocab);
  for (int32_t i = 0; i < n_vocab; ++i) ids[i] = i;
  const int k = std::clamp(top_k, 0, n_vocab);
  std::partial_sort(ids.begin(), ids.begin() + k, ids.end(), [logits](TokenId a, TokenId b) {
    return logits[a] > logits[b] || (logits[a] == logits[b] && a < b);
  });
  for (int i = 0; i < k; ++i) p.top.emplace_back(ids[i], logits[ids[i]]);
  return p;
}

Result<PromptLogits> ComputePromptLogits(Context& ctx, const std::string& prompt,
                                         const std::vector<TokenId>& prompt_tokens, int top_k,
                                         int n_greedy) {
  const size_t n_needed = prompt_tokens.size() + std::max(0, n_greedy - 1);
  if (prompt_tokens.empty()) return InvalidArgument("the prompt is empty (give some text)");
  if (n_needed > static_cast<size_t>(ctx.n_ctx())) {
    return InvalidArgument("the prompt has " + std::to_string(prompt_tokens.size()) +
                           " tokens (plus " + std::to_string(std::max(0, n_greedy)) +
                           " greedy) but the context holds " + std::to_string(ctx.n_ctx()) +
                           " (shorten the prompt or raise --ctx)");
  }
  PromptLogits r;
  r.prompt = prompt;
  r.prompt_tokens = prompt_tokens;
  r.n_vocab = ctx.model().hparams().n_vocab;
  ctx.SeqTruncate(0, 0);
  const size_t n_batch = static_cast<size_t>(std::max(1, ctx.n_batch()));
  Batch batch;
  for (size_t begin = 0; begin < prompt_tokens.size(); begin += n_batch) {
    const size_t end = std::min(prompt_tokens.size(), begin + n_batch);
    batch.Clear();
    for (size_t i = begin; i < end; ++i) batch.Add(prompt_tokens[i], int32_t(i), 0, true);
    MLE_RETURN_IF_ERROR(ctx.Decode(batch));
    for (size_t i = 0; i < end - begin; ++i) {
      r.positions.push_back(SummarizeLogits(ctx.Logits(int(i)), r.n_vocab, top_k));
    }
  }
  for (int step = 0; step < n_greedy; ++step) {
    // The last Decode's last output: the final prompt position, then each greedy token.
    const PositionLogits last = SummarizeLogits(ctx.Logits(ctx.n_outputs() - 1), r.n_vocab, 2);
    const TokenId t = last.top[0].first;
    r.greedy.push_back(t);
    r.greedy_margin.push_back(last.top.size() > 1 ? last.top[0].second - last.top[1].second : 0);
    if (step + 1 == n_greedy) break;
    batch.Clear();
    batch.Add(t, static_cast<int32_t>(prompt_tokens.size() + step), 0, true);
    MLE_RETURN_IF_ERROR(ctx.Decode(batch));
  }
  return r;
}

nlohmann::ordered_json PromptLogitsJson(const std::string& model_name, const std::string& producer,
                                        const std::vector<PromptLogits>& cases, int top_k) {
  nlohmann::ordered_json out;
  out["model"] = model_name;
  out["producer"] = producer;
  out["cases"] = nlohmann::ordered_json::array();
  auto round6 = [](double v) { return std::round(v * 1e6) / 1e6; };
  for (const PromptLogits& c : cases) {
    nlohmann::ordered_json j;
    j["prompt"] = c.prompt;
    j["n_vocab"] = c.n_vocab;
    j["prompt_tokens"] = c.prompt_tokens;
    j["positions"] = nlohmann::ordered_json::array();
    for (const PositionLogits& p : c.positions) {
      nlohmann::ordered_json top = nlohmann::ordered_json::array();
      for (const auto& [id, logit] : p.top) top.push_back({id, round6(logit)});
      j["positions"].push_back(
          {{"top" + std::to_string(top_k), top}, {"mean", round6(p.mean)}, {"rms", round6(p.rms)}});
    }
    if (!c.greedy.empty()) {
      j["greedy"] = c.greedy;
      j["greedy_margin"] = nlohmann::ordered_json::array();
      for (float m : c.greedy_margin) j["greedy_margin"].push_back(round6(m));
    }
    out["cases"].push_back(std::move(j));
  }
  return out;
}

}  // namespace mle::llm
