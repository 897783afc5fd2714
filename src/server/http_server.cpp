// Boost.Beast transport. Each accepted connection runs one coroutine on one I/O thread:
// read a request (header with the idle timeout, body with the read timeout), convert it,
// run the handler (on the worker pool when asked), write the response (whole, or chunked
// from a ChunkStream while watching for the client to go away), repeat while keep-alive.
#include "server/http_server.h"

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <spdlog/spdlog.h>
#include <nlohmann/json.hpp>

#include <sys/socket.h>

#include <array>
#include <cerrno>
#include <list>
#include <thread>

namespace mle::server {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using asio::awaitable;
constexpr auto kTuple = asio::as_tuple(asio::use_awaitable);

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Percent-decoding; '+' means space only in queries. Malformed escapes are kept as they are.
std::string PercentDecode(std::string_view s, bool plus_is_space) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size()) {
      const int hi = HexValue(s[i + 1]), lo = HexValue(s[i + 2]);
      if (hi >= 0 && lo >= 0) {
        out += static_cast<char>(hi * 16 + lo);
        i += 2;
        continue;
      }
    }
    out += (plus_is_space && s[i] == '+') ? ' ' : s[i];
  }
  return out;
}

void SplitTarget(std::string_view target, Request* req) {
  const size_t q = target.find('?');
  req->path = PercentDecode(target.substr(0, q), false);
  if (q == std::string_view::npos) return;
  std::string_view query = target.substr(q + 1);
  while (!query.empty()) {
    const size_t amp = query.find('&');
    std::string_view part = query.substr(0, amp);
    const size_t eq = part.find('=');
    if (!part.empty()) {
      req->query[PercentDecode(part.substr(0, eq), true)] =
          eq == std::string_view::npos ? "" : PercentDecode(part.substr(eq + 1), true);
    }
    if (amp == std::string_view::npos) break;
    query.remove_prefix(amp + 1);
  }
}

template <typename Fields>
void CopyHeaders(const HeaderMap& from, Fields& to) {
  for (const auto& [k, v] : from) to.set(k, v);
}

bool SafeHeaderText(std::string_view s) {
  return s.find_first_of("\r\n") == std::string_view::npos;
}

// The status line and header block of a whole (not streamed) response, written by hand: one
// buffer and no serializer state machine is most of the cost of a small answer.
std::string ResponseHead(const Response& res, unsigned version, bool keep_alive) {
  std::string head;
  head.reserve(160 + 48 * res.headers.size());
  head += version == 10 ? "HTTP/1.0 " : "HTTP/1.1 ";
  head += std::to_string(res.status);
  head += ' ';
  head += http::obsolete_reason(static_cast<http::status>(res.status));
  head += "\r\nServer: ml-engine\r\n";
  for (const auto& [k, v] : res.headers) {
    if (!SafeHeaderText(k) || !SafeHeaderText(v)) continue;  // never split a header
    head += k;
    head += ": ";
    head += v;
    head += "\r\n";
  }
  head += "Content-Length: ";
  head += std::to_string(res.body.size());
  if (version == 10 && keep_alive) head += "\r\nConnection: keep-alive";
  if (version != 10 && !keep_alive) head += "\r\nConnection: close";
  head += "\r\n\r\n";
  return head;
}

}  // namespace

// One connection: its stream, and whether it is between requests (safe to close at shutdown).
struct Connection {
  explicit Connection(tcp::socket s) : stream(std::move(s)) {}
  beast::tcp_stream stream;
  bool busy = false;  // touched only on the connection's I/O thread
};

struct HttpServer::Impl {
  Impl(HttpServerOptions o, RequestHandler h)
      : opts(std::move(o)),
        handler(std::move(h)),
        ioc(1),
        workers(static_cast<size_t>(std::max(1, opts.worker_threads))),
        acceptor(ioc),
        signals(ioc),
        shutdown_timer(ioc) {
    for (int i = 0; i < std::max(1, opts.io_threads); ++i) {
      conn_ctx.push_back(std::make_unique<asio::io_context>(1));
      conn_work.emplace_back(conn_ctx.back()->get_executor());
    }
  }

