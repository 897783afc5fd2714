// The server's transport and pipeline over real loopback HTTP: routing errors, auth, rate
// limits, license gating, limits, malformed requests, streaming, disconnects, shutdown.
#include "server/server.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <thread>

#include "common/http_test_client.h"
#include "server/routes.h"

namespace mle::server {
namespace {

using testing::HttpCall;
using testing::HttpConnection;

// A server running on its own thread for the duration of a test.
class TestServer {
 public:
  explicit TestServer(ServerOptions opts, std::function<void(Server&)> setup = {}) {
    opts.http.host = "127.0.0.1";
    opts.http.port = 0;
    opts.http.shutdown_timeout = std::chrono::milliseconds(2000);
    server_ = std::make_unique<Server>(std::move(opts));
    AddCoreRoutes(*server_);
    if (setup) setup(*server_);
    Status s = server_->Start();
    EXPECT_TRUE(s.ok()) << s.ToString();
    server_->SetReady(true);
    thread_ = std::thread([this] { server_->Run(false); });
  }
  ~TestServer() { StopAndJoin(); }
  void StopAndJoin() {
    if (!thread_.joinable()) return;
    server_->Stop();
    thread_.join();
  }
  int port() const { return server_->port(); }
  Server& server() { return *server_; }

 private:
  std::unique_ptr<Server> server_;
  std::thread thread_;
};

nlohmann::json ErrorOf(const testing::HttpResult& r) {
  auto j = nlohmann::json::parse(r.body, nullptr, false);
  EXPECT_TRUE(j.contains("error")) << r.body;
  return j["error"];
}

TEST(ServerTest, HealthAndErrorsHaveTheDocumentedShape) {
  TestServer ts({});
  auto h = HttpCall(ts.port(), "GET", "/health");
  EXPECT_EQ(h.status, 200);
  EXPECT_EQ(nlohmann::json::parse(h.body)["status"], "ok");
  EXPECT_EQ(h.headers["content-type"], "application/json");
  EXPECT_FALSE(h.headers["x-request-id"].empty());

  auto nf = HttpCall(ts.port(), "GET", "/nope");
  EXPECT_EQ(nf.status, 404);
  auto e = ErrorOf(nf);
  EXPECT_EQ(e["code"], 404);
  EXPECT_EQ(e["type"], "not_found_error");
  EXPECT_NE(e["message"].get<std::string>().find("/nope"), std::string::npos);

  auto na = HttpCall(ts.port(), "POST", "/health");
  EXPECT_EQ(na.status, 405);
  EXPECT_EQ(na.headers["allow"], "GET");
  EXPECT_EQ(ErrorOf(na)["type"], "invalid_request_error");
}

TEST(ServerTest, HealthIs503WhileLoading) {
  TestServer ts({});
  ts.server().SetReady(false);
  auto h = HttpCall(ts.port(), "GET", "/health");
  EXPECT_EQ(h.status, 503);
  EXPECT_EQ(nlohmann::json::parse(h.body)["status"], "loading");
  EXPECT_EQ(HttpCall(ts.port(), "GET", "/metrics").status, 503);
}

TEST(ServerTest, RequestIdIsEchoedWhenSane) {
  TestServer ts({});
  auto r = HttpCall(ts.port(), "GET", "/health", {{"X-Request-Id", "abc-123"}});
  EXPECT_EQ(r.headers["x-request-id"], "abc-123");
  auto r2 = HttpCall(ts.port(), "GET", "/health", {{"X-Request-Id", std::string(300, 'a')}});
  EXPECT_NE(r2.headers["x-request-id"], std::string(300, 'a'));
}

TEST(ServerTest, ApiKeysGuardEverythingButHealth) {
  ServerOptions o;
  o.api_keys = {"secret-key-1", "secret-key-2"};
  TestServer ts(o);
  EXPECT_EQ(HttpCall(ts.port(), "GET", "/health").status, 200);
  auto missing = HttpCall(ts.port(), "GET", "/metrics");
  EXPECT_EQ(missing.status, 401);
  EXPECT_EQ(ErrorOf(missing)["type"], "authentication_error");
  EXPECT_EQ(
      HttpCall(ts.port(), "GET", "/metrics", {{"Authorization", "Bearer wrong-key-1"}}).status,
      401);
  EXPECT_EQ(
      HttpCall(ts.port(), "GET", "/metrics", {{"Authorization", "Bearer secret-key-2"}}).status,
      200);
  EXPECT_EQ(HttpCall(ts.port(), "GET", "/metrics", {{"X-Api-Key", "secret-key-1"}}).status, 200);
  EXPECT_EQ(
      HttpCall(ts.port(), "GET", "/metrics", {{"Authorization", "Basic secret-key-1"}}).status,
      401);
}

TEST(ServerTest, RateLimitAnswers429WithRetryAfter) {
  ServerOptions o;
  o.api_keys = {"secret-key-1", "secret-key-2"};
  o.rate_limit_rpm = 6;  // one token every 10 s
  o.rate_limit_burst = 3;
  TestServer ts(o);
  const std::map<std::string, std::string> k1 = {{"X-Api-Key", "secret-key-1"}};
  for (int i = 0; i < 3; ++i) EXPECT_EQ(HttpCall(ts.port(), "GET", "/metrics", k1).status, 200);
  auto limited = HttpCall(ts.port(), "GET", "/metrics", k1);
  EXPECT_EQ(limited.status, 429);
  EXPECT_EQ(ErrorOf(limited)["type"], "rate_limit_error");
  const int retry = std::atoi(limited.headers["retry-after"].c_str());
  EXPECT_GE(retry, 1);
  EXPECT_LE(retry, 10);
  // Another key has its own bucket; /health is never limited.
  EXPECT_EQ(HttpCall(ts.port(), "GET", "/metrics", {{"X-Api-Key", "secret-key-2"}}).status, 200);
  EXPECT_EQ(HttpCall(ts.port(), "GET", "/health").status, 200);
  auto metrics = HttpCall(ts.port(), "GET", "/metrics", {{"X-Api-Key", "secret-key-2"}});
  EXPECT_NE(metrics.body.find("mle_http_rate_limited_total 1"), std::string::npos) << metrics.body;
}

TEST(ServerTest, LicenseFeaturesGateRoutes) {
  ServerOptions o;
  o.licensed_features = std::set<std::string>{"api"};
  o.license_description = "test license";
  TestServer ts(o, [](Server& s) {
    s.router().Add(
        "GET", "/gated", [](Request&) { return Response::Json(200, "{}"); },
        RouteOptions().Feature("llm"));
    s.router().Add(
        "GET", "/open", [](Request&) { return Response::Json(200, "{}"); },
        RouteOptions().Feature("api"));
  });
  auto g = HttpCall(ts.port(), "GET", "/gated");
  EXPECT_EQ(g.status, 403);
  EXPECT_NE(ErrorOf(g)["message"].get<std::string>().find("'llm'"), std::string::npos);
  EXPECT_EQ(HttpCall(ts.port(), "GET", "/open").status, 200);
}

TEST(ServerTest, PathParamsQueryAndOffloadedHandlers) {
  TestServer ts({}, [](Server& s) {
    s.router().Add(
        "GET", "/items/{id}",
        [](Request& r) {
          nlohmann::json j = {{"id", r.path_params["id"]}, {"q", r.QueryOr("q", "")}};
          return Response::Json(200, j.dump());
        },
        RouteOptions().Offload());
  });
  auto r = HttpCall(ts.port(), "GET", "/items/a%20b?q=x+y&z");
  ASSERT_EQ(r.status, 200) << r.body;
  auto j = nlohmann::json::parse(r.body);
  EXPECT_EQ(j["id"], "a b");
  EXPECT_EQ(j["q"], "x y");
}

TEST(ServerTest, KeepAliveServesManyRequestsOnOneConnection) {
  TestServer ts({});
  HttpConnection c("127.0.0.1", ts.port());
  ASSERT_TRUE(c.connected());
  for (int i = 0; i < 50; ++i) ASSERT_EQ(c.Request("GET", "/health").status, 200) << i;
}

TEST(ServerTest, BodyLimitAndMalformedRequests) {
  ServerOptions o;
  o.http.body_limit_bytes = 1024;
  TestServer ts(o, [](Server& s) {
    s.router().Add("POST", "/echo", [](Request& r) { return Response::Json(200, r.body); });
  });
  auto big = HttpCall(ts.port(), "POST", "/echo", {}, std::string(4096, 'x'));
  EXPECT_EQ(big.status, 413);
  EXPECT_EQ(ErrorOf(big)["code"], 413);
  EXPECT_EQ(HttpCall(ts.port(), "POST", "/echo", {}, "{}").status, 200);

  for (const std::string raw :
       {"GARBAGE\r\n\r\n", "GET / HTTP/9.9\r\n\r\n", "GET /health HTTP/1.1\r\nBad Header\r\n\r\n",
        "POST /echo HTTP/1.1\r\nContent-Length: -5\r\n\r\n"}) {
    HttpConnection c("127.0.0.1", ts.port());
    ASSERT_TRUE(c.SendRaw(raw));
    auto r = c.ReadResponse();
    EXPECT_EQ(r.status, 400) << raw;
  }
  EXPECT_EQ(HttpCall(ts.port(), "GET", "/health").status, 200);
}

TEST(ServerTest, StreamsChunksAndCancelsWhenTheClientLeaves) {
  auto cancelled = std::make_shared<std::atomic<bool>>(false);
  TestServer ts({}, [cancelled](Server& s) {
    s.router().Add("GET", "/stream", [](Request&) {
      auto st = std::make_shared<ChunkStream>();
      std::thread([st] {
        for (int i = 0; i < 3; ++i) st->Write(SseEvent("{\"i\":" + std::to_string(i) + "}"));
        st->Write(SseEvent("[DONE]"));
        st->Close();
      }).detach();
      return Response::EventStream(st);
    });
    s.router().Add("GET", "/endless", [cancelled](Request&) {
      auto st = std::make_shared<ChunkStream>();
      std::thread([st, cancelled] {
        while (st->Write(SseEvent("tick"))) {
          std::this_thread::sleep_for(std::chrono::milliseconds(5));
        }
        cancelled->store(true);
      }).detach();
      return Response::EventStream(st);
    });
  });
  auto r = HttpCall(ts.port(), "GET", "/stream");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.headers["content-type"], "text/event-stream");
  EXPECT_EQ(r.body, "data: {\"i\":0}\n\ndata: {\"i\":1}\n\ndata: {\"i\":2}\n\ndata: [DONE]\n\n");

