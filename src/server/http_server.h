// The HTTP/1.1 transport: Boost.Beast + Asio with C++20 coroutines, one coroutine per
// connection, keep-alive, chunked streaming, limits and timeouts, graceful shutdown. This is the
// only place that sees Beast; it turns bytes into server::Request and server::Response back
// into bytes. Handlers that compute run on a separate worker pool so I/O threads never block.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "core/status.h"
#include "server/http_message.h"

namespace mle::server {

struct HttpServerOptions {
  std::string host = "127.0.0.1";
  uint16_t port = 18080;  // 0 = any free port (see HttpServer::port())
  int io_threads = 2;
  int worker_threads = 4;  // for handlers marked as offloaded
  uint64_t body_limit_bytes = 8ull << 20;
  uint32_t header_limit_bytes = 16 << 10;
  std::chrono::milliseconds read_timeout{30000};  // a whole request, once it starts
  std::chrono::milliseconds idle_timeout{60000};  // keep-alive wait for the next request
  std::chrono::milliseconds write_timeout{30000};
  std::chrono::milliseconds shutdown_timeout{10000};
};

// What the transport calls for each request. `offload` decides (on the I/O thread) whether
// `handle` runs on the worker pool (it may resolve and remember the route in the request); `handle`
// must not throw (exceptions become 500).
struct RequestHandler {
  std::function<bool(Request&)> offload;
  std::function<Response(Request&)> handle;
  // Called for requests the transport rejects itself (413, 431, 400, timeouts) and once per
  // finished request with its status and duration, for logs and metrics.
  std::function<void(const Request&, int status, double seconds)> on_complete;
};

class HttpServer {
 public:
  HttpServer(HttpServerOptions options, RequestHandler handler);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Binds and listens. Errors: bad host, port in use ("port 18080 is in use: pick another with
  // --port"), permission denied.
  Status Start();
  // The bound port (useful with port 0). REQUIRES: Start() succeeded.
  uint16_t port() const;
  // Runs the I/O threads until Stop() or SIGINT/SIGTERM (when handle_signals), then drains:
  // stops accepting, lets in-flight requests finish (cancelling streams after
  // shutdown_timeout), and returns.
  void Run(bool handle_signals);
  // Begins a graceful shutdown; safe from any thread (and from handlers).
  void Stop();

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

// Builds the error body {"error":{"code":status,"message":...,"type":...}}.
Response ErrorResponse(int status, std::string_view message);
// The one mapping from Status to an HTTP error response.
Response StatusResponse(const Status& status);
// The OpenAI-style error type for an HTTP status ("invalid_request_error", ...).
std::string_view ErrorTypeForStatus(int status);

}  // namespace mle::server
