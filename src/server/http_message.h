// The server's own request and response types. Handlers, middleware and the router see only
// these; Boost.Beast stays inside http_server.cpp. A response is either a complete body or a
// stream of chunks (SSE, NDJSON) that a worker thread produces while the connection sends it.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace mle::server {

struct Route;

// Case-insensitive header map (HTTP field names are case-insensitive).
struct CaseInsensitiveLess {
  bool operator()(std::string_view a, std::string_view b) const;
};
using HeaderMap = std::map<std::string, std::string, CaseInsensitiveLess>;

struct Request {
  std::string method;                        // "GET", "POST", ...
  std::string target;                        // as received: path plus query
  std::string path;                          // decoded path without the query
  std::map<std::string, std::string> query;  // decoded query parameters (last one wins)
  HeaderMap headers;
  std::string body;
  std::string remote_address;

  // Filled by the pipeline before the handler runs.
  std::string request_id;
  std::string key_id;                              // "" when unauthenticated; never the key itself
  std::map<std::string, std::string> path_params;  // {id} segments of the route pattern
  std::shared_ptr<std::atomic<bool>> cancelled = std::make_shared<std::atomic<bool>>(false);
  // The route the path resolved to (looked up once per request); null: 404/405.
  const Route* route = nullptr;
  bool routed = false;

  const std::string* Header(std::string_view name) const;
  std::string QueryOr(const std::string& name, std::string def) const;
};

// A stream of body chunks, written by a producer thread and sent by the connection as chunked
// transfer encoding. Thread-safe. When the client goes away the connection calls Cancel(); the
// producer sees cancelled() and stops.
class ChunkStream {
 public:
  // Queues a chunk; returns false once the stream is cancelled (the producer should stop).
  bool Write(std::string chunk);
  // Ends the stream normally; later writes are dropped.
  void Close();
  void Cancel();
  bool cancelled() const { return cancelled_.load(std::memory_order_acquire); }

  // Consumer side (the connection): moves queued chunks into `out`; returns false when the
  // stream is closed and drained. `waker` is called (from the producer's thread) whenever a
  // chunk or the close arrives, so the connection can resume.
  bool Drain(std::vector<std::string>* out);
  void SetWaker(std::function<void()> waker);

 private:
  mutable std::mutex mu_;
  std::deque<std::string> chunks_;
  bool closed_ = false;
  std::function<void()> waker_;
  std::atomic<bool> cancelled_{false};
};

struct Response {
  int status = 200;
  HeaderMap headers;
  std::string body;
  std::shared_ptr<ChunkStream> stream;  // set for streamed responses (body ignored)

  static Response Json(int status, std::string body);
  static Response Text(int status, std::string body, std::string content_type);
  // Server-sent events: content type text/event-stream, no caching, no proxy buffering.
  static Response EventStream(std::shared_ptr<ChunkStream> stream);
};

// Formats one SSE event: "data: <payload>\n\n" (multi-line payloads get one data: per line).
std::string SseEvent(std::string_view payload, std::string_view event = {});

}  // namespace mle::server
