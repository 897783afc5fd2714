#include "common/http_test_client.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstring>
#include <thread>

namespace mle::testing {

HttpConnection::HttpConnection(const std::string& host, int port, int timeout_ms)
    : timeout_ms_(timeout_ms), host_(host + ":" + std::to_string(port)) {
  fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd_ < 0) return;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  ::inet_pton(AF_INET, host.c_str(), &addr.sin_addr);
  if (::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd_);
    fd_ = -1;
    return;
  }
  int one = 1;
  ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

HttpConnection::~HttpConnection() {
  if (fd_ >= 0) ::close(fd_);
}

bool HttpConnection::SendRaw(const std::string& bytes) {
  size_t off = 0;
  while (off < bytes.size()) {
    const ssize_t n = ::send(fd_, bytes.data() + off, bytes.size() - off, MSG_NOSIGNAL);
    if (n <= 0) return false;
    off += static_cast<size_t>(n);
  }
  return true;
}

bool HttpConnection::Fill() {
  pollfd p{fd_, POLLIN, 0};
  if (::poll(&p, 1, timeout_ms_) <= 0) return false;
  char tmp[16384];
  const ssize_t n = ::recv(fd_, tmp, sizeof tmp, 0);
  if (n <= 0) return false;
  buf_.append(tmp, static_cast<size_t>(n));
  return true;
}

HttpResult HttpConnection::ReadResponse() {
  HttpResult r;
  size_t end;
  while ((end = buf_.find("\r\n\r\n")) == std::string::npos) {
    if (!Fill()) {
      r.error = "no complete response header";
      return r;
    }
  }
  std::string head = buf_.substr(0, end);
  buf_.erase(0, end + 4);
  size_t line_end = head.find("\r\n");
  std::string status_line = head.substr(0, line_end);
  if (status_line.size() >= 12) r.status = std::atoi(status_line.c_str() + 9);
  size_t pos = line_end == std::string::npos ? head.size() : line_end + 2;
  while (pos < head.size()) {
    size_t e = head.find("\r\n", pos);
    if (e == std::string::npos) e = head.size();
    std::string line = head.substr(pos, e - pos);
    const size_t colon = line.find(':');
    if (colon != std::string::npos) {
      std::string name = line.substr(0, colon);
      std::transform(name.begin(), name.end(), name.begin(), ::tolower);
      size_t v = colon + 1;
      while (v < line.size() && line[v] == ' ') ++v;
      r.headers[name] = line.substr(v);
    }
    pos = e + 2;
  }
  if (r.headers["transfer-encoding"] == "chunked") {
    for (;;) {
      size_t le;
      while ((le = buf_.find("\r\n")) == std::string::npos) {
        if (!Fill()) {
          r.error = "chunked body cut short";
          return r;
        }
      }
      const size_t size = std::strtoul(buf_.substr(0, le).c_str(), nullptr, 16);
      while (buf_.size() < le + 2 + size + 2) {
        if (!Fill()) {
          r.error = "chunk cut short";
          return r;
        }
      }
      r.body += buf_.substr(le + 2, size);
      buf_.erase(0, le + 2 + size + 2);
      if (size == 0) break;
    }
  } else if (r.headers.count("content-length")) {
    const size_t len = std::strtoul(r.headers["content-length"].c_str(), nullptr, 10);
    while (buf_.size() < len) {
      if (!Fill()) {
        r.error = "body cut short";
        return r;
      }
    }
    r.body = buf_.substr(0, len);
    buf_.erase(0, len);
  }
  return r;
}

HttpResult HttpConnection::Request(const std::string& method, const std::string& target,
                                   const std::map<std::string, std::string>& headers,
                                   const std::string& body) {
  std::string req = method + " " + target + " HTTP/1.1\r\nHost: " + host_ + "\r\n";
  for (const auto& [k, v] : headers) req += k + ": " + v + "\r\n";
  if (!body.empty() || method == "POST" || method == "PUT") {
    req += "Content-Length: " + std::to_string(body.size()) + "\r\n";
  }
  req += "\r\n" + body;
  if (!SendRaw(req)) {
    HttpResult r;
    r.error = "send failed";
    return r;
  }
  return ReadResponse();
}

void HttpConnection::ShutdownWrite() {
  ::shutdown(fd_, SHUT_WR);
}

bool HttpConnection::WaitClosed() {
  while (Fill()) {
  }
  pollfd p{fd_, POLLIN, 0};
  if (::poll(&p, 1, timeout_ms_) <= 0) return false;
  char c;
  return ::recv(fd_, &c, 1, 0) <= 0;
}

HttpResult HttpCall(int port, const std::string& method, const std::string& target,
                    const std::map<std::string, std::string>& headers, const std::string& body) {
  HttpConnection c("127.0.0.1", port);
  if (!c.connected()) {
    HttpResult r;
    r.error = "connect failed";
    return r;
  }
  auto h = headers;
  h.emplace("Connection", "close");
  return c.Request(method, target, h, body);
}

int FreePort() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  const int port = ntohs(addr.sin_port);
  ::close(fd);
  return port;
}

bool WaitHealthy(int port, int timeout_ms) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (std::chrono::steady_clock::now() < deadline) {
    if (HttpCall(port, "GET", "/health").status == 200) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return false;
}

}  // namespace mle::testing
