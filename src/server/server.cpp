#include "server/server.h"

#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <thread>

#include "core/sha256.h"
#include "core/splitmix.h"

namespace mle::server {
namespace {

// A client-supplied X-Request-Id is kept when it is short and printable; otherwise we make one.
bool UsableRequestId(const std::string& id) {
  if (id.empty() || id.size() > 128) return false;
  for (unsigned char c : id) {
    if (c < 0x21 || c > 0x7e) return false;
  }
  return true;
}

const std::string kUnmatched = "unmatched";

const std::string& KnownMethod(const std::string& m) {
  static const std::string kMethods[] = {"GET",  "POST",    "PUT",  "DELETE",
                                         "HEAD", "OPTIONS", "PATCH"};
  static const std::string kOther = "other";
  for (const auto& k : kMethods) {
    if (k == m) return k;
  }
  return kOther;
}

// Client-controlled text for a log line: bytes outside printable ASCII are written as %XX, so
// a request cannot forge log lines or put raw binary into the log.
std::string LogSafe(const std::string& s) {
  static const char* kHex = "0123456789ABCDEF";
  std::string out;
  out.reserve(s.size());
  for (unsigned char c : s) {
    if (c >= 0x21 && c < 0x7f && c != '%') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

// Request ids need to be unique, not secret: a per-thread splitmix64 stream seeded once from
// the OS generator (and the thread) costs nanoseconds instead of a locked DRBG call.
std::string NewRequestId() {
  thread_local uint64_t state = [] {
    uint64_t seed = 0;
    if (RAND_bytes(reinterpret_cast<unsigned char*>(&seed), sizeof seed) != 1) {
      seed = static_cast<uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count());
    }
    return seed ^ std::hash<std::thread::id>()(std::this_thread::get_id());
  }();
  static const char* kHex = "0123456789abcdef";
  char out[4 + 24] = {'r', 'e', 'q', '-'};
  const uint64_t a = SplitMixNext(state), b = SplitMixNext(state);
  for (int i = 0; i < 16; ++i) out[4 + i] = kHex[(a >> (60 - 4 * i)) & 15];
  for (int i = 0; i < 8; ++i) out[20 + i] = kHex[(b >> (60 - 4 * i)) & 15];
  return std::string(out, sizeof out);
}

bool ConstantTimeEquals(const std::string& a, const std::string& b) {
  // Compare digests so the time depends on neither the key's length nor its content.
  const std::string da = ToHex(Sha256(a)), db = ToHex(Sha256(b));
  return CRYPTO_memcmp(da.data(), db.data(), da.size()) == 0;
}

}  // namespace

std::string Server::KeyId(const std::string& key) {
  return "key-" + ToHex(Sha256(key)).substr(0, 8);
}

Server::Server(ServerOptions options)
    : options_(std::move(options)), limiter_(options_.rate_limit_rpm, options_.rate_limit_burst) {
  for (const auto& k : options_.api_keys) key_ids_.push_back(KeyId(k));
  requests_total_ = metrics_.Counter("mle_http_requests_total", "HTTP requests by route and status",
                                     {"method", "route", "status"});
  request_seconds_ =
      metrics_.Histogram("mle_http_request_duration_seconds", "HTTP request latency by route",
                         {"method", "route"}, LatencyBuckets());
  rate_limited_total_ =
      metrics_.Counter("mle_http_rate_limited_total", "requests refused by the rate limit");
  metrics_.GaugeCallback("mle_http_requests_in_flight", "HTTP requests being handled",
                         [this] { return static_cast<double>(in_flight_.load()); });
  RequestHandler h;
  h.offload = [this](Request& r) { return Offload(r); };
  h.handle = [this](Request& r) { return Handle(r); };
  h.on_complete = [this](const Request& r, int status, double s) { OnComplete(r, status, s); };
  http_ = std::make_unique<HttpServer>(options_.http, std::move(h));
}

Server::~Server() = default;

Status Server::Start() {
  return http_->Start();
}
uint16_t Server::port() const {
  return http_->port();
}
void Server::Run(bool handle_signals) {
  http_->Run(handle_signals);
}
void Server::Stop() {
  http_->Stop();
}

void Server::Resolve(Request& req) const {
  if (req.routed) return;
  auto m = router_.Find(req.method, req.path);
  req.route = m.route;
  req.path_params = std::move(m.params);
  req.routed = true;
}

bool Server::Offload(Request& req) const {
  Resolve(req);
  return req.route && req.route->options.offload;
}

std::optional<Response> Server::Authenticate(Request& req) const {
  std::string presented;
  if (const std::string* auth = req.Header("Authorization")) {
    constexpr std::string_view kBearer = "Bearer ";
    if (auth->size() > kBearer.size() &&
        std::equal(kBearer.begin(), kBearer.end(), auth->begin(),
                   [](char a, char b) { return std::tolower(a) == std::tolower(b); })) {
      presented = auth->substr(kBearer.size());
    }
  }
  if (presented.empty()) {
    if (const std::string* k = req.Header("X-Api-Key")) presented = *k;
  }
  if (presented.empty()) {
    return ErrorResponse(401,
                         "missing API key: send 'Authorization: Bearer <key>' or "
                         "'X-Api-Key: <key>'");
  }
  bool match = false;
  size_t which = 0;
  for (size_t i = 0; i < options_.api_keys.size(); ++i) {
    // Check every key (no early exit) so timing does not reveal which one matched.
    if (ConstantTimeEquals(presented, options_.api_keys[i]) && !match) {
      match = true;
      which = i;
    }
  }
  if (!match) return ErrorResponse(401, "invalid API key");
  req.key_id = key_ids_[which];
  return std::nullopt;
}

Response Server::Handle(Request& req) {
  const std::string* rid = req.Header("X-Request-Id");
  req.request_id = rid && UsableRequestId(*rid) ? *rid : NewRequestId();
  in_flight_.fetch_add(1);
  struct Done {
    std::atomic<int64_t>& n;
    ~Done() { n.fetch_sub(1); }
  } done{in_flight_};

  auto finish = [&](Response r) {
    r.headers["X-Request-Id"] = req.request_id;
    return r;
  };
  Resolve(req);
  if (!req.route) {
    const auto match = router_.Find(req.method, req.path);
    if (match.allowed.empty()) {
      return finish(ErrorResponse(404, "no route for " + req.method + " " + req.path +
                                           " (see GET /openapi.json for the routes)"));
    }
    std::string allow;
    for (const auto& m : match.allowed) allow += (allow.empty() ? "" : ", ") + m;
    Response r = ErrorResponse(405, "method " + req.method + " is not allowed on " + req.path +
                                        " (allowed: " + allow + ")");
    r.headers["Allow"] = allow;
    return finish(std::move(r));
  }
  const Route& route = *req.route;
  if (!ready_.load() && route.pattern != "/health") {
    Response r = ErrorResponse(503, "the server is still starting; retry shortly");
    r.headers["Retry-After"] = "1";
    return finish(std::move(r));
  }
  if (!route.options.is_public && !options_.api_keys.empty()) {
    if (auto denied = Authenticate(req)) return finish(std::move(*denied));
  }
  if (limiter_.enabled() && !route.options.is_public) {
    const auto d = limiter_.Take(req.key_id.empty() ? req.remote_address : req.key_id);
    if (!d.allowed) {
      rate_limited_total_->Add({}, 1);
      Response r = ErrorResponse(
          429, "rate limit exceeded: " + std::to_string(options_.rate_limit_rpm) +
                   " requests per minute; retry after " + std::to_string(d.retry_after_s) + " s");
      r.headers["Retry-After"] = std::to_string(d.retry_after_s);
      return finish(std::move(r));
    }
  }
  if (!route.options.feature.empty() && options_.licensed_features &&
      !options_.licensed_features->count(route.options.feature)) {
    return finish(ErrorResponse(403, "the license (" + options_.license_description +
                                         ") does not include the '" + route.options.feature +
                                         "' feature needed by " + route.pattern));
  }
  Response r = route.handler(req);
  if (req.method == "HEAD") r.body.clear();
  return finish(std::move(r));
}

void Server::OnComplete(const Request& req, int status, double seconds) {
  const Route* r = req.route;
  const std::string& route = r ? r->pattern : kUnmatched;
  // Label values come from a closed set, so no client can grow the series without bound.
  const std::string& method = KnownMethod(req.method);
  requests_total_->Add({method, route, std::to_string(status)}, 1);
  request_seconds_->Observe({method, route}, seconds);
  const bool quiet = r && r->options.quiet && status < 400;
  const auto level = quiet ? spdlog::level::debug : spdlog::level::info;
  if (spdlog::should_log(level)) {
    spdlog::log(level, "request id={} {} {} status={} ms={:.2f} key={} remote={}",
                LogSafe(req.request_id), LogSafe(req.method), LogSafe(req.path), status,
                seconds * 1e3, req.key_id.empty() ? "-" : req.key_id, req.remote_address);
  }
}

}  // namespace mle::server
