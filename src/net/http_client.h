// A small blocking HTTP/HTTPS client (Boost.Beast + OpenSSL) for downloads: GET with
// redirects, certificate verification against the system store, and timeouts. The server
// side lives in server/; this is the client used by `data` and, later, upstream pools.
#pragma once

#include <chrono>
#include <string>

#include "core/status.h"

namespace mle::net {

struct HttpGetOptions {
  std::chrono::seconds timeout{60};  // per connection attempt and per read
  int max_redirects = 5;
  size_t max_body_bytes = 256u << 20;
};

struct HttpResponse {
  int status = 0;
  std::string body;
  std::string final_url;
};

// GETs `url` (http:// or https://). Network failures are Unavailable with the host named.
Result<HttpResponse> HttpGet(const std::string& url, const HttpGetOptions& options = {});

}  // namespace mle::net
