// The server: transport + router + the request pipeline that every request goes through:
// request id -> route lookup (404/405) -> readiness -> API key (401) -> rate limit (429) ->
// license feature (403) -> handler; then one log line and the request metrics. Route modules
// register their handlers on router() before Start().
#pragma once

#include <atomic>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "core/status.h"
#include "server/http_server.h"
#include "server/metrics.h"
#include "server/rate_limiter.h"
#include "server/router.h"

namespace mle::server {

struct ServerOptions {
  HttpServerOptions http;
  std::vector<std::string> api_keys;  // empty: no authentication
  double rate_limit_rpm = 0;          // per key (or per client address without keys); 0 = off
  int rate_limit_burst = 10;
  // Features a license grants (api, train, predict, llm); nullopt = no license, all features.
  std::optional<std::set<std::string>> licensed_features;
  std::string license_description;  // for the startup banner and refusals
};

class Server {
 public:
  explicit Server(ServerOptions options);
  ~Server();

  Router& router() { return router_; }
  MetricsRegistry& metrics() { return metrics_; }
  const ServerOptions& options() const { return options_; }

  // While not ready, GET /health answers 503 {"status":"loading"} and other routes 503.
  void SetReady(bool ready) { ready_.store(ready); }
  bool ready() const { return ready_.load(); }

  Status Start();  // binds (see HttpServer::Start)
  uint16_t port() const;
  void Run(bool handle_signals);  // blocks until shutdown completes
  void Stop();

  // The pipeline, exposed for tests that need no socket.
  Response Handle(Request& req);

  // The key id logged for an API key: "key-" + first 8 hex digits of its SHA-256.
  static std::string KeyId(const std::string& key);

 private:
  // Looks the route up once and keeps it in the request.
  void Resolve(Request& req) const;
  bool Offload(Request& req) const;
  void OnComplete(const Request& req, int status, double seconds);
  std::optional<Response> Authenticate(Request& req) const;

  ServerOptions options_;
  Router router_;
  MetricsRegistry metrics_;
  RateLimiter limiter_;
  std::atomic<bool> ready_{false};
  std::atomic<int64_t> in_flight_{0};
  std::vector<std::string> key_ids_;
  MetricFamily* requests_total_;
  MetricFamily* request_seconds_;
  MetricFamily* rate_limited_total_;
  std::unique_ptr<HttpServer> http_;
};

}  // namespace mle::server
