// The LLM routes: the original API (POST /llm/generate, /llm/generate/stream, GET /llm/models,
// POST /llm/models/{name}/load|unload) and the OpenAI-compatible one (GET /v1/models,
// POST /v1/chat/completions, POST /v1/completions), streaming as OpenAI does. Every request
// goes to the model's Scheduler (continuous batching); the prefix cache is keyed by API key.
#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <future>

#include "llm/chat_session.h"
#include "server/json_body.h"
#include "server/presets.h"
#include "server/routes.h"

namespace mle::server {
namespace {

using nlohmann::json;
using Clock = std::chrono::system_clock;
// Generated text may hold invalid UTF-8 (byte tokens); JSON gets U+FFFD in its place.
constexpr auto kReplace = nlohmann::json::error_handler_t::replace;

int64_t UnixNow() {
  return std::chrono::duration_cast<std::chrono::seconds>(Clock::now().time_since_epoch()).count();
}

const char* FinishReason(llm::StopReason r) {
  switch (r) {
    case llm::StopReason::kMaxTokens:
    case llm::StopReason::kContextFull:
      return "length";
    default:
      return "stop";
  }
}

// What a request asks of the generator, read from OpenAI-style or original-API fields.
struct GenRequest {
  std::string model;
  llm::GenerateOptions gen;
  int64_t n = 1;
  bool stream = false;
  bool include_usage = false;
};

// Reads "preset" (or takes the server's default preset): its values become the defaults that
// the request's own fields override.
Result<const Preset*> ReadPreset(JsonBody& b, const PresetStore& presets,
                                 const std::string& default_preset) {
  std::string name = default_preset;
  MLE_RETURN_IF_ERROR(b.String("preset", &name, false, 128));
  if (name.empty()) return static_cast<const Preset*>(nullptr);
  auto p = presets.Find(name);
  if (!p.ok()) return InvalidArgument("'preset': " + p.status().message());
  return *p;
}

Status ReadSampling(JsonBody& b, GenRequest* g, bool openai, const Preset* preset) {
  auto& s = g->gen.sampling;
  // OpenAI's defaults differ from llama.cpp's: temperature 1, no top-k/min-p cut.
  if (openai) {
    s.temperature = 1.0f;
    s.top_k = 0;
    s.min_p = 0.0f;
    s.top_p = 1.0f;
  }
  if (preset) {
    if (preset->temperature) s.temperature = static_cast<float>(*preset->temperature);
    if (preset->top_p) s.top_p = static_cast<float>(*preset->top_p);
    if (preset->min_p) s.min_p = static_cast<float>(*preset->min_p);
    if (preset->repeat_penalty) s.repeat_penalty = static_cast<float>(*preset->repeat_penalty);
    if (preset->top_k) s.top_k = static_cast<int32_t>(*preset->top_k);
    if (preset->seed) s.seed = *preset->seed;
    if (preset->max_tokens) g->gen.n_predict = static_cast<int32_t>(*preset->max_tokens);
    if (g->model.empty()) g->model = preset->model;
  }
  double temperature = s.temperature, top_p = s.top_p, min_p = s.min_p;
  double presence = s.presence_penalty, frequency = s.frequency_penalty;
  double repeat = s.repeat_penalty;
  int64_t top_k = s.top_k, seed = s.seed, max_tokens = g->gen.n_predict;
  MLE_RETURN_IF_ERROR(b.Double("temperature", &temperature, 0, 2));
  MLE_RETURN_IF_ERROR(b.Double("top_p", &top_p, 0, 1));
  MLE_RETURN_IF_ERROR(b.Double("min_p", &min_p, 0, 1));
  MLE_RETURN_IF_ERROR(b.Int("top_k", &top_k, 0, 1 << 20));
  MLE_RETURN_IF_ERROR(b.Double("presence_penalty", &presence, -2, 2));
  MLE_RETURN_IF_ERROR(b.Double("frequency_penalty", &frequency, -2, 2));
  MLE_RETURN_IF_ERROR(b.Double("repeat_penalty", &repeat, 0, 10));
  MLE_RETURN_IF_ERROR(b.Int("seed", &seed, -1, (int64_t{1} << 53) - 1));
  MLE_RETURN_IF_ERROR(b.Int("max_tokens", &max_tokens, -1, 1 << 20));
  MLE_RETURN_IF_ERROR(b.Bool("ignore_eos", &g->gen.ignore_eos));
  if (!openai) MLE_RETURN_IF_ERROR(b.Int("n_predict", &max_tokens, -1, 1 << 20));
  if (const json* stop = b.Raw("stop")) {
    if (stop->is_string()) {
      g->gen.stop = {stop->get<std::string>()};
    } else if (stop->is_array() && stop->size() <= 16) {
      for (const auto& e : *stop) {
        if (!e.is_string()) return InvalidArgument("'stop' must be a string or strings");
        g->gen.stop.push_back(e.get<std::string>());
      }
    } else if (!stop->is_null()) {
      return InvalidArgument("'stop' must be a string or an array of at most 16 strings");
    }
  }
  s.temperature = static_cast<float>(temperature);
  s.top_p = static_cast<float>(top_p);
  s.min_p = static_cast<float>(min_p);
  s.top_k = static_cast<int32_t>(top_k);
  s.presence_penalty = static_cast<float>(presence);
  s.frequency_penalty = static_cast<float>(frequency);
  s.repeat_penalty = static_cast<float>(repeat);
  s.seed = seed;
  g->gen.n_predict = static_cast<int32_t>(max_tokens);
  return llm::ValidateSamplingParams(s);
}

Status ReadOpenAiCommon(JsonBody& b, GenRequest* g, const Preset* preset) {
  MLE_RETURN_IF_ERROR(b.String("model", &g->model, false, 256));
  MLE_RETURN_IF_ERROR(ReadSampling(b, g, /*openai=*/true, preset));
  MLE_RETURN_IF_ERROR(b.Int("n", &g->n, 1, 8));
  MLE_RETURN_IF_ERROR(b.Bool("stream", &g->stream));
  if (const json* so = b.Raw("stream_options"); so && !so->is_null()) {
    if (!so->is_object()) return InvalidArgument("'stream_options' must be an object");
    for (const auto& [k, v] : so->items()) {
      if (k != "include_usage" || !v.is_boolean()) {
        return InvalidArgument("'stream_options' accepts only include_usage (a boolean)");
      }
      g->include_usage = v.get<bool>();
    }
  }
  if (g->stream && g->n > 1) {
    return InvalidArgument("'n' above 1 cannot be streamed; drop 'stream' or use n = 1");
  }
  // Accepted for compatibility and ignored: they do not change the output.
  for (const char* f : {"user", "logit_bias"}) (void)b.Raw(f);
  return Status::Ok();
}

// Chat: "logprobs": true and "top_logprobs": 0..20. Completions (legacy): "logprobs": 0..5,
// the number of alternatives.
Status ReadLogprobs(JsonBody& b, GenRequest* g, bool chat) {
  const json* lp = b.Raw("logprobs");
  const json* top = b.Raw("top_logprobs");
  if (chat) {
    if (lp && !lp->is_null() && !lp->is_boolean()) {
      return InvalidArgument("'logprobs' must be true or false");
    }
    const bool on = lp && lp->is_boolean() && lp->get<bool>();
    int64_t n_top = 0;
    if (top && !top->is_null()) {
      if (!top->is_number_integer() || top->get<int64_t>() < 0 ||
          top->get<int64_t>() > llm::kMaxTopLogprobs) {
        return InvalidArgument("'top_logprobs' must be an integer from 0 to 20");
      }
      if (!on) return InvalidArgument("'top_logprobs' needs \"logprobs\": true");
      n_top = top->get<int64_t>();
    }
    g->gen.n_logprobs = on ? static_cast<int32_t>(n_top) : -1;
    return Status::Ok();
  }
  if (top && !top->is_null()) {
    return InvalidArgument("'top_logprobs' is a chat field; completions take 'logprobs': 0..5");
  }
  if (lp && !lp->is_null()) {
    if (!lp->is_number_integer() || lp->get<int64_t>() < 0 || lp->get<int64_t>() > 5) {
      return InvalidArgument("'logprobs' must be an integer from 0 to 5 (alternatives per token)");
    }
    g->gen.n_logprobs = static_cast<int32_t>(lp->get<int64_t>());
  }
  return Status::Ok();
}

json TokenBytes(std::string_view piece) {
  json bytes = json::array();
  for (char c : piece) bytes.push_back(static_cast<unsigned char>(c));
  return bytes;
}

// OpenAI's chat shape: {"content": [{token, logprob, bytes, top_logprobs: [...]}, ...]}.
json ChatLogprobs(const text::Tokenizer& tok, const std::vector<llm::TokenLogprob>& lps) {
  json content = json::array();
  for (const auto& lp : lps) {
    const std::string piece(tok.TokenToPiece(lp.token, false));
    json top = json::array();
    for (const auto& [id, v] : lp.top) {
      const std::string p(tok.TokenToPiece(id, false));
      top.push_back({{"token", p}, {"logprob", v}, {"bytes", TokenBytes(p)}});
    }
    content.push_back({{"token", piece},
                       {"logprob", lp.logprob},
                       {"bytes", TokenBytes(piece)},
                       {"top_logprobs", top}});
  }
  return {{"content", content}};
}

// The completions (legacy) shape: tokens, token_logprobs, top_logprobs (a map per token),
// text_offset (from *offset, the characters before the first token; advanced past the last).
json CompletionLogprobs(const text::Tokenizer& tok, const std::vector<llm::TokenLogprob>& lps,
                        size_t* offset) {
  json tokens = json::array(), values = json::array(), tops = json::array(),
       offsets = json::array();
  for (const auto& lp : lps) {
    const std::string piece(tok.TokenToPiece(lp.token, false));
    tokens.push_back(piece);
    values.push_back(lp.logprob);
    json top = json::object();
    for (const auto& [id, v] : lp.top) top[std::string(tok.TokenToPiece(id, false))] = v;
    tops.push_back(top);
    offsets.push_back(*offset);
    *offset += piece.size();
  }
  return {{"tokens", tokens},
          {"token_logprobs", values},
          {"top_logprobs", tops},
          {"text_offset", offsets}};
}

json LogprobsOrNull(bool wanted, json value) {
  return wanted ? std::move(value) : json(nullptr);
}

Status StreamingDisabled() {
  return InvalidArgument("streaming is disabled on this server (serving.streaming); drop 'stream'");
}

json Usage(const llm::GenerateStats& st) {
  return {{"prompt_tokens", st.n_prompt_tokens},
          {"completion_tokens", st.n_generated},
          {"total_tokens", st.n_prompt_tokens + st.n_generated},
          {"prompt_tokens_details", {{"cached_tokens", st.n_prompt_reused}}}};
}

json Timings(const llm::GenerateStats& st, const llm::RequestTimings& t) {
  const int32_t prefilled = st.n_prompt_tokens - st.n_prompt_reused;
  return {{"queue_ms", t.queue_ms},
          {"ttft_ms", t.ttft_ms},
          {"prompt_n", prefilled},
          {"prompt_ms", t.prompt_ms},
          {"prompt_per_second", t.prompt_ms > 0 ? prefilled * 1000.0 / t.prompt_ms : 0.0},
          {"predicted_n", st.n_generated},
          {"predicted_ms", t.gen_ms},
          {"predicted_per_second",
           t.gen_ms > 0 && st.n_generated > 1 ? (st.n_generated - 1) * 1000.0 / t.gen_ms : 0.0}};
}

struct Done {
  Status status;
  llm::GenerateStats stats;
  llm::RequestTimings timings;
};

std::string Dump(const json& j) {
  return j.dump(-1, ' ', false, kReplace);
}

// The fields every chunk of one OpenAI stream repeats.
struct StreamHead {
  std::string id, object, model;
  int64_t created = 0;
  json With(json choices) const {
    return {{"id", id},
            {"object", object},
            {"created", created},
            {"model", model},
            {"choices", std::move(choices)}};
  }
};

// The end of an OpenAI stream: `last` (the chunk with finish_reason) or an error event, the
// usage chunk when asked for, then [DONE].
void EndOpenAiStream(ChunkStream& stream, const StreamHead& head, const Done& d, json last,
                     bool include_usage) {
  if (!d.status.ok()) {
    stream.Write(SseEvent(StatusResponse(d.status).body, "error"));
  } else {
    stream.Write(SseEvent(Dump(last)));
    if (include_usage) {
      json u = head.With(json::array());
      u["usage"] = Usage(d.stats);
      stream.Write(SseEvent(Dump(u)));
    }
  }
  stream.Write(SseEvent("[DONE]"));
  stream.Close();
}

class LlmRoutes {
 public:
  LlmRoutes(Server& server, ModelPool& pool, const PresetStore& presets,
            const LlmRoutesOptions& options)
      : server_(server),
        pool_(pool),
        presets_(presets),
        default_preset_(options.default_preset),
        streaming_(options.streaming) {
    auto& m = server_.metrics();
    ttft_ = m.Histogram("mle_llm_time_to_first_token_seconds", "time to first token", {"model"},
                        LatencyBuckets());
    itl_ =
        m.Histogram("mle_llm_inter_token_latency_seconds",
                    "mean time between generated tokens, per request", {"model"}, LatencyBuckets());
    prompt_tokens_ = m.Counter("mle_llm_prompt_tokens_total", "prompt tokens", {"model"});
    cached_tokens_ = m.Counter("mle_llm_prompt_tokens_cached_total",
                               "prompt tokens served from the prefix "
                               "cache",
                               {"model"});
    gen_tokens_ = m.Counter("mle_llm_generated_tokens_total", "generated tokens", {"model"});
    requests_ = m.Counter("mle_llm_requests_total", "generation requests by outcome",
                          {"model", "finish_reason"});
    auto sum = [this](auto field) {
      return [this, field] {
        double v = 0;
        for (const auto& lm : pool_.Loaded()) v += field(lm->scheduler->stats());
        return v;
      };
    };
    using S = llm::Scheduler::Stats;
    m.GaugeCallback("mle_llm_requests_queued", "requests waiting for a slot",
                    sum([](const S& s) { return static_cast<double>(s.queued); }));
    m.GaugeCallback("mle_llm_slots_active", "slots generating",
                    sum([](const S& s) { return static_cast<double>(s.active); }));
    m.GaugeCallback("mle_llm_kv_cache_tokens", "positions held in KV caches",
                    sum([](const S& s) { return static_cast<double>(s.kv_tokens); }));
    m.GaugeCallback("mle_llm_kv_cache_capacity_tokens", "positions the KV caches can hold",
                    sum([](const S& s) { return static_cast<double>(s.kv_capacity); }));
    m.GaugeCallback("mle_llm_prefix_cache_hits", "admitted requests that reused a cached prefix",
                    sum([](const S& s) { return static_cast<double>(s.prefix_hits); }));
    m.GaugeCallback("mle_llm_prefix_cache_lookups", "admitted requests",
                    sum([](const S& s) { return static_cast<double>(s.prefix_lookups); }));
    m.GaugeCallback("mle_llm_models_loaded", "models loaded",
                    [this] { return static_cast<double>(pool_.Loaded().size()); });
  }

