// Blocking HTTP(S) GET (see http_client.h).
#include "net/http_client.h"

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/beast/version.hpp>

namespace mle::net {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

struct Url {
  bool tls = false;
  std::string host, port, target;
};

Result<Url> ParseUrl(const std::string& url) {
  Url u;
  std::string rest;
  if (url.rfind("https://", 0) == 0) {
    u.tls = true;
    rest = url.substr(8);
  } else if (url.rfind("http://", 0) == 0) {
    rest = url.substr(7);
  } else {
    return InvalidArgument("unsupported URL '" + url + "' (use http:// or https://)");
  }
  size_t slash = rest.find('/');
  std::string authority = rest.substr(0, slash);
  u.target = slash == std::string::npos ? "/" : rest.substr(slash);
  size_t colon = authority.find(':');
  u.host = authority.substr(0, colon);
  u.port = colon == std::string::npos ? (u.tls ? "443" : "80") : authority.substr(colon + 1);
  if (u.host.empty()) return InvalidArgument("URL '" + url + "' has no host");
  return u;
}

template <typename Stream>
Result<HttpResponse> Exchange(Stream& stream, const Url& u, const HttpGetOptions& o) {
  http::request<http::empty_body> req{http::verb::get, u.target, 11};
  req.set(http::field::host, u.host);
  req.set(http::field::user_agent, "ml-engine");
  http::write(stream, req);
  beast::flat_buffer buffer;
  http::response_parser<http::string_body> parser;
  parser.body_limit(o.max_body_bytes);
  http::read(stream, buffer, parser);
  HttpResponse r;
  r.status = static_cast<int>(parser.get().result_int());
  if (r.status >= 300 && r.status < 400) {
    r.final_url = std::string(parser.get()[http::field::location]);
  } else {
    r.body = std::move(parser.get().body());
  }
  return r;
}

Result<HttpResponse> GetOnce(const Url& u, const HttpGetOptions& o) {
  asio::io_context ioc;
  tcp::resolver resolver(ioc);
  auto endpoints = resolver.resolve(u.host, u.port);
  if (!u.tls) {
    beast::tcp_stream stream(ioc);
    stream.expires_after(o.timeout);
    stream.connect(endpoints);
    stream.expires_after(o.timeout);
    return Exchange(stream, u, o);
  }
  asio::ssl::context ctx(asio::ssl::context::tls_client);
  ctx.set_default_verify_paths();
  ctx.set_verify_mode(asio::ssl::verify_peer);
  beast::ssl_stream<beast::tcp_stream> stream(ioc, ctx);
  if (!SSL_set_tlsext_host_name(stream.native_handle(), u.host.c_str())) {
    return Unavailable("TLS setup for '" + u.host + "' failed");
  }
  stream.set_verify_callback(asio::ssl::host_name_verification(u.host));
  beast::get_lowest_layer(stream).expires_after(o.timeout);
  beast::get_lowest_layer(stream).connect(endpoints);
  stream.handshake(asio::ssl::stream_base::client);
  beast::get_lowest_layer(stream).expires_after(o.timeout);
  return Exchange(stream, u, o);
}

}  // namespace

Result<HttpResponse> HttpGet(const std::string& url, const HttpGetOptions& options) {
  std::string current = url;
  for (int hop = 0; hop <= options.max_redirects; ++hop) {
    MLE_ASSIGN_OR_RETURN(Url u, ParseUrl(current));
    Result<HttpResponse> r = Unavailable("");
    try {
      r = GetOnce(u, options);
    } catch (const std::exception& e) {
      return Unavailable("cannot download '" + current + "' from " + u.host + ": " + e.what());
    }
    if (!r.ok()) return r.status();
    if (r->status >= 300 && r->status < 400 && !r->final_url.empty()) {
      current = r->final_url;
      continue;
    }
    r->final_url = current;
    return r;
  }
  return Unavailable("too many redirects fetching '" + url + "'");
}

}  // namespace mle::net
