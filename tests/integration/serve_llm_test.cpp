// The LLM routes of `ml-engine serve` over real HTTP with the shared tiny models: model
// listing and load/unload, OpenAI chat and text completions (plain and streamed, framing,
// [DONE], usage with cached tokens), the original /llm/generate API with extra_args, greedy
// answers that do not change when requests run concurrently, seeds that reproduce, stop
// strings, context overflow and the 4xx of bad requests.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <future>
#include <thread>

#include <nlohmann/json.hpp>

#include "common/http_test_client.h"
#include "common/serve_process.h"
#include "common/subprocess.h"

namespace mle {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using testing::HttpCall;
using testing::HttpResult;
using testing::ServeProcess;

const std::string kLlama = "tiny-llama-spm-Q8_0";  // no chat template
const std::string kQwen = "tiny-qwen2-bpe-Q8_0";   // ChatML template

class ServeLlmTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = testing::MakeTempDir("serve-llm");
    fs::create_directories(dir_ + "/models");
    for (const auto& m : {kLlama, kQwen}) {
      fs::create_symlink(std::string(MLE_SHARED_DIR) + "/testdata/models/" + m + ".gguf",
                         dir_ + "/models/" + m + ".gguf");
    }
  }
  void TearDown() override { fs::remove_all(dir_); }

  static HttpResult Post(const ServeProcess& s, const std::string& target, const json& body) {
    return HttpCall(s.port(), "POST", target, {{"Content-Type", "application/json"}}, body.dump());
  }
  static json Chat(const std::string& content, int max_tokens) {
    return {{"model", kQwen},
            {"messages", {{{"role", "user"}, {"content", content}}}},
            {"max_tokens", max_tokens},
            {"temperature", 0}};
  }
  // The data: payloads of an SSE body, in order.
  static std::vector<std::string> Events(const std::string& body) {
    std::vector<std::string> out;
    size_t pos = 0;
    while ((pos = body.find("data: ", pos)) != std::string::npos) {
      const size_t end = body.find("\n\n", pos);
      out.push_back(body.substr(pos + 6, end - pos - 6));
      pos = end;
    }
    return out;
  }

  std::string dir_;
};

TEST_F(ServeLlmTest, ModelsAreListedLoadedAndUnloaded) {
  ServeProcess s(dir_, {"--parallel", "2"});
  ASSERT_TRUE(s.WaitHealthy()) << s.Err();
  HttpResult r = HttpCall(s.port(), "GET", "/v1/models");
  ASSERT_EQ(r.status, 200) << r.body;
  json j = json::parse(r.body);
  ASSERT_EQ(j["data"].size(), 2u);
  EXPECT_EQ(j["data"][0]["id"], kLlama);
  EXPECT_EQ(j["data"][0]["architecture"], "llama");
  EXPECT_FALSE(j["data"][0]["loaded"].get<bool>());
  EXPECT_EQ(Post(s, "/llm/models/" + kLlama + "/load", json::object()).status, 200);
  j = json::parse(HttpCall(s.port(), "GET", "/llm/models").body);
  EXPECT_TRUE(j["models"][0]["loaded"].get<bool>());
  EXPECT_EQ(Post(s, "/llm/models/" + kLlama + "/unload", json::object()).status, 200);
  EXPECT_EQ(Post(s, "/llm/models/" + kLlama + "/unload", json::object()).status, 404);
  EXPECT_EQ(Post(s, "/llm/models/nope/load", json::object()).status, 404);
  r = Post(s, "/v1/completions", {{"model", "../etc/passwd"}, {"prompt", "x"}});
  EXPECT_EQ(r.status, 404) << "models are names in the registry, never paths: " << r.body;
  EXPECT_NE(r.body.find(kLlama), std::string::npos) << "the error lists the models";
}

