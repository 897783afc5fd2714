// Test helper: a deliberately plain HTTP/1.1 client over POSIX sockets, so that server tests
// exercise the real wire format (and can send malformed bytes) without sharing code with the
// server. One request per connection unless a Connection is reused.
#pragma once

#include <map>
#include <string>
#include <vector>

namespace mle::testing {

struct HttpResult {
  int status = 0;  // 0 when the connection failed or closed before a status line
  std::map<std::string, std::string> headers;  // names lower-cased
  std::string body;                            // de-chunked
  std::string error;                           // transport failure, if any
};

class HttpConnection {
 public:
  HttpConnection(const std::string& host, int port, int timeout_ms = 10000);
  ~HttpConnection();
  bool connected() const { return fd_ >= 0; }

  // Sends raw bytes as they are.
  bool SendRaw(const std::string& bytes);
  // Sends one request (adds Host, Content-Length) and reads the response.
  HttpResult Request(const std::string& method, const std::string& target,
                     const std::map<std::string, std::string>& headers = {},
                     const std::string& body = "");
  // Reads one response (after SendRaw).
  HttpResult ReadResponse();
  // Half-closes the connection (the server sees end of input).
  void ShutdownWrite();
  // Reads until the peer closes; true if it did within the timeout.
  bool WaitClosed();

 private:
  bool Fill();
  int fd_ = -1;
  int timeout_ms_;
  std::string host_;
  std::string buf_;
};

// One request on a fresh connection.
HttpResult HttpCall(int port, const std::string& method, const std::string& target,
                    const std::map<std::string, std::string>& headers = {},
                    const std::string& body = "");

// A free TCP port on 127.0.0.1 (bound and released; good enough for tests).
int FreePort();

// Polls GET /health until it answers 200 or timeout_ms passes.
bool WaitHealthy(int port, int timeout_ms);

}  // namespace mle::testing