  awaitable<void> Accept();
  awaitable<void> Serve(std::shared_ptr<Connection> conn);
  awaitable<bool> WriteStream(Connection& conn, Response& res, unsigned version, bool keep_alive);
  awaitable<Response> Handle(Request& req, bool offload);
  void BeginShutdown();
  void ForceClose();
  void ConnectionDone();

  HttpServerOptions opts;
  RequestHandler handler;
  // `ioc` (the thread that calls Run) accepts and handles signals and shutdown; connections
  // are spread over one single-threaded io_context per I/O thread, so a connection needs no
  // strand and its completions never cross threads.
  asio::io_context ioc;
  std::vector<std::unique_ptr<asio::io_context>> conn_ctx;
  std::vector<asio::executor_work_guard<asio::io_context::executor_type>> conn_work;
  size_t next_ctx = 0;
  asio::thread_pool workers;
  tcp::acceptor acceptor;
  asio::signal_set signals;
  asio::steady_timer shutdown_timer;
  std::atomic<bool> stopping{false};
  std::atomic<int> n_connections{0};
  std::mutex mu;  // guards conns and streams
  std::list<std::weak_ptr<Connection>> conns;
  std::list<std::weak_ptr<ChunkStream>> streams;
};

awaitable<void> HttpServer::Impl::Accept() {
  for (;;) {
    auto& target = *conn_ctx[next_ctx++ % conn_ctx.size()];
    auto [ec, socket] = co_await acceptor.async_accept(target, kTuple);
    if (ec) {
      if (ec == asio::error::operation_aborted || stopping.load()) co_return;
      spdlog::warn("accept failed: {}", ec.message());
      continue;  // e.g. EMFILE: keep serving the connections we have
    }
    if (stopping.load()) co_return;
    beast::error_code nd_ec;
    socket.set_option(tcp::no_delay(true), nd_ec);  // small answers and SSE chunks go at once
    auto conn = std::make_shared<Connection>(std::move(socket));
    {
      std::lock_guard<std::mutex> lock(mu);
      conns.remove_if([](const auto& w) { return w.expired(); });
      conns.push_back(conn);
    }
    n_connections.fetch_add(1);
    auto ex = conn->stream.get_executor();
    asio::co_spawn(ex, Serve(std::move(conn)), [this](std::exception_ptr e) {
      if (e) {
        try {
          std::rethrow_exception(e);
        } catch (const std::exception& ex) {
          spdlog::error("connection failed: {}", ex.what());
        }
      }
      ConnectionDone();
    });
  }
}

void HttpServer::Impl::ConnectionDone() {
  if (n_connections.fetch_sub(1) == 1 && stopping.load()) {
    asio::post(ioc, [this] {
      if (n_connections.load() == 0) {
        shutdown_timer.cancel();
        signals.cancel();
      }
    });
  }
}

// While an offloaded (long) handler runs, the connection's socket is watched: turning readable
// with nothing to read means the client closed it, and the request is marked cancelled so the
// handler (an LLM generation) stops at its next step instead of computing for nobody. Data
// (a pipelined request) ends the watch without cancelling. The caller cancels the wait once
// the handler returns.
namespace {
void WatchForClose(const std::shared_ptr<Connection>& conn,
                   std::shared_ptr<std::atomic<bool>> cancelled) {
  conn->stream.socket().async_wait(
      tcp::socket::wait_read, [conn, cancelled = std::move(cancelled)](beast::error_code ec) {
        if (ec) return;  // the handler finished first
        char c;
        const ssize_t n =
            ::recv(conn->stream.socket().native_handle(), &c, 1, MSG_PEEK | MSG_DONTWAIT);
        if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK)) {
          cancelled->store(true);
        }
      });
}
}  // namespace

awaitable<Response> HttpServer::Impl::Handle(Request& req, bool offload) {
  auto run = [this, &req]() -> Response {
    try {
      return handler.handle(req);
    } catch (const std::exception& e) {
      spdlog::error("handler for {} {} threw: {}", req.method, req.path, e.what());
      return ErrorResponse(500, "internal error while handling the request");
    }
  };
  if (offload) {
    co_return co_await asio::co_spawn(
        workers, [&]() -> awaitable<Response> { co_return run(); }, asio::use_awaitable);
  }
  co_return run();
}

