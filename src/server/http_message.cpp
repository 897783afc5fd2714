#include "server/http_message.h"

#include <algorithm>
#include <cctype>

namespace mle::server {

bool CaseInsensitiveLess::operator()(std::string_view a, std::string_view b) const {
  return std::lexicographical_compare(a.begin(), a.end(), b.begin(), b.end(), [](char x, char y) {
    return std::tolower(static_cast<unsigned char>(x)) <
           std::tolower(static_cast<unsigned char>(y));
  });
}

const std::string* Request::Header(std::string_view name) const {
  auto it = headers.find(std::string(name));
  return it == headers.end() ? nullptr : &it->second;
}

std::string Request::QueryOr(const std::string& name, std::string def) const {
  auto it = query.find(name);
  return it == query.end() ? def : it->second;
}

bool ChunkStream::Write(std::string chunk) {
  std::function<void()> waker;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (closed_ || cancelled()) return !cancelled();
    chunks_.push_back(std::move(chunk));
    waker = waker_;
  }
  if (waker) waker();
  return true;
}

void ChunkStream::Close() {
  std::function<void()> waker;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (closed_) return;
    closed_ = true;
    waker = waker_;
  }
  if (waker) waker();
}

void ChunkStream::Cancel() {
  cancelled_.store(true, std::memory_order_release);
}

bool ChunkStream::Drain(std::vector<std::string>* out) {
  std::lock_guard<std::mutex> lock(mu_);
  while (!chunks_.empty()) {
    out->push_back(std::move(chunks_.front()));
    chunks_.pop_front();
  }
  return !closed_ || !out->empty();
}

void ChunkStream::SetWaker(std::function<void()> waker) {
  std::lock_guard<std::mutex> lock(mu_);
  waker_ = std::move(waker);
}

Response Response::Json(int status, std::string body) {
  Response r;
  r.status = status;
  r.headers["Content-Type"] = "application/json";
  r.body = std::move(body);
  return r;
}

Response Response::Text(int status, std::string body, std::string content_type) {
  Response r;
  r.status = status;
  r.headers["Content-Type"] = std::move(content_type);
  r.body = std::move(body);
  return r;
}

Response Response::EventStream(std::shared_ptr<ChunkStream> stream) {
  Response r;
  r.status = 200;
  r.headers["Content-Type"] = "text/event-stream";
  r.headers["Cache-Control"] = "no-cache";
  r.headers["X-Accel-Buffering"] = "no";
  r.stream = std::move(stream);
  return r;
}

std::string SseEvent(std::string_view payload, std::string_view event) {
  std::string out;
  out.reserve(payload.size() + 16);
  if (!event.empty()) {
    out += "event: ";
    out += event;
    out += '\n';
  }
  size_t start = 0;
  for (;;) {
    const size_t nl = payload.find('\n', start);
    out += "data: ";
    out +=
        payload.substr(start, nl == std::string_view::npos ? std::string_view::npos : nl - start);
    out += '\n';
    if (nl == std::string_view::npos) break;
    start = nl + 1;
  }
  out += '\n';
  return out;
}

}  // namespace mle::server