TEST_F(ServeLlmTest, ChatCompletionPlainAndStreamedAgree) {
  ServeProcess s(dir_, {});
  ASSERT_TRUE(s.WaitHealthy()) << s.Err();
  HttpResult r = Post(s, "/v1/chat/completions", Chat("Hello there", 12));
  ASSERT_EQ(r.status, 200) << r.body;
  json j = json::parse(r.body);
  EXPECT_EQ(j["object"], "chat.completion");
  EXPECT_EQ(j["choices"][0]["message"]["role"], "assistant");
  EXPECT_EQ(j["choices"][0]["finish_reason"], "length");
  EXPECT_EQ(j["usage"]["completion_tokens"], 12);
  EXPECT_GT(j["usage"]["prompt_tokens"].get<int>(), 5);
  const std::string text = j["choices"][0]["message"]["content"];

  json body = Chat("Hello there", 12);
  body["stream"] = true;
  body["stream_options"] = {{"include_usage", true}};
  r = Post(s, "/v1/chat/completions", body);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.headers["content-type"], "text/event-stream");
  auto events = Events(r.body);
  ASSERT_GE(events.size(), 4u) << r.body;
  EXPECT_EQ(events.back(), "[DONE]");
  std::string streamed;
  std::string finish;
  for (size_t i = 0; i + 1 < events.size(); ++i) {
    json c = json::parse(events[i]);
    EXPECT_EQ(c["object"], "chat.completion.chunk");
    EXPECT_EQ(c["id"], json::parse(events[0])["id"]) << "one id per completion";
    if (c["choices"].empty()) {  // the usage chunk
      EXPECT_EQ(c["usage"]["completion_tokens"], 12);
      EXPECT_EQ(c["usage"]["prompt_tokens_details"]["cached_tokens"],
                j["usage"]["prompt_tokens"].get<int>() - 1)
          << "the same prompt again reuses the cached prefix";
      continue;
    }
    const json& delta = c["choices"][0]["delta"];
    if (delta.contains("content")) streamed += delta["content"].get<std::string>();
    if (!c["choices"][0]["finish_reason"].is_null()) finish = c["choices"][0]["finish_reason"];
  }
  EXPECT_EQ(streamed, text) << "greedy: the stream says what the plain answer said";
  EXPECT_EQ(finish, "length");

  // No chat template: a clear 4xx, not a guess.
  r = Post(s, "/v1/chat/completions",
           {{"model", kLlama}, {"messages", {{{"role", "user"}, {"content", "hi"}}}}});
  EXPECT_EQ(r.status, 409) << r.body;
  EXPECT_NE(r.body.find("/v1/completions"), std::string::npos);
}

TEST_F(ServeLlmTest, ConcurrentRequestsGiveTheSameTokensAsOneAtATime) {
  ServeProcess s(dir_, {"--parallel", "4"});
  ASSERT_TRUE(s.WaitHealthy()) << s.Err();
  const std::vector<std::string> prompts = {"Once upon a time", "The weather today",
                                            "Numbers: 1 2 3", "A long time ago in"};
  std::vector<std::string> alone;
  for (const auto& p : prompts) {
    HttpResult r = Post(s, "/v1/completions",
                        {{"model", kLlama}, {"prompt", p}, {"max_tokens", 20}, {"temperature", 0}});
    ASSERT_EQ(r.status, 200) << r.body;
    alone.push_back(json::parse(r.body)["choices"][0]["text"]);
  }
  // Fresh prompts (a different tenant cannot hit the cache) sent at once.
  std::vector<std::future<HttpResult>> futures;
  for (const auto& p : prompts) {
    futures.push_back(std::async(std::launch::async, [&s, p] {
      return HttpCall(
          s.port(), "POST", "/v1/completions", {},
          json{{"model", kLlama}, {"prompt", p}, {"max_tokens", 20}, {"temperature", 0}}.dump());
    }));
  }
  for (size_t i = 0; i < prompts.size(); ++i) {
    HttpResult r = futures[i].get();
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(json::parse(r.body)["choices"][0]["text"], alone[i]) << prompts[i];
  }
  // A batch in one call: the same answers, in order.
  HttpResult r =
      Post(s, "/v1/completions",
           {{"model", kLlama}, {"prompt", prompts}, {"max_tokens", 20}, {"temperature", 0}});
  ASSERT_EQ(r.status, 200) << r.body;
  json j = json::parse(r.body);
  ASSERT_EQ(j["choices"].size(), prompts.size());
  for (size_t i = 0; i < prompts.size(); ++i) EXPECT_EQ(j["choices"][i]["text"], alone[i]);
  // Seeds reproduce sampled answers.
  json sampled = {{"model", kLlama},
                  {"prompt", "Once"},
                  {"max_tokens", 16},
                  {"temperature", 1.0},
                  {"seed", 1234}};
  EXPECT_EQ(json::parse(Post(s, "/v1/completions", sampled).body)["choices"][0]["text"],
            json::parse(Post(s, "/v1/completions", sampled).body)["choices"][0]["text"]);
  HttpResult m = HttpCall(s.port(), "GET", "/metrics");
  EXPECT_NE(m.body.find("mle_llm_time_to_first_token_seconds_count{model=\"" + kLlama + "\"}"),
            std::string::npos);
  EXPECT_NE(m.body.find("mle_llm_prefix_cache_hits"), std::string::npos);
}