awaitable<void> HttpServer::Impl::Serve(std::shared_ptr<Connection> conn) {
  beast::flat_buffer buffer;
  auto& stream = conn->stream;
  std::string remote_address;
  {
    beast::error_code ep_ec;
    const auto ep = stream.socket().remote_endpoint(ep_ec);
    if (!ep_ec) remote_address = ep.address().to_string();
  }
  for (;;) {
    conn->busy = false;
    if (stopping.load()) break;
    http::request_parser<http::string_body> parser;
    parser.body_limit(opts.body_limit_bytes);
    parser.header_limit(opts.header_limit_bytes);
    stream.expires_after(opts.idle_timeout);
    auto [ec_h, n_h] = co_await http::async_read_header(stream, buffer, parser, kTuple);
    const auto t0 = std::chrono::steady_clock::now();
    conn->busy = true;
    int reject = 0;
    std::string reject_msg;
    if (!ec_h && !parser.is_done()) {  // a body follows the header
      stream.expires_after(opts.read_timeout);
      auto [ec_b, n_b] = co_await http::async_read(stream, buffer, parser, kTuple);
      ec_h = ec_b;
    }
    if (ec_h) {
      if (ec_h == http::error::body_limit) {
        reject = 413;
        reject_msg = "request body exceeds the limit of " + std::to_string(opts.body_limit_bytes) +
                     " bytes (raise limits.body_bytes in the config)";
      } else if (ec_h == http::error::header_limit) {
        reject = 431;
        reject_msg =
            "request header fields exceed " + std::to_string(opts.header_limit_bytes) + " bytes";
      } else if (ec_h == http::error::end_of_stream || ec_h == beast::error::timeout ||
                 ec_h == asio::error::operation_aborted || ec_h == asio::error::eof ||
                 ec_h == asio::error::connection_reset) {
        break;  // client closed, went idle, or shutdown
      } else {
        reject = 400;
        reject_msg = "malformed HTTP request: " + ec_h.message();
      }
      Response res = ErrorResponse(reject, reject_msg);
      http::response<http::string_body> out{static_cast<http::status>(reject), 11};
      CopyHeaders(res.headers, out);
      out.set(http::field::connection, "close");
      out.body() = std::move(res.body);
      out.prepare_payload();
      if (handler.on_complete) {
        Request r;
        r.method = "?";
        handler.on_complete(r, reject, 0.0);
      }
      stream.expires_after(opts.write_timeout);
      co_await http::async_write(stream, out, kTuple);
      break;
    }

    auto msg = parser.release();
    Request req;
    req.method = std::string(msg.method_string());
    req.target = std::string(msg.target());
    SplitTarget(req.target, &req);
    for (const auto& f : msg) req.headers[std::string(f.name_string())] = std::string(f.value());
    req.body = std::move(msg.body());
    req.remote_address = remote_address;
    const bool keep_alive = msg.keep_alive() && !stopping.load();

    stream.expires_never();
    const bool offload = handler.offload && handler.offload(req);
    if (offload) WatchForClose(conn, req.cancelled);
    Response res = co_await Handle(req, offload);
    if (offload) {
      beast::error_code ec_c;
      stream.socket().cancel(ec_c);  // ends the close watch
    }
    // Whole responses are accounted before they are sent, so a client that reads the answer
    // and then asks /metrics always sees its own request counted.
    auto complete = [&] {
      if (handler.on_complete) {
        handler.on_complete(
            req, res.status,
            std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
      }
    };
    bool ok = true;
    if (res.stream) {
      ok = co_await WriteStream(*conn, res, msg.version(), keep_alive);
    } else {
      const std::string head = ResponseHead(res, msg.version(), keep_alive);
      complete();
      stream.expires_after(opts.write_timeout);
      const std::array<asio::const_buffer, 2> bufs = {asio::buffer(head), asio::buffer(res.body)};
      auto [ec_w, n_w] = co_await asio::async_write(stream, bufs, kTuple);
      ok = !ec_w;
    }
    if (res.stream) complete();
    if (!ok || !keep_alive) break;
  }
  beast::error_code ec;
  stream.socket().shutdown(tcp::socket::shutdown_send, ec);
  stream.socket().close(ec);
}

awaitable<bool> HttpServer::Impl::WriteStream(Connection& conn, Response& res, unsigned version,
                                              bool keep_alive) {
  auto& stream = conn.stream;
  auto chunks = res.stream;
  {
    std::lock_guard<std::mutex> lock(mu);
    streams.remove_if([](const auto& w) { return w.expired(); });
    streams.push_back(chunks);
  }
  http::response<http::empty_body> head{static_cast<http::status>(res.status), version};
  CopyHeaders(res.headers, head);
  head.set(http::field::server, "ml-engine");
  head.keep_alive(keep_alive);
  head.chunked(true);
  http::response_serializer<http::empty_body> sr{head};
  stream.expires_after(opts.write_timeout);
  auto [ec_h, n_h] = co_await http::async_write_header(stream, sr, kTuple);
  if (ec_h) {
    chunks->Cancel();
    co_return false;
  }

  // Wake-ups: the producer's waker and a client disconnect both cancel this timer.
  auto ex = co_await asio::this_coro::executor;
  auto timer = std::make_shared<asio::steady_timer>(ex);
  auto gone = std::make_shared<bool>(false);
  chunks->SetWaker([timer, ex] { asio::post(ex, [timer] { timer->cancel(); }); });
  std::function<void()> watch;
  auto sock_alive = std::make_shared<bool>(true);
  stream.socket().async_wait(tcp::socket::wait_read,
                             [&, timer, gone, sock_alive](beast::error_code ec) {
                               if (!*sock_alive) return;
                               beast::error_code ec2;
                               if (ec || stream.socket().available(ec2) == 0) {
                                 *gone = true;  // EOF or reset: the client went away
                                 timer->cancel();
                               }
                             });

  bool ok = true;
  std::vector<std::string> pending;
  for (;;) {
    pending.clear();
    const bool open = chunks->Drain(&pending);
    for (auto& c : pending) {
      if (c.empty()) continue;
      stream.expires_after(opts.write_timeout);
      auto [ec_w, n_w] =
          co_await asio::async_write(stream, http::make_chunk(asio::buffer(c)), kTuple);
      if (ec_w) {
        ok = false;
        break;
      }
    }
    if (!ok) break;
    if (!open) {
      stream.expires_after(opts.write_timeout);
      auto [ec_l, n_l] = co_await asio::async_write(stream, http::make_chunk_last(), kTuple);
      ok = !ec_l;
      break;
    }
    if (*gone) {
      ok = false;
      break;
    }
    if (pending.empty()) {
      timer->expires_at(asio::steady_timer::time_point::max());
      co_await timer->async_wait(kTuple);
    }
  }
  *sock_alive = false;
  chunks->SetWaker(nullptr);
  if (!ok) chunks->Cancel();
  beast::error_code ec;
  stream.socket().cancel(ec);  // ends the pending readability wait
  co_return ok;
}

void HttpServer::Impl::BeginShutdown() {
  if (stopping.exchange(true)) return;
  spdlog::info("shutting down: no new connections; waiting up to {} ms for requests in flight",
               opts.shutdown_timeout.count());
  beast::error_code ec;
  acceptor.close(ec);
  std::vector<std::shared_ptr<Connection>> live;
  {
    std::lock_guard<std::mutex> lock(mu);
    for (auto& w : conns)
      if (auto c = w.lock()) live.push_back(std::move(c));
  }
  for (auto& c : live) {
    asio::post(c->stream.get_executor(), [c] {
      if (!c->busy) c->stream.cancel();  // idle keep-alive: stop waiting for a request
    });
  }
  if (n_connections.load() == 0) {
    signals.cancel();
    return;
  }
  shutdown_timer.expires_after(opts.shutdown_timeout);
  shutdown_timer.async_wait([this](beast::error_code ec) {
    if (!ec) ForceClose();
  });
}

void HttpServer::Impl::ForceClose() {
  spdlog::warn("shutdown timeout: cancelling {} connection(s) still busy", n_connections.load());
  std::vector<std::shared_ptr<Connection>> live;
  {
    std::lock_guard<std::mutex> lock(mu);
    for (auto& w : streams)
      if (auto s = w.lock()) s->Cancel(), s->Close();
    for (auto& w : conns)
      if (auto c = w.lock()) live.push_back(std::move(c));
  }
  for (auto& c : live) {
    asio::post(c->stream.get_executor(), [c] {
      beast::error_code ec;
      c->stream.socket().close(ec);
    });
  }
  signals.cancel();
}

HttpServer::HttpServer(HttpServerOptions options, RequestHandler handler)
    : impl_(std::make_unique<Impl>(std::move(options), std::move(handler))) {}

HttpServer::~HttpServer() {
  impl_->workers.join();
}

Status HttpServer::Start() {
  auto& im = *impl_;
  beast::error_code ec;
  const auto addr = asio::ip::make_address(im.opts.host, ec);
  if (ec) {
    return InvalidArgument("invalid listen address '" + im.opts.host +
                           "': use an IP address such as 127.0.0.1 or 0.0.0.0");
  }
  const tcp::endpoint ep(addr, im.opts.port);
  im.acceptor.open(ep.protocol(), ec);
  if (!ec) im.acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) im.acceptor.bind(ep, ec);
  if (ec) {
    const std::string where = im.opts.host + ":" + std::to_string(im.opts.port);
    if (ec == asio::error::address_in_use) {
      return Unavailable("cannot listen on " + where +
                         ": the port is in use (pick another with --port)");
    }
    if (ec == asio::error::access_denied) {
      return PermissionDenied("cannot listen on " + where +
                              ": permission denied (use a port above 1023)");
    }
    return Unavailable("cannot listen on " + where + ": " + ec.message());
  }
  im.acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) return Unavailable("cannot listen: " + ec.message());
  return Status::Ok();
}