  void Register(const std::shared_ptr<LlmRoutes>& self);

 private:
  Response Models(Request&, bool openai);
  Response Load(Request& req);
  Response Unload(Request& req);
  Response Chat(Request& req);
  Response Completions(Request& req);
  Response Generate(Request& req, bool stream);
  Response Tokenize(Request& req);
  Response Detokenize(Request& req);
  Response ApplyTemplate(Request& req);
  // The chat prompt text for `messages`: the preset's template or the model's, and the
  // preset's system prompt when the conversation has none.
  Result<std::string> RenderChat(const LoadedModel& lm, const Preset* preset,
                                 nlohmann::ordered_json messages);

  // Runs one prompt to the end (blocking the worker thread).
  // Runs every (prompt, options) pair to the end, all submitted at once so they share forward
  // passes (blocking the worker thread); the results are in order.
  struct Work {
    std::vector<llm::TokenId> prompt;
    llm::GenerateOptions gen;
  };
  Result<std::vector<Done>> RunAll(const std::shared_ptr<LoadedModel>& lm, const Request& req,
                                   std::vector<Work> work);
  static std::vector<Work> Answers(const std::vector<llm::TokenId>& prompt,
                                   const llm::GenerateOptions& gen, int64_t n);
  // Submits one prompt whose pieces and end go to `on_piece` / `on_done` (scheduler thread).
  Status Submit(std::shared_ptr<LoadedModel> lm, const Request& req,
                std::vector<llm::TokenId> prompt, const llm::GenerateOptions& gen,
                std::function<bool(std::string_view)> on_piece,
                std::function<void(const Done&)> on_done,
                std::function<void(const llm::TokenLogprob&)> on_logprob = nullptr);
  void Record(const std::string& model, const Done& d);