  {
    HttpConnection c("127.0.0.1", ts.port());
    ASSERT_TRUE(c.SendRaw("GET /endless HTTP/1.1\r\nHost: x\r\n\r\n"));
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }  // the client disconnects
  for (int i = 0; i < 200 && !cancelled->load(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_TRUE(cancelled->load());
}

TEST(ServerTest, GracefulShutdownFinishesRequestsInFlight) {
  TestServer ts({}, [](Server& s) {
    s.router().Add(
        "GET", "/slow",
        [](Request&) {
          std::this_thread::sleep_for(std::chrono::milliseconds(300));
          return Response::Json(200, R"({"done":true})");
        },
        RouteOptions().Offload());
  });
  testing::HttpResult slow;
  std::thread client([&] { slow = HttpCall(ts.port(), "GET", "/slow"); });
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  HttpConnection idle("127.0.0.1", ts.port());  // an idle keep-alive connection
  ASSERT_EQ(idle.Request("GET", "/health").status, 200);
  ts.StopAndJoin();  // returns only after the slow request finished
  client.join();
  EXPECT_EQ(slow.status, 200);
  EXPECT_EQ(slow.body, R"({"done":true})");
  EXPECT_TRUE(idle.WaitClosed());
}

TEST(ServerTest, MetricsCountRequestsByRouteAndStatus) {
  TestServer ts({});
  for (int i = 0; i < 3; ++i) HttpCall(ts.port(), "GET", "/health");
  HttpCall(ts.port(), "GET", "/missing");
  auto m = HttpCall(ts.port(), "GET", "/metrics");
  EXPECT_NE(m.body.find(R"(mle_http_requests_total{method="GET",route="/health",status="200"} 3)"),
            std::string::npos)
      << m.body;
  EXPECT_NE(m.body.find(R"(route="unmatched",status="404"} 1)"), std::string::npos) << m.body;
  EXPECT_NE(m.body.find("# TYPE mle_http_request_duration_seconds histogram"), std::string::npos);
  EXPECT_NE(m.body.find("mle_http_requests_in_flight 1"), std::string::npos);
}

TEST(ServerTest, StartFailsClearlyWhenThePortIsTaken) {
  TestServer ts({});
  ServerOptions o;
  o.http.host = "127.0.0.1";
  o.http.port = static_cast<uint16_t>(ts.port());
  Server second(o);
  Status s = second.Start();
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find("in use"), std::string::npos) << s.message();
  ServerOptions bad;
  bad.http.host = "not-an-ip";
  EXPECT_FALSE(Server(bad).Start().ok());
}

TEST(RateLimiterTest, RefillsAtTheConfiguredRate) {
  RateLimiter rl(60, 2);  // 1 per second
  auto t = RateLimiter::Clock::now();
  EXPECT_TRUE(rl.Take("a", t).allowed);
  EXPECT_TRUE(rl.Take("a", t).allowed);
  auto d = rl.Take("a", t);
  EXPECT_FALSE(d.allowed);
  EXPECT_EQ(d.retry_after_s, 1);
  EXPECT_TRUE(rl.Take("a", t + std::chrono::milliseconds(1100)).allowed);
  EXPECT_FALSE(rl.Take("a", t + std::chrono::milliseconds(1200)).allowed);
  EXPECT_TRUE(rl.Take("b", t).allowed);
  RateLimiter off(0, 1);
  for (int i = 0; i < 100; ++i) EXPECT_TRUE(off.Take("a").allowed);
}

TEST(MetricsTest, RendersPrometheusTextFormat) {
  MetricsRegistry reg;
  auto* c = reg.Counter("x_total", "a counter", {"k"});
  c->Add({"a\"b"}, 2);
  auto* h = reg.Histogram("lat_seconds", "a histogram", {}, {0.1, 1});
  h->Observe({}, 0.05);
  h->Observe({}, 0.5);
  h->Observe({}, 5);
  const std::string out = reg.Render();
  EXPECT_NE(out.find("x_total{k=\"a\\\"b\"} 2\n"), std::string::npos) << out;
  EXPECT_NE(out.find("lat_seconds_bucket{le=\"0.1\"} 1\n"), std::string::npos) << out;
  EXPECT_NE(out.find("lat_seconds_bucket{le=\"1\"} 2\n"), std::string::npos) << out;
  EXPECT_NE(out.find("lat_seconds_bucket{le=\"+Inf\"} 3\n"), std::string::npos) << out;
  EXPECT_NE(out.find("lat_seconds_count 3\n"), std::string::npos) << out;
}

}  // namespace
}  // namespace mle::server