uint16_t HttpServer::port() const {
  beast::error_code ec;
  return impl_->acceptor.local_endpoint(ec).port();
}

void HttpServer::Run(bool handle_signals) {
  auto& im = *impl_;
  if (handle_signals) {
    im.signals.add(SIGINT);
    im.signals.add(SIGTERM);
  }
  // The signal wait also keeps run() alive until shutdown completes.
  im.signals.async_wait([&im](beast::error_code ec, int sig) {
    if (!ec) {
      spdlog::info("received signal {}", sig);
      im.BeginShutdown();
    }
  });
  asio::co_spawn(im.ioc, im.Accept(), asio::detached);
  std::vector<std::thread> threads;
  for (auto& ctx : im.conn_ctx) threads.emplace_back([&c = *ctx] { c.run(); });
  im.ioc.run();  // returns once shutdown has closed every connection
  im.conn_work.clear();
  for (auto& t : threads) t.join();
}

void HttpServer::Stop() {
  asio::post(impl_->ioc, [im = impl_.get()] { im->BeginShutdown(); });
}

std::string_view ErrorTypeForStatus(int status) {
  switch (status) {
    case 401:
      return "authentication_error";
    case 403:
      return "permission_error";
    case 404:
      return "not_found_error";
    case 429:
      return "rate_limit_error";
    case 503:
      return "unavailable_error";
    default:
      return status >= 500 ? "server_error" : "invalid_request_error";
  }
}