  Server& server_;
  ModelPool& pool_;
  const PresetStore& presets_;
  std::string default_preset_;
  bool streaming_;
  MetricFamily *ttft_, *itl_, *prompt_tokens_, *cached_tokens_, *gen_tokens_, *requests_;
};

void LlmRoutes::Record(const std::string& model, const Done& d) {
  if (!d.status.ok()) return;
  ttft_->Observe({model}, d.timings.ttft_ms / 1e3);
  if (d.stats.n_generated > 1) {
    itl_->Observe({model}, d.timings.gen_ms / 1e3 / (d.stats.n_generated - 1));
  }
  prompt_tokens_->Add({model}, d.stats.n_prompt_tokens);
  cached_tokens_->Add({model}, d.stats.n_prompt_reused);
  gen_tokens_->Add({model}, d.stats.n_generated);
  // The metric tells cancelled requests (client gone, DELETE, deadline) apart; the OpenAI
  // responses call them "stop" as there is no such finish_reason there.
  const bool cancelled = d.stats.stop_reason == llm::StopReason::kCancelled;
  requests_->Add({model, cancelled ? "cancelled" : FinishReason(d.stats.stop_reason)}, 1);
}

Status LlmRoutes::Submit(std::shared_ptr<LoadedModel> lm, const Request& req,
                         std::vector<llm::TokenId> prompt, const llm::GenerateOptions& gen,
                         std::function<bool(std::string_view)> on_piece,
                         std::function<void(const Done&)> on_done,
                         std::function<void(const llm::TokenLogprob&)> on_logprob) {
  auto r = std::make_shared<llm::SeqRequest>();
  r->on_logprob = std::move(on_logprob);
  r->prompt = std::move(prompt);
  r->gen = gen;
  r->cache_key = req.key_id;
  r->cancel = req.cancelled;
  r->queue_timeout = std::chrono::milliseconds(120000);
  r->on_piece = std::move(on_piece);
  const std::string name = lm->name;
  // The callback holds the model so it cannot be unloaded under the request.
  r->on_done = [this, lm, name, on_done = std::move(on_done)](const Status& st,
                                                              const llm::GenerateStats& stats,
                                                              const llm::RequestTimings& t) {
    Done d{st, stats, t};
    Record(name, d);
    on_done(d);
  };
  return lm->scheduler->Submit(std::move(r));
}

Result<std::vector<Done>> LlmRoutes::RunAll(const std::shared_ptr<LoadedModel>& lm,
                                            const Request& req, std::vector<Work> work) {
  std::vector<std::shared_ptr<std::promise<Done>>> pending;
  for (auto& w : work) {
    auto promise = std::make_shared<std::promise<Done>>();
    Status st = Submit(lm, req, std::move(w.prompt), w.gen, nullptr,
                       [promise](const Done& d) { promise->set_value(d); });
    if (!st.ok()) {
      req.cancelled->store(true);  // the ones already queued stop
      for (auto& p : pending) p->get_future().wait();
      return st;
    }
    pending.push_back(std::move(promise));
  }
  std::vector<Done> out;
  for (auto& p : pending) out.push_back(p->get_future().get());
  for (const Done& d : out) {
    if (!d.status.ok()) return d.status;
  }
  return out;
}

// n answers to one prompt: seeds step by one, so they differ and still reproduce.
std::vector<LlmRoutes::Work> LlmRoutes::Answers(const std::vector<llm::TokenId>& prompt,
                                                const llm::GenerateOptions& gen, int64_t n) {
  std::vector<LlmRoutes::Work> work;
  for (int64_t i = 0; i < n; ++i) {
    work.push_back({prompt, gen});
    if (gen.sampling.seed >= 0) work.back().gen.sampling.seed += i;
  }
  return work;
}

// ---- models ----------------------------------------------------------------------------------

Response LlmRoutes::Models(Request&, bool openai) {
  json data = json::array();
  for (const auto& m : pool_.List()) {
    json j;
    if (openai) {
      j = {{"id", m.name}, {"object", "model"}, {"created", 0}, {"owned_by", "ml-engine"}};
    } else {
      j = {{"name", m.name}};
    }
    j["path"] = m.path;
    j["size_bytes"] = m.size_bytes;
    j["architecture"] = m.arch;
    j["n_ctx_train"] = m.n_ctx_train;
    j["loaded"] = m.loaded;
    if (!m.error.empty()) j["error"] = m.error;
    data.push_back(j);
  }
  if (openai)
    return Response::Json(200,
                          json{{"object", "list"}, {"data", data}}.dump(-1, ' ', false, kReplace));
  return Response::Json(200, json{{"models", data}}.dump(-1, ' ', false, kReplace));
}

Response LlmRoutes::Load(Request& req) {
  auto lm = pool_.Acquire(req.path_params["name"]);
  if (!lm.ok()) return StatusResponse(lm.status());
  return Response::Json(
      200, json{{"model", (*lm)->name}, {"loaded", true}}.dump(-1, ' ', false, kReplace));
}

Response LlmRoutes::Unload(Request& req) {
  Status s = pool_.Unload(req.path_params["name"]);
  if (!s.ok()) return StatusResponse(s);
  return Response::Json(200, json{{"model", req.path_params["name"]}, {"loaded", false}}.dump(
                                 -1, ' ', false, kReplace));
}

// ---- OpenAI ---------------------------------------------------------------------------------

Result<nlohmann::ordered_json> ReadMessages(const json* messages) {
  if (!messages || !messages->is_array() || messages->empty()) {
    return InvalidArgument("'messages' must be a non-empty array of {\"role\", \"content\"}");
  }
  nlohmann::ordered_json out = nlohmann::ordered_json::array();
  for (size_t i = 0; i < messages->size(); ++i) {
    const json& m = (*messages)[i];
    const std::string at = "'messages[" + std::to_string(i) + "]'";
    if (!m.is_object() || !m.contains("role") || !m["role"].is_string()) {
      return InvalidArgument(at + " must be an object with a string 'role'");
    }
    const std::string role = m["role"];
    if (role != "system" && role != "user" && role != "assistant" && role != "tool" &&
        role != "developer") {
      return InvalidArgument(at + ": unknown role '" + role +
                             "' (system, developer, user, assistant, tool)");
    }
    std::string content;
    if (m.contains("content") && m["content"].is_string()) {
      content = m["content"];
    } else if (m.contains("content") && m["content"].is_array()) {
      for (const auto& part : m["content"]) {  // [{"type":"text","text":...}]
        if (!part.is_object() || part.value("type", "") != "text" || !part.contains("text") ||
            !part["text"].is_string()) {
          return InvalidArgument(at + ": only text content parts are supported");
        }
        content += part["text"].get<std::string>();
      }
    } else if (!(m.contains("content") && m["content"].is_null() && role == "assistant")) {
      return InvalidArgument(at + " needs a string 'content'");
    }
    out.push_back({{"role", role}, {"content", content}});
  }
  return out;
}

std::string CompletionId(const std::string& prefix, const Request& req) {
  return prefix + req.request_id;
}

Response LlmRoutes::Chat(Request& req) {
  auto body = JsonBody::Parse(req.body);
  if (!body.ok()) return StatusResponse(body.status());
  GenRequest g;
  g.gen.n_predict = -1;  // until the end of the answer or the context
  auto preset = ReadPreset(*body, presets_, default_preset_);
  if (!preset.ok()) return StatusResponse(preset.status());
  Status s = ReadOpenAiCommon(*body, &g, *preset);
  if (s.ok()) s = ReadLogprobs(*body, &g, /*chat=*/true);
  auto messages = ReadMessages(body->Raw("messages"));
  if (s.ok() && !messages.ok()) s = messages.status();
  for (const char* f : {"tools", "tool_choice", "response_format", "parallel_tool_calls"}) {
    if (s.ok() && body->Raw(f) && !body->Raw(f)->is_null()) {
      s = InvalidArgument(std::string("'") + f + "' is not supported by this server yet");
    }
  }
  if (s.ok()) s = body->Finish();
  if (s.ok() && g.stream && !streaming_) s = StreamingDisabled();
  if (!s.ok()) return StatusResponse(s);
  auto lm = pool_.Acquire(g.model);
  if (!lm.ok()) return StatusResponse(lm.status());
  const text::Tokenizer& tok = (*lm)->model->tokenizer();
  auto text = RenderChat(**lm, *preset, std::move(*messages));
  if (!text.ok()) return StatusResponse(text.status());
  std::vector<llm::TokenId> prompt = llm::TokenizeChatPrompt(tok, *text);
  const std::string id = CompletionId("chatcmpl-", req);
  const int64_t created = UnixNow();
  const std::string model = (*lm)->name;

  if (g.stream) {
    auto stream = std::make_shared<ChunkStream>();
    const StreamHead head{id, "chat.completion.chunk", model, created};
    auto chunk = [head](json delta, json finish) {
      return head.With({{{"index", 0}, {"delta", std::move(delta)}, {"finish_reason", finish}}});
    };
    stream->Write(SseEvent(Dump(chunk({{"role", "assistant"}, {"content", ""}}, nullptr))));
    const bool usage = g.include_usage;
    // Log-probabilities of the tokens since the last chunk ride on the next one. The
    // callbacks run on the scheduler's thread, one at a time; the model outlives them.
    const bool want_lp = g.gen.n_logprobs >= 0;
    auto pending = std::make_shared<std::vector<llm::TokenLogprob>>();
    const text::Tokenizer* tp = &tok;
    auto with_lp = [want_lp, pending, tp](json c) {
      if (want_lp) {
        c["choices"][0]["logprobs"] = ChatLogprobs(*tp, *pending);
        pending->clear();
      }
      return c;
    };
    Status st = Submit(
        *lm, req, std::move(prompt), g.gen,
        [stream, chunk, with_lp](std::string_view piece) {
          return stream->Write(SseEvent(Dump(with_lp(chunk({{"content", piece}}, nullptr)))));
        },
        [stream, chunk, head, usage, with_lp](const Done& d) {
          json last = with_lp(chunk(json::object(), FinishReason(d.stats.stop_reason)));
          last["timings"] = Timings(d.stats, d.timings);
          EndOpenAiStream(*stream, head, d, std::move(last), usage);
        },
        [pending](const llm::TokenLogprob& lp) { pending->push_back(lp); });
    if (!st.ok()) return StatusResponse(st);
    return Response::EventStream(stream);
  }

  auto done = RunAll(*lm, req, Answers(prompt, g.gen, g.n));
  if (!done.ok()) return StatusResponse(done.status());
  json choices = json::array();
  llm::GenerateStats total = done->front().stats;  // the prompt counts once
  total.n_generated = 0;
  for (size_t i = 0; i < done->size(); ++i) {
    const auto& st = (*done)[i].stats;
    choices.push_back(
        {{"index", i},
         {"message", {{"role", "assistant"}, {"content", st.text}}},
         {"logprobs", LogprobsOrNull(g.gen.n_logprobs >= 0, ChatLogprobs(tok, st.logprobs))},
         {"finish_reason", FinishReason(st.stop_reason)}});
    total.n_generated += st.n_generated;
  }
  return Response::Json(200, json{{"id", id},
                                  {"object", "chat.completion"},
                                  {"created", created},
                                  {"model", model},
                                  {"choices", choices},
                                  {"usage", Usage(total)}}
                                 .dump(-1, ' ', false, kReplace));
}

Response LlmRoutes::Completions(Request& req) {
  auto body = JsonBody::Parse(req.body);
  if (!body.ok()) return StatusResponse(body.status());
  GenRequest g;
  g.gen.n_predict = 16;  // OpenAI's default for completions
  auto preset = ReadPreset(*body, presets_, default_preset_);
  if (!preset.ok()) return StatusResponse(preset.status());
  Status s = ReadOpenAiCommon(*body, &g, *preset);
  if (s.ok()) s = ReadLogprobs(*body, &g, /*chat=*/false);
  std::vector<std::string> prompts;
  const json* p = body->Raw("prompt");
  if (s.ok()) {
    if (p && p->is_string()) {
      prompts.push_back(p->get<std::string>());
    } else if (p && p->is_array() && !p->empty() && p->size() <= 32) {
      for (const auto& e : *p) {
        if (!e.is_string()) {
          s = InvalidArgument("'prompt' must be a string or an array of strings");
          break;
        }
        prompts.push_back(e.get<std::string>());
      }
    } else {
      s = InvalidArgument("'prompt' must be a string or an array of 1 to 32 strings");
    }
  }
  if (s.ok() && g.stream && prompts.size() > 1) {
    s = InvalidArgument("an array 'prompt' cannot be streamed; drop 'stream'");
  }
  (void)body->Raw("echo");
  (void)body->Raw("suffix");
  if (s.ok()) s = body->Finish();
  if (s.ok() && g.stream && !streaming_) s = StreamingDisabled();
  if (!s.ok()) return StatusResponse(s);
  auto lm = pool_.Acquire(g.model);
  if (!lm.ok()) return StatusResponse(lm.status());
  const text::Tokenizer& tok = (*lm)->model->tokenizer();
  const std::string id = CompletionId("cmpl-", req);
  const int64_t created = UnixNow();
  const std::string model = (*lm)->name;
  if (g.stream) {
    auto stream = std::make_shared<ChunkStream>();
    const StreamHead head{id, "text_completion", model, created};
    auto chunk = [head](std::string_view text, json finish) {
      return head.With(
          {{{"index", 0}, {"text", text}, {"logprobs", nullptr}, {"finish_reason", finish}}});
    };
    const bool usage = g.include_usage;
    const bool want_lp = g.gen.n_logprobs >= 0;
    auto pending = std::make_shared<std::vector<llm::TokenLogprob>>();
    auto offset = std::make_shared<size_t>(prompts[0].size());
    const text::Tokenizer* tp = &tok;
    auto with_lp = [want_lp, pending, offset, tp](json c) {
      if (want_lp) {
        c["choices"][0]["logprobs"] = CompletionLogprobs(*tp, *pending, offset.get());
        pending->clear();
      }
      return c;
    };
    Status st = Submit(
        *lm, req, tok.Tokenize(prompts[0], true, false), g.gen,
        [stream, chunk, with_lp](std::string_view piece) {
          return stream->Write(SseEvent(Dump(with_lp(chunk(piece, nullptr)))));
        },
        [stream, chunk, head, usage, with_lp](const Done& d) {
          EndOpenAiStream(*stream, head, d, with_lp(chunk("", FinishReason(d.stats.stop_reason))),
                          usage);
        },
        [pending](const llm::TokenLogprob& lp) { pending->push_back(lp); });
    if (!st.ok()) return StatusResponse(st);
    return Response::EventStream(stream);
  }
  // Every prompt (and every one of n answers) goes to the scheduler at once, so they are
  // generated in the same batches.
  std::vector<Work> work;
  for (const auto& text : prompts) {
    for (auto& w : Answers(tok.Tokenize(text, true, false), g.gen, g.n)) {
      work.push_back(std::move(w));
    }
  }
  auto done = RunAll(*lm, req, std::move(work));
  if (!done.ok()) return StatusResponse(done.status());
  json choices = json::array();
  llm::GenerateStats total;
  for (size_t i = 0; i < done->size(); ++i) {
    const auto& st = (*done)[i].stats;
    size_t prompt_chars = prompts[i / static_cast<size_t>(g.n)].size();
    choices.push_back(
        {{"index", i},
         {"text", st.text},
         {"logprobs", LogprobsOrNull(g.gen.n_logprobs >= 0,
                                     CompletionLogprobs(tok, st.logprobs, &prompt_chars))},
         {"finish_reason", FinishReason(st.stop_reason)}});
    total.n_prompt_tokens += st.n_prompt_tokens;
    total.n_prompt_reused += st.n_prompt_reused;
    total.n_generated += st.n_generated;
  }
  return Response::Json(200, json{{"id", id},
                                  {"object", "text_completion"},
                                  {"created", created},
                                  {"model", model},
                                  {"choices", choices},
                                  {"usage", Usage(total)}}
                                 .dump(-1, ' ', false, kReplace));
}

Result<std::string> LlmRoutes::RenderChat(const LoadedModel& lm, const Preset* preset,
                                          nlohmann::ordered_json messages) {
  // The preset's template (a built-in name or Jinja source) wins over the model's.
  std::optional<text::ChatTemplate> preset_template;
  if (preset && !preset->chat_template.empty()) {
    const std::string& src = preset->chat_template;
    auto t = src.find("{%") == std::string::npos && src.find("{{") == std::string::npos
                 ? text::ChatTemplate::Builtin(src)
                 : text::ChatTemplate::Parse(src);
    if (!t.ok()) return InvalidArgument("preset chat_template: " + t.status().message());
    preset_template = std::move(*t);
  }
  const text::ChatTemplate* tmpl =
      preset_template ? &*preset_template : (lm.chat_template ? &*lm.chat_template : nullptr);
  if (!tmpl) {
    return FailedPrecondition("model '" + lm.name +
                              "' has no usable chat template; use /v1/completions");
  }
  if (preset && !preset->system_prompt.empty() && messages[0].value("role", "") != "system") {
    messages.insert(
        messages.begin(),
        nlohmann::ordered_json::object({{"role", "system"}, {"content", preset->system_prompt}}));
  }
  const text::Tokenizer& tok = lm.model->tokenizer();
  text::RenderOptions ro;
  ro.add_generation_prompt = true;
  if (tok.bos() >= 0) ro.bos_token = std::string(tok.TokenToPiece(tok.bos(), true));
  if (tok.eos() >= 0) ro.eos_token = std::string(tok.TokenToPiece(tok.eos(), true));
  auto text = tmpl->Render(messages, ro);
  if (!text.ok()) return text.status().WithContext("chat template");
  return *text;
}

// ---- tokenizer utilities (llama.cpp server's shapes) ------------------------------------------

Response LlmRoutes::Tokenize(Request& req) {
  auto body = JsonBody::Parse(req.body);
  if (!body.ok()) return StatusResponse(body.status());
  std::string model, content;
  bool add_special = true, parse_special = false, with_pieces = false;
  Status s = body->String("model", &model, false, 256);
  if (s.ok()) s = body->String("content", &content, true, 1 << 22);
  if (s.ok()) s = body->Bool("add_special", &add_special);
  if (s.ok()) s = body->Bool("parse_special", &parse_special);
  if (s.ok()) s = body->Bool("with_pieces", &with_pieces);
  if (s.ok()) s = body->Finish();
  if (!s.ok()) return StatusResponse(s);
  auto lm = pool_.Acquire(model);
  if (!lm.ok()) return StatusResponse(lm.status());
  const text::Tokenizer& tok = (*lm)->model->tokenizer();
  json tokens = json::array();
  for (llm::TokenId id : tok.Tokenize(content, add_special, parse_special)) {
    if (with_pieces) {
      tokens.push_back({{"id", id}, {"piece", std::string(tok.TokenToPiece(id, true))}});
    } else {
      tokens.push_back(id);
    }
  }
  return Response::Json(200, json{{"tokens", tokens}}.dump(-1, ' ', false, kReplace));
}

Response LlmRoutes::Detokenize(Request& req) {
  auto body = JsonBody::Parse(req.body);
  if (!body.ok()) return StatusResponse(body.status());
  std::string model;
  Status s = body->String("model", &model, false, 256);
  const json* tokens = body->Raw("tokens");
  if (s.ok()) s = body->Finish();
  if (s.ok() && (!tokens || !tokens->is_array() || tokens->size() > (1u << 20))) {
    s = InvalidArgument("'tokens' must be an array of token ids");
  }
  if (!s.ok()) return StatusResponse(s);
  auto lm = pool_.Acquire(model);
  if (!lm.ok()) return StatusResponse(lm.status());
  const int32_t n_vocab = (*lm)->model->hparams().n_vocab;
  std::vector<llm::TokenId> ids;
  for (const auto& t : *tokens) {
    if (!t.is_number_integer() || t.get<int64_t>() < 0 || t.get<int64_t>() >= n_vocab) {
      return StatusResponse(InvalidArgument("'tokens' holds " + t.dump() +
                                            ", not a token id of this model (0.." +
                                            std::to_string(n_vocab - 1) + ")"));
    }
    ids.push_back(static_cast<llm::TokenId>(t.get<int64_t>()));
  }
  const std::string text = (*lm)->model->tokenizer().Detokenize(ids, false, false);
  return Response::Json(200, json{{"content", text}}.dump(-1, ' ', false, kReplace));
}

Response LlmRoutes::ApplyTemplate(Request& req) {
  auto body = JsonBody::Parse(req.body);
  if (!body.ok()) return StatusResponse(body.status());
  std::string model;
  auto preset = ReadPreset(*body, presets_, default_preset_);
  if (!preset.ok()) return StatusResponse(preset.status());
  Status s = body->String("model", &model, false, 256);
  if (s.ok() && model.empty() && *preset) model = (*preset)->model;
  auto messages = ReadMessages(body->Raw("messages"));
  if (s.ok() && !messages.ok()) s = messages.status();
  if (s.ok()) s = body->Finish();
  if (!s.ok()) return StatusResponse(s);
  auto lm = pool_.Acquire(model);
  if (!lm.ok()) return StatusResponse(lm.status());
  auto text = RenderChat(**lm, *preset, std::move(*messages));
  if (!text.ok()) return StatusResponse(text.status());
  return Response::Json(200, json{{"prompt", *text}}.dump(-1, ' ', false, kReplace));
}

// ---- the original API --------------------------------------------------------------------------

// llama.cpp-style flags in `extra_args`, mapped onto known fields only.
Status ApplyExtraArgs(const json* args, GenRequest* g) {
  if (!args || args->is_null()) return Status::Ok();
  std::vector<std::string> v;
  if (args->is_string()) {
    std::string cur;
    for (char c : args->get<std::string>()) {
      if (c == ' ') {
        if (!cur.empty()) v.push_back(cur);
        cur.clear();
      } else {
        cur += c;
      }
    }
    if (!cur.empty()) v.push_back(cur);
  } else if (args->is_array()) {
    for (const auto& e : *args) {
      if (!e.is_string()) return InvalidArgument("'extra_args' must be strings");
      v.push_back(e.get<std::string>());
    }
  } else {
    return InvalidArgument("'extra_args' must be a string or an array of strings");
  }
  auto& s = g->gen.sampling;
  for (size_t i = 0; i < v.size(); ++i) {
    const std::string& flag = v[i];
    if (i + 1 >= v.size()) {
      return InvalidArgument("'extra_args': " + flag + " needs a value");
    }
    const std::string& val = v[++i];
    if (flag == "-m" || flag == "--model") {
      if (!g->model.empty() && g->model != val) {
        return InvalidArgument("'extra_args': -m " + val + " disagrees with 'model'");
      }
      g->model = val;  // resolved against the registry: never a path
      continue;
    }
    // The numeric flags, each onto its field (-t and -c are fixed by the loaded model).
    using Set = void (*)(GenRequest*, double);
    static const std::pair<std::vector<std::string>, Set> kNumeric[] = {
        {{"-n", "--n-predict"},
         [](GenRequest* r, double x) { r->gen.n_predict = static_cast<int32_t>(x); }},
        {{"--temp"},
         [](GenRequest* r, double x) { r->gen.sampling.temperature = static_cast<float>(x); }},
        {{"--top-k"},
         [](GenRequest* r, double x) { r->gen.sampling.top_k = static_cast<int32_t>(x); }},
        {{"--top-p"},
         [](GenRequest* r, double x) { r->gen.sampling.top_p = static_cast<float>(x); }},
        {{"--min-p"},
         [](GenRequest* r, double x) { r->gen.sampling.min_p = static_cast<float>(x); }},
        {{"--repeat-penalty"},
         [](GenRequest* r, double x) { r->gen.sampling.repeat_penalty = static_cast<float>(x); }},
        {{"--seed", "-s"},
         [](GenRequest* r, double x) { r->gen.sampling.seed = static_cast<int64_t>(x); }},
        {{"-t", "--threads", "-c", "--ctx-size"}, [](GenRequest*, double) {}},
    };
    const auto* known = std::find_if(std::begin(kNumeric), std::end(kNumeric), [&](const auto& e) {
      return std::find(e.first.begin(), e.first.end(), flag) != e.first.end();
    });
    if (known == std::end(kNumeric)) {
      return InvalidArgument("'extra_args': unknown option '" + flag +
                             "' (known: -m -n -t -c --temp --top-k --top-p --min-p "
                             "--repeat-penalty --seed)");
    }
    char* end = nullptr;
    const double x = std::strtod(val.c_str(), &end);
    if (val.empty() || !end || *end != '\0' || !std::isfinite(x)) {
      return InvalidArgument("'extra_args': " + flag + " needs a number, got '" + val + "'");
    }
    known->second(g, x);
  }
  return llm::ValidateSamplingParams(s);
}

Response LlmRoutes::Generate(Request& req, bool stream) {
  auto body = JsonBody::Parse(req.body);
  if (!body.ok()) return StatusResponse(body.status());
  GenRequest g;
  g.gen.n_predict = 128;
  std::string backend = "local", prompt_text;
  int64_t n_threads = 0, n_ctx = 0;
  auto preset = ReadPreset(*body, presets_, default_preset_);
  if (!preset.ok()) return StatusResponse(preset.status());
  Status s = body->Choice("backend", &backend, {"local", "llama"});
  if (s.ok()) s = body->String("model", &g.model, false, 256);
  if (s.ok()) s = body->String("prompt", &prompt_text, true, 1 << 20);
  if (s.ok()) s = ReadSampling(*body, &g, /*openai=*/false, *preset);
  if (s.ok()) s = body->Int("n_threads", &n_threads, 0, 1024);
  if (s.ok()) s = body->Int("n_ctx", &n_ctx, 0, 1 << 20);
  if (s.ok()) s = ApplyExtraArgs(body->Raw("extra_args"), &g);
  if (s.ok()) s = body->Finish();
  if (s.ok() && stream && !streaming_) s = StreamingDisabled();
  if (!s.ok()) return StatusResponse(s);
  auto lm = pool_.Acquire(g.model);
  if (!lm.ok()) return StatusResponse(lm.status());
  if (n_ctx > (*lm)->scheduler->n_ctx()) {
    return StatusResponse(InvalidArgument(
        "'n_ctx' " + std::to_string(n_ctx) + " is larger than the loaded context of " +
        std::to_string((*lm)->scheduler->n_ctx()) + " tokens (raise llm.n_ctx in the config)"));
  }
  auto tokens = (*lm)->model->tokenizer().Tokenize(prompt_text, true, false);
  const auto& sp = g.gen.sampling;
  json params = {{"model", (*lm)->name},
                 {"backend", "local"},
                 {"n_predict", g.gen.n_predict},
                 {"n_ctx", (*lm)->scheduler->n_ctx()},
                 {"n_threads", pool_.options().scheduler.n_threads},
                 {"temperature", sp.temperature},
                 {"top_k", sp.top_k},
                 {"top_p", sp.top_p},
                 {"min_p", sp.min_p},
                 {"repeat_penalty", sp.repeat_penalty},
                 {"seed", sp.seed}};
  if (stream) {
    auto out = std::make_shared<ChunkStream>();
    Status st = Submit(
        *lm, req, std::move(tokens), g.gen,
        [out](std::string_view piece) {
          return out->Write(SseEvent(json{{"content", piece}}.dump(-1, ' ', false, kReplace)));
        },
        [out, params](const Done& d) {
          if (!d.status.ok()) {
            out->Write(SseEvent(StatusResponse(d.status).body, "error"));
          } else {
            out->Write(SseEvent(json{{"done", true},
                                     {"stop_reason", llm::StopReasonName(d.stats.stop_reason)},
                                     {"params", params},
                                     {"usage", Usage(d.stats)},
                                     {"timings", Timings(d.stats, d.timings)}}
                                    .dump(-1, ' ', false, kReplace)));
          }
          out->Close();
        });
    if (!st.ok()) return StatusResponse(st);
    return Response::EventStream(out);
  }
  auto done = RunAll(*lm, req, {{std::move(tokens), g.gen}});
  if (!done.ok()) return StatusResponse(done.status());
  const Done* d = &done->front();
  return Response::Json(200, json{{"engine", "ml-engine"},
                                  {"output", d->stats.text},
                                  {"params", params},
                                  {"prompt", prompt_text},
                                  {"stop_reason", llm::StopReasonName(d->stats.stop_reason)},
                                  {"usage", Usage(d->stats)},
                                  {"timings", Timings(d->stats, d->timings)}}
                                 .dump(-1, ' ', false, kReplace));
}

void LlmRoutes::Register(const std::shared_ptr<LlmRoutes>& self) {
  Router& r = server_.router();
  auto opts = [] { return RouteOptions().Feature("llm").Offload(); };
  const std::string sampling = R"(
      "model": {"type": "string"}, "max_tokens": {"type": "integer", "minimum": -1},
      "temperature": {"type": "number", "minimum": 0, "maximum": 2},
      "top_p": {"type": "number", "minimum": 0, "maximum": 1},
      "top_k": {"type": "integer", "minimum": 0}, "min_p": {"type": "number", "minimum": 0,
      "maximum": 1}, "seed": {"type": "integer", "minimum": -1},
      "presence_penalty": {"type": "number", "minimum": -2, "maximum": 2},
      "frequency_penalty": {"type": "number", "minimum": -2, "maximum": 2},
      "stop": {"anyOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"},
               "maxItems": 16}]}, "preset": {"type": "string"}, "ignore_eos": {"type": "boolean"})";
  const std::string openai_extra = R"(,
      "n": {"type": "integer", "minimum": 1, "maximum": 8}, "stream": {"type": "boolean"},
      "stream_options": {"type": "object", "properties": {"include_usage": {"type": "boolean"}},
                         "additionalProperties": false})";
  const std::string usage = R"("usage": {"type": "object", "required": ["prompt_tokens",
      "completion_tokens", "total_tokens"]})";
  r.Add(
      "GET", "/llm/models", [self](Request& q) { return self->Models(q, false); },
      opts()
          .Summary("GGUF models in the models directory")
          .Returns(
              R"({"type": "object", "required": ["models"], "properties": {"models": {"type": "array"}}})"));
  r.Add(
      "GET", "/v1/models", [self](Request& q) { return self->Models(q, true); },
      opts()
          .Summary("models (OpenAI list)")
          .Returns(
              R"({"type": "object", "required": ["object", "data"], "properties": {"data": {"type": "array"}}})"));
  r.Add(
      "POST", "/llm/models/{name}/load", [self](Request& q) { return self->Load(q); },
      opts().Summary("load a model now").Returns(R"({"type": "object"})"));
  r.Add(
      "POST", "/llm/models/{name}/unload", [self](Request& q) { return self->Unload(q); },
      opts().Summary("unload a model").Returns(R"({"type": "object"})"));
  r.Add(
      "POST", "/v1/chat/completions", [self](Request& q) { return self->Chat(q); },
      opts()
          .Summary("OpenAI chat completion (stream: SSE chunks, then [DONE])")
          .Request(R"({"type": "object", "required": ["messages"], "properties": {
                "messages": {"type": "array", "minItems": 1, "items": {"type": "object",
                  "required": ["role", "content"], "properties": {
                    "role": {"enum": ["system", "user", "assistant"]},
                    "content": {"type": "string"}}}},)" +
                   sampling + openai_extra + "}}")
          .Returns(R"({"type": "object", "required": ["id", "object", "choices", "usage"],
                "properties": {"object": {"const": "chat.completion"},
                "choices": {"type": "array"}, )" +
                   usage + "}}")
          .AlsoReturns(200, "sse"));
  r.Add(
      "POST", "/v1/completions", [self](Request& q) { return self->Completions(q); },
      opts()
          .Summary("OpenAI text completion; 'prompt' may be an array (batch); stream: SSE")
          .Request(R"({"type": "object", "required": ["prompt"], "properties": {
                "prompt": {"anyOf": [{"type": "string"}, {"type": "array", "minItems": 1,
                  "maxItems": 32, "items": {"type": "string"}}]},)" +
                   sampling + openai_extra + "}}")
          .Returns(R"({"type": "object", "required": ["id", "object", "choices", "usage"],
                "properties": {"object": {"const": "text_completion"},
                "choices": {"type": "array"}, )" +
                   usage + "}}")
          .AlsoReturns(200, "sse"));
  const std::string gen_request = R"({"type": "object", "required": ["prompt"], "properties": {
      "backend": {"enum": ["local", "llama"]}, "prompt": {"type": "string"},
      "n_threads": {"type": "integer", "minimum": 0}, "n_ctx": {"type": "integer", "minimum": 0},
      "n_predict": {"type": "integer", "minimum": -1}, "repeat_penalty": {"type": "number"},
      "extra_args": {"anyOf": [{"type": "string"}, {"type": "array",
                                "items": {"type": "string"}}]}, )" +
                                  sampling + "}}";
  const std::string model_field = R"("model": {"type": "string"})";
  r.Add(
      "POST", "/tokenize", [self](Request& q) { return self->Tokenize(q); },
      opts()
          .Summary("text to token ids")
          .Request(R"({"type": "object", "required": ["content"], "properties": {)" + model_field +
                   R"(, "content": {"type": "string"},
                "add_special": {"type": "boolean"}, "parse_special": {"type": "boolean"},
                "with_pieces": {"type": "boolean"}}})")
          .Returns(R"({"type": "object", "required": ["tokens"]})"));
  r.Add(
      "POST", "/detokenize", [self](Request& q) { return self->Detokenize(q); },
      opts()
          .Summary("token ids to text")
          .Request(R"({"type": "object", "required": ["tokens"], "properties": {)" + model_field +
                   R"(, "tokens": {"type": "array",
                "items": {"type": "integer", "minimum": 0}}}})")
          .Returns(R"({"type": "object", "required": ["content"]})"));
  r.Add(
      "POST", "/apply-template", [self](Request& q) { return self->ApplyTemplate(q); },
      opts()
          .Summary("the chat prompt a conversation becomes")
          .Request(R"({"type": "object", "required": ["messages"], "properties": {)" + model_field +
                   R"(, "preset": {"type": "string"},
                "messages": {"type": "array", "minItems": 1, "items": {"type": "object",
                  "required": ["role", "content"], "properties": {
                    "role": {"enum": ["system", "user", "assistant"]},
                    "content": {"type": "string"}}}}}})")
          .Returns(R"({"type": "object", "required": ["prompt"]})"));
  r.Add(
      "POST", "/llm/generate", [self](Request& q) { return self->Generate(q, false); },
      opts()
          .Summary("generate text (the original API)")
          .Request(gen_request)
          .Returns(R"({"type": "object", "required": ["engine", "output", "params", "prompt"]})"));
  r.Add(
      "POST", "/llm/generate/stream", [self](Request& q) { return self->Generate(q, true); },
      opts()
          .Summary("generate text as server-sent events, then a final event with timings")
          .Request(gen_request)
          .Returns("sse"));
}

}  // namespace

void AddLlmRoutes(Server& server, ModelPool& pool, const PresetStore& presets,
                  const LlmRoutesOptions& options) {
  auto routes = std::make_shared<LlmRoutes>(server, pool, presets, options);
  routes->Register(routes);
}

}  // namespace mle::server