TEST_F(ServeLlmTest, OriginalGenerateApiStopsAndErrors) {
  ServeProcess s(dir_, {});
  ASSERT_TRUE(s.WaitHealthy()) << s.Err();
  HttpResult r = Post(s, "/llm/generate",
                      {{"backend", "llama"},
                       {"model", kLlama},
                       {"prompt", "Once upon a time"},
                       {"extra_args", "-n 12 --temp 0"}});
  ASSERT_EQ(r.status, 200) << r.body;
  json j = json::parse(r.body);
  EXPECT_EQ(j["engine"], "ml-engine");
  EXPECT_EQ(j["prompt"], "Once upon a time");
  EXPECT_EQ(j["params"]["n_predict"], 12);
  EXPECT_EQ(j["usage"]["completion_tokens"], 12);
  const std::string out = j["output"];
  ASSERT_GE(out.size(), 6u);

  // The stream: one event per piece, then a final event with timings.
  r = Post(
      s, "/llm/generate/stream",
      {{"model", kLlama}, {"prompt", "Once upon a time"}, {"n_predict", 12}, {"temperature", 0}});
  ASSERT_EQ(r.status, 200);
  auto events = Events(r.body);
  std::string streamed;
  for (size_t i = 0; i + 1 < events.size(); ++i) {
    streamed += json::parse(events[i])["content"].get<std::string>();
  }
  EXPECT_EQ(streamed, out);
  json last = json::parse(events.back());
  EXPECT_TRUE(last["done"].get<bool>());
  EXPECT_TRUE(last["timings"].contains("ttft_ms"));

  // A stop string ends the answer before it: the first plain-ASCII piece after the first.
  std::string stop;
  for (size_t i = 1; i + 1 < events.size() && stop.empty(); ++i) {
    const std::string piece = json::parse(events[i])["content"];
    bool ascii = piece.size() >= 2;
    for (unsigned char c : piece) ascii = ascii && c >= 0x20 && c < 0x7f;
    if (ascii) stop = piece;
  }
  ASSERT_FALSE(stop.empty()) << "no ASCII piece in: " << out;
  r = Post(s, "/v1/completions",
           {{"model", kLlama},
            {"prompt", "Once upon a time"},
            {"max_tokens", 12},
            {"temperature", 0},
            {"stop", stop}});
  j = json::parse(r.body);
  EXPECT_EQ(j["choices"][0]["text"], out.substr(0, out.find(stop)));
  EXPECT_EQ(j["choices"][0]["finish_reason"], "stop");

  // Context overflow is a 400 naming both sizes.
  std::string huge;
  for (int i = 0; i < 700; ++i) huge += " word";
  r = Post(s, "/v1/completions", {{"model", kLlama}, {"prompt", huge}});
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(r.body.find("n_ctx=512"), std::string::npos) << r.body;

  for (const json& bad : std::vector<json>{
           {{"model", kLlama}, {"prompt", "x"}, {"extra_args", "--model-path /etc/passwd"}},
           {{"model", kLlama}, {"prompt", "x"}, {"extra_args", "-n"}},
           {{"model", kLlama}, {"prompt", "x"}, {"extra_args", "-m other"}},
           {{"model", kLlama}, {"prompt", 5}},
           {{"model", kLlama}, {"prompt", "x"}, {"temperature", -1}},
           {{"model", kLlama}, {"prompt", "x"}, {"backend", "vllm"}},
           {{"model", kLlama}, {"prompt", "x"}, {"llama_exec_path", "/bin/sh"}},
       }) {
    r = Post(s, "/llm/generate", bad);
    EXPECT_EQ(r.status, 400) << bad << " -> " << r.body;
  }
  for (const json& bad : std::vector<json>{
           {{"model", kQwen}, {"messages", json::array()}},
           {{"model", kQwen}, {"messages", {{{"role", "wizard"}, {"content", "x"}}}}},
           {{"model", kQwen}, {"messages", {{{"role", "user"}}}}},
           {{"model", kQwen}, {"messages", {{{"role", "user"}, {"content", "x"}}}}, {"n", 9}},
           {{"model", kQwen},
            {"messages", {{{"role", "user"}, {"content", "x"}}}},
            {"stream", true},
            {"n", 2}},
           {{"model", kQwen}, {"messages", {{{"role", "user"}, {"content", "x"}}}}, {"top_p", 2}},
       }) {
    r = Post(s, "/v1/chat/completions", bad);
    EXPECT_EQ(r.status, 400) << bad << " -> " << r.body;
    EXPECT_TRUE(json::parse(r.body)["error"].contains("message"));
  }
}