Response ErrorResponse(int status, std::string_view message) {
  nlohmann::json j = {{"error",
                       {{"code", status},
                        {"message", std::string(message)},
                        {"type", std::string(ErrorTypeForStatus(status))}}}};
  return Response::Json(status, j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
}

Response StatusResponse(const Status& s) {
  int status = 500;
  switch (s.code()) {
    case StatusCode::kOk:
      status = 200;
      break;
    case StatusCode::kInvalidArgument:
    case StatusCode::kOutOfRange:
    case StatusCode::kCorruption:
      status = 400;
      break;
    case StatusCode::kUnauthenticated:
      status = 401;
      break;
    case StatusCode::kPermissionDenied:
      status = 403;
      break;
    case StatusCode::kNotFound:
      status = 404;
      break;
    case StatusCode::kAlreadyExists:
    case StatusCode::kFailedPrecondition:
      status = 409;
      break;
    case StatusCode::kResourceExhausted:
      status = 429;
      break;
    case StatusCode::kCancelled:
      status = 499;
      break;
    case StatusCode::kUnimplemented:
      status = 501;
      break;
    case StatusCode::kUnavailable:
      status = 503;
      break;
    case StatusCode::kDeadlineExceeded:
      status = 504;
      break;
    default:
      status = 500;
  }
  Response r = ErrorResponse(status, s.message());
  if (status == 503 || status == 429) r.headers["Retry-After"] = "1";  // busy: come back soon
  return r;
}

}  // namespace mle::server
