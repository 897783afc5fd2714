// The generation loop (see generator.h). Timing follows llama.cpp's split: the prompt phase
// is the prefill of the tokens the cache did not already hold; the generation phase is
// everything after it (sampling, detokenizing, and one decode per token but the last).
#include "llm/generator.h"

#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>

namespace mle::llm {
namespace {

double MsSince(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace

const char* StopReasonName(StopReason r) {
  switch (r) {
    case StopReason::kEog:
      return "eog";
    case StopReason::kStopString:
      return "stop_string";
    case StopReason::kMaxTokens:
      return "max_tokens";
    case StopReason::kContextFull:
      return "context_full";
    case StopReason::kCancelled:
      return "cancelled";
  }
  return "unknown";
}

// ---- StopStringFilter ------------------------------------------------------------------------

StopStringFilter::StopStringFilter(std::vector<std::string> stops) {
  for (std::string& s : stops) {
    if (!s.empty()) stops_.push_back(std::move(s));
  }
}

std::string StopStringFilter::Push(std::string_view text, bool* stopped) {
  *stopped = stopped_;
  if (stopped_) return "";
  pending_.append(text);
  size_t first = std::string::npos;
  for (const std::string& s : stops_) first = std::min(first, pending_.find(s));
  if (first != std::string::npos) {
    stopped_ = *stopped = true;
    std::string out = pending_.substr(0, first);
    pending_.clear();
    return out;
  }
  // Hold back the longest tail of pending_ that is a proper prefix of some stop string.
  size_t hold = 0;
  for (const std::string& s : stops_) {
    for (size_t n = std::min(s.size() - 1, pending_.size()); n > hold; --n) {
      if (pending_.compare(pending_.size() - n, n, s, 0, n) == 0) {
        hold = n;
        break;
      }
    }
  }
  std::string out = pending_.substr(0, pending_.size() - hold);
  pending_.erase(0, pending_.size() - hold);
  return out;
}

std::string StopStringFilter::Flush() {
  std::string out;
  if (!stopped_) out.swap(pending_);
  return out;
}

// ---- Generator -------------------------------------------------------------------------------

Generator::Generator(Context& ctx, int32_t seq) : ctx_(ctx), seq_(seq) {
  ctx_.SeqTruncate(seq_, 0);
}

void Generator::Reset() {
  ctx_.SeqTruncate(seq_, 0);
  cached_.clear();
}

Status Generator::Prefill(const std::vector<TokenId>& prompt, size_t from) {
  const size_t n_batch = static_cast<size_t>(std::max(1, ctx_.n_batch()));
  Batch batch;
  for (size_t begin = from; begin < prompt.size(); begin += n_batch) {
    const size_t end = std::min(prompt.size(), begin + n_batch);
    batch.Clear();
    for (size_t i = begin; i < end; ++i) {
      batch.Add(prompt[i], static_cast<int32_t>(i), seq_, i + 1 == prompt.size());
    }
    MLE_RETURN_IF_ERROR(ctx_.Decode(batch));
    cached_.insert(cached_.end(), prompt.begin() + begin, prompt.begin() + end);
  }
  return Status::Ok();
}

Status Generator::DecodeOne(TokenId token) {
  Batch batch;
  batch.Add(token, static_cast<int32_t>(cached_.size()), seq_, true);
  MLE_RETURN_IF_ERROR(ctx_.Decode(batch));
  cached_.push_back(token);
  return Status::Ok();
}

Result<GenerateStats> Generator::Generate(const std::vector<TokenId>& prompt,
                                          const GenerateOptions& options,
                                          const TextCallback& on_text) {
  MLE_RETURN_IF_ERROR(ValidateSamplingParams(options.sampling));
  const int32_t n_ctx = ctx_.n_ctx();
  if (prompt.empty()) return InvalidArgument("the prompt is empty (give some text)");
  if (prompt.size() > static_cast<size_t>(n_ctx)) {
    return InvalidArgument("the prompt has " + std::to_string(prompt.size()) +
                           " tokens but the context holds " + std::to_string(n_ctx) +
                           " (shorten the prompt or raise --ctx, up to the model's " +
                           std::to_string(ctx_.model().hparams().n_ctx_train) + ")");
  }
  if (options.n_predict < -1) {
    return InvalidArgument("n_predict (-n) must be >= -1 (-1 = until the end), got " +
                           std::to_string(options.n_predict));
  }
  GenerateStats st;
  st.n_prompt_tokens = static_cast<int32_t>(prompt.size());

  // Reuse the cached prefix; at least the last prompt token is decoded again for its logits.
  size_t n_common = 0;
  while (n_common < cached_.size() && n_common < prompt.size() &&
         cached_[n_common] == prompt[n_common]) {
    ++n_common;
  }
  n_common = std::min(n_common, prompt.size() - 1);
  ctx_.SeqTruncate(seq_, static_cast<int32_t>(n_common));
  cached_.resize(n_common);
  st.n_prompt_reused = static_cast<int32_t>(n_common);

  auto t0 = std::chrono::steady_clock::now();
  if (Status s = Prefill(prompt, n_common); !s.ok()) {
    ctx_.SeqTruncate(seq_, static_cast<int32_t>(cached_.size()));
    return s;
  }
  st.t_prompt_ms = MsSince(t0);
  t0 = std::chrono::steady_clock::now();

  Sampler sampler(options.sampling, n_ctx);
  st.seed = sampler.seed();
  for (TokenId t : prompt) sampler.Accept(t);
  const text::Tokenizer& tok = ctx_.model().tokenizer();
  text::StreamDetokenizer detok(tok, options.render_special, /*strip_leading_space=*/false);
  StopStringFilter filter(options.stop);
  const int32_t n_vocab = ctx_.model().hparams().n_vocab;
  bool stopped = false;
  auto emit = [&](const std::string& piece) {
    if (piece.empty()) return true;
    st.text += piece;
    return !on_text || on_text(piece);
  };

  st.stop_reason = StopReason::kMaxTokens;
  while (options.n_predict < 0 || st.n_generated < options.n_predict) {
    const TokenId token = sampler.Sample(ctx_.Logits(0), n_vocab);
    sampler.Accept(token);
    st.tokens.push_back(token);
    ++st.n_generated;
    if (!options.ignore_eos && tok.IsEog(token)) {
      st.stop_reason = StopReason::kEog;
      break;
    }
    if (!emit(filter.Push(detok.Push(token), &stopped))) {
      st.stop_reason = StopReason::kCancelled;
      break;
    }
    if (stopped) {
      st.stop_reason = StopReason::kStopString;
      break;
    }
    if (options.n_predict >= 0 && st.n_generated >= options.n_predict) break;
    if (cached_.size() >= static_cast<size_t>(n_ctx)) {
      st.stop_reason = StopReason::kContextFull;
      break;
    }
    if (options.cancel && options.cancel->load(std::memory_order_relaxed)) {
      st.stop_reason = StopReason::kCancelled;
      break;
    }
    MLE_RETURN_IF_ERROR(DecodeOne(token));
    ++st.n_decoded;
  }
  if (st.stop_reason != StopReason::kStopString) {
    std::string tail = filter.Push(detok.Flush(), &stopped);
    if (stopped) st.stop_reason = StopReason::kStopString;
    tail += filter.Flush();
    emit(tail);
  }
  st.t_gen_ms = MsSince(t0);
  return st;
}

TokenLogprob ComputeLogprob(const float* logits, int32_t n_vocab, TokenId token, int n_top) {
  float mx = logits[0];
  for (int32_t i = 1; i < n_vocab; ++i) mx = std::max(mx, logits[i]);
  double sum = 0;
  for (int32_t i = 0; i < n_vocab; ++i) sum += std::exp(static_cast<double>(logits[i] - mx));
  const double log_z = static_cast<double>(mx) + std::log(sum);
  TokenLogprob r;
  r.token = token;
  r.logprob = static_cast<float>(logits[token] - log_z);
  n_top = std::clamp(n_top, 0, std::min<int>(kMaxTopLogprobs, n_vocab));
  if (n_top > 0) {
    // One pass keeping the n_top best in order (insertion into a short array): no per-token
    // allocation over the vocabulary on the sampling path.
    auto better = [logits](TokenId a, TokenId b) {
      return logits[a] > logits[b] || (logits[a] == logits[b] && a < b);
    };
    std::array<TokenId, kMaxTopLogprobs> best{};
    int n = 0;
    for (TokenId i = 0; i < n_vocab; ++i) {
      if (n == n_top && !better(i, best[n - 1])) continue;
      int at = n < n_top ? n++ : n - 1;
      while (at > 0 && better(i, best[at - 1])) {
        best[at] = best[at - 1];
        --at;
      }
      best[at] = i;
    }
    for (int i = 0; i < n_top; ++i) {
      r.top.emplace_back(best[i], static_cast<float>(logits[best[i]] - log_z));
    }
  }
  return r;
}

}  // namespace mle::llm