TEST_F(ServeLlmTest, PresetsAndTokenizerUtilities) {
  fs::create_directories(dir_ + "/presets");
  {
    std::ofstream(dir_ + "/presets/terse.json")
        << json{{"name", "terse"}, {"model", kLlama},           {"temperature", 0},
                {"max_tokens", 5}, {"chat_template", "chatml"}, {"system_prompt", "You are terse."}}
               .dump();
  }
  ServeProcess s(dir_, {});
  ASSERT_TRUE(s.WaitHealthy()) << s.Err();
  // The preset picks the model, greedy sampling and the length; the request may override.
  HttpResult r = Post(s, "/v1/completions", {{"preset", "terse"}, {"prompt", "Once"}});
  ASSERT_EQ(r.status, 200) << r.body;
  json j = json::parse(r.body);
  EXPECT_EQ(j["model"], kLlama);
  EXPECT_EQ(j["usage"]["completion_tokens"], 5);
  r = Post(s, "/v1/completions", {{"preset", "terse"}, {"prompt", "Once"}, {"max_tokens", 2}});
  EXPECT_EQ(json::parse(r.body)["usage"]["completion_tokens"], 2);
  // Its chat template and system prompt make chat work on a model that has no template.
  r = Post(s, "/apply-template",
           {{"preset", "terse"}, {"messages", {{{"role", "user"}, {"content", "hi"}}}}});
  ASSERT_EQ(r.status, 200) << r.body;
  const std::string prompt = json::parse(r.body)["prompt"];
  EXPECT_EQ(prompt,
            "<|im_start|>system\nYou are terse.<|im_end|>\n<|im_start|>user\nhi<|im_end|>\n"
            "<|im_start|>assistant\n");
  r = Post(s, "/v1/chat/completions",
           {{"preset", "terse"}, {"messages", {{{"role", "user"}, {"content", "hi"}}}}});
  EXPECT_EQ(r.status, 200) << r.body;
  r = Post(s, "/v1/completions", {{"preset", "nope"}, {"prompt", "x"}});
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(r.body.find("terse"), std::string::npos) << "lists the presets: " << r.body;

  // Tokenize and detokenize are inverse on plain text.
  r = Post(s, "/tokenize", {{"model", kLlama}, {"content", "Hello world"}});
  ASSERT_EQ(r.status, 200) << r.body;
  json tokens = json::parse(r.body)["tokens"];
  ASSERT_GE(tokens.size(), 2u);
  r = Post(s, "/detokenize", {{"model", kLlama}, {"tokens", tokens}});
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_NE(json::parse(r.body)["content"].get<std::string>().find("Hello world"),
            std::string::npos);
  EXPECT_EQ(Post(s, "/detokenize", {{"model", kLlama}, {"tokens", {99999999}}}).status, 400);
  EXPECT_EQ(s.Terminate(), 0);

  // A broken preset stops the server at start, naming the file.
  { std::ofstream(dir_ + "/presets/bad.json") << R"({"name":"bad","temperature":"hot"})"; }
  auto bad = testing::RunProcess({testing::EngineBinary(), "serve", "--port", "0"}, {}, dir_);
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_NE(bad.err.find("bad.json"), std::string::npos) << bad.err;
  EXPECT_NE(bad.err.find("temperature"), std::string::npos) << bad.err;
}

// The startup banner's LLM example works as printed (with the key from the environment).
TEST_F(ServeLlmTest, TheBannersChatExampleWorks) {
  fs::remove(dir_ + "/models/" + kLlama + ".gguf");  // the first model then has a template
  ServeProcess s(dir_, {"--api-key", "banner-llm-key-1"});
  ASSERT_TRUE(s.WaitHealthy()) << s.Err();
  const std::string out = s.Out();
  const size_t at = out.find("/v1/chat/completions -d");
  ASSERT_NE(at, std::string::npos) << out;
  const size_t begin = out.rfind("curl ", at), end = out.find('\n', at);
  std::string line = out.substr(begin, end - begin);
  line.replace(0, 4, "curl -sS --fail --max-time 60");
  auto p = testing::RunProcess({"/bin/bash", "-c", line}, {{"API_KEY", "banner-llm-key-1"}});
  ASSERT_EQ(p.exit_code, 0) << line << "\n" << p.err;
  json j = json::parse(p.out);
  EXPECT_EQ(j["object"], "chat.completion");
  EXPECT_EQ(j["usage"]["completion_tokens"], 32);
}

// Every route that can answer with a server-sent event stream says so in /openapi.json, beside
// its JSON answer: a client generated from the document must expect both.
TEST_F(ServeLlmTest, StreamingRoutesDocumentTheirEventStreams) {
  ServeProcess s(dir_, {});
  ASSERT_TRUE(s.WaitHealthy()) << s.Err();
  HttpResult r = Post(s, "/v1/completions",
                      {{"model", kLlama}, {"prompt", "x"}, {"max_tokens", 2}, {"stream", true}});
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.headers["content-type"], "text/event-stream");
  r = HttpCall(s.port(), "GET", "/openapi.json");
  ASSERT_EQ(r.status, 200) << r.body;
  const json paths = json::parse(r.body)["paths"];
  for (const char* route : {"/v1/chat/completions", "/v1/completions"}) {
    const json content = paths[route]["post"]["responses"]["200"]["content"];
    EXPECT_TRUE(content.contains("application/json")) << route;
    EXPECT_TRUE(content.contains("text/event-stream")) << route;
  }
  EXPECT_TRUE(paths["/llm/generate/stream"]["post"]["responses"]["200"]["content"].contains(
      "text/event-stream"));
}

TEST_F(ServeLlmTest, StreamingCanBeTurnedOff) {
  { std::ofstream(dir_ + "/cfg.json") << R"({"serving":{"streaming":false}})"; }
  ServeProcess s(dir_, {"--config", "cfg.json"});
  ASSERT_TRUE(s.WaitHealthy()) << s.Err();
  HttpResult r = Post(s, "/v1/completions",
                      {{"model", kLlama}, {"prompt", "x"}, {"max_tokens", 2}, {"stream", true}});
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(r.body.find("serving.streaming"), std::string::npos) << r.body;
  EXPECT_EQ(Post(s, "/llm/generate/stream", {{"model", kLlama}, {"prompt", "x"}}).status, 400);
  EXPECT_EQ(
      Post(s, "/v1/completions", {{"model", kLlama}, {"prompt", "x"}, {"max_tokens", 2}}).status,
      200);
}

TEST_F(ServeLlmTest, AFullQueueAnswers503WithRetryAfter) {
  { std::ofstream(dir_ + "/cfg.json") << R"({"llm":{"n_slots":1,"max_queued":1}})"; }
  ServeProcess s(dir_, {"--config", "cfg.json"});
  ASSERT_TRUE(s.WaitHealthy()) << s.Err();
  // Three long requests: one takes the only slot, one waits, one finds the queue full.
  const json busy = {
      {"model", kLlama}, {"prompt", "Go on"}, {"max_tokens", -1}, {"ignore_eos", true}};
  const std::string req = "POST /v1/completions HTTP/1.1\r\nHost: x\r\nContent-Length: " +
                          std::to_string(busy.dump().size()) + "\r\n\r\n" + busy.dump();
  std::vector<std::unique_ptr<testing::HttpConnection>> conns;
  for (int i = 0; i < 3; ++i) {
    conns.push_back(std::make_unique<testing::HttpConnection>("127.0.0.1", s.port(), 60000));
    ASSERT_TRUE(conns.back()->SendRaw(req));
    // The first must hold the slot before the others come (until then it counts as queued).
    for (int t = 0; i == 0 && t < 200; ++t) {
      if (HttpCall(s.port(), "GET", "/metrics").body.find("mle_llm_slots_active 1") !=
          std::string::npos) {
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }
  int ok = 0, refused = 0;
  for (auto& c : conns) {
    HttpResult r = c->ReadResponse();
    if (r.status == 200) ++ok;
    if (r.status == 503) {
      ++refused;
      EXPECT_EQ(r.headers["retry-after"], "1");
      EXPECT_NE(r.body.find("waiting"), std::string::npos) << r.body;
    }
  }
  EXPECT_EQ(ok, 2);
  EXPECT_EQ(refused, 1);
}

// Sends a generation that only the context (511 tokens) would end, leaves 20 ms later, and
// returns /metrics once the request is counted cancelled (or after 5 s).
std::string SendAndLeave(ServeProcess& s, bool stream) {
  const std::string body = json{
      {"model", kLlama},
      {"prompt", "Go"},
      {"max_tokens", 100000},
      {"ignore_eos", true},
      {"stream", stream}}.dump();
  {
    testing::HttpConnection c("127.0.0.1", s.port(), 5000);
    EXPECT_TRUE(
        c.SendRaw("POST /v1/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                  "Content-Length: " +
                  std::to_string(body.size()) + "\r\n\r\n" + body));
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }  // the client goes away long before the context could end the generation
  std::string metrics;
  for (int i = 0; i < 100; ++i) {
    metrics = HttpCall(s.port(), "GET", "/metrics").body;
    if (metrics.find("finish_reason=\"cancelled\"") != std::string::npos) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return metrics;
}

TEST_F(ServeLlmTest, ADisconnectedStreamStopsGenerating) {
  ServeProcess s(dir_, {"--parallel", "1"});
  ASSERT_TRUE(s.WaitHealthy()) << s.Err();
  const std::string metrics = SendAndLeave(s, true);
  EXPECT_NE(metrics.find("finish_reason=\"cancelled\"} 1"), std::string::npos) << metrics;
  // The only slot is freed: a new request is answered (it would wait forever otherwise).
  HttpResult r = Post(s, "/v1/completions",
                      {{"model", kLlama}, {"prompt", "Hi"}, {"max_tokens", 4}, {"temperature", 0}});
  EXPECT_EQ(r.status, 200) << r.body;
  HttpResult m = HttpCall(s.port(), "GET", "/metrics");
  EXPECT_NE(m.body.find("mle_llm_slots_active 0"), std::string::npos) << m.body;
}

TEST_F(ServeLlmTest, ADisconnectedPlainRequestIsCancelled) {
  // Not streamed: the server notices the closed connection while generating and stops.
  ServeProcess s(dir_, {"--parallel", "1"});
  ASSERT_TRUE(s.WaitHealthy()) << s.Err();
  const std::string metrics = SendAndLeave(s, false);
  EXPECT_NE(metrics.find("finish_reason=\"cancelled\"} 1"), std::string::npos) << metrics;
  EXPECT_EQ(metrics.find("finish_reason=\"length\""), std::string::npos) << metrics;
  HttpResult r = Post(s, "/v1/completions",
                      {{"model", kLlama}, {"prompt", "Hi"}, {"max_tokens", 4}, {"temperature", 0}});
  EXPECT_EQ(r.status, 200) << r.body;
}

// logprobs: the chat shape (content[] with top_logprobs), the completions shape streamed
// (tokens that add up to the text), greedy picks the most likely token, and bad values.
TEST_F(ServeLlmTest, LogprobsInChatAndCompletions) {
  ServeProcess s(dir_, {});
  ASSERT_TRUE(s.WaitHealthy()) << s.Err();
  json body = Chat("Count to five.", 8);
  body["logprobs"] = true;
  body["top_logprobs"] = 3;
  HttpResult r = Post(s, "/v1/chat/completions", body);
  ASSERT_EQ(r.status, 200) << r.body;
  json j = json::parse(r.body);
  const json& content = j["choices"][0]["logprobs"]["content"];
  ASSERT_EQ(content.size(), j["usage"]["completion_tokens"].get<size_t>() -
                                (j["choices"][0]["finish_reason"] == "stop" ? 1 : 0));
  std::string joined;
  for (const json& t : content) {
    EXPECT_LE(t["logprob"].get<double>(), 0.0);
    ASSERT_EQ(t["top_logprobs"].size(), 3u);
    EXPECT_EQ(t["top_logprobs"][0]["token"], t["token"]);  // greedy: the most likely one
    EXPECT_GE(t["top_logprobs"][0]["logprob"].get<double>(),
              t["top_logprobs"][1]["logprob"].get<double>());
    joined += t["token"].get<std::string>();
  }
  EXPECT_EQ(joined, j["choices"][0]["message"]["content"].get<std::string>());
  body.erase("logprobs");
  EXPECT_EQ(Post(s, "/v1/chat/completions", body).status, 400);  // top_logprobs alone
  body["logprobs"] = true;
  body["top_logprobs"] = 21;
  EXPECT_EQ(Post(s, "/v1/chat/completions", body).status, 400);

  json c = {{"model", kQwen},   {"prompt", "One, two,"}, {"max_tokens", 6},
            {"temperature", 0}, {"logprobs", 2},         {"stream", true}};
  r = Post(s, "/v1/completions", c);
  ASSERT_EQ(r.status, 200) << r.body;
  std::string text, from_tokens;
  for (const std::string& e : Events(r.body)) {
    if (e == "[DONE]") break;
    json chunk = json::parse(e);
    text += chunk["choices"][0]["text"].get<std::string>();
    for (const json& t : chunk["choices"][0]["logprobs"]["tokens"]) {
      from_tokens += t.get<std::string>();
    }
  }
  EXPECT_FALSE(text.empty());
  EXPECT_EQ(from_tokens, text);
  c["logprobs"] = 6;
  EXPECT_EQ(Post(s, "/v1/completions", c).status, 400);
}

}  // namespace
}  // namespace mle
