#include "server/router.h"

#include <algorithm>

namespace mle::server {
namespace {

std::vector<std::string> SplitPath(const std::string& path) {
  std::vector<std::string> out;
  size_t start = 1;
  while (start <= path.size()) {
    const size_t slash = path.find('/', start);
    const size_t end = slash == std::string::npos ? path.size() : slash;
    out.push_back(path.substr(start, end - start));
    if (slash == std::string::npos) break;
    start = slash + 1;
  }
  return out;
}

bool MatchSegments(const Route& r, const std::vector<std::string>& segs,
                   std::map<std::string, std::string>* params) {
  if (r.segments.size() != segs.size()) return false;
  for (size_t i = 0; i < segs.size(); ++i) {
    const std::string& p = r.segments[i];
    if (p.size() >= 2 && p.front() == '{' && p.back() == '}') {
      if (segs[i].empty()) return false;
      (*params)[p.substr(1, p.size() - 2)] = segs[i];
    } else if (p != segs[i]) {
      return false;
    }
  }
  return true;
}

}  // namespace

void Router::Add(std::string method, std::string pattern, Handler handler, RouteOptions options) {
  Route r;
  r.segments = SplitPath(pattern);
  r.method = std::move(method);
  r.pattern = std::move(pattern);
  r.handler = std::move(handler);
  r.options = std::move(options);
  routes_.push_back(std::move(r));
}

Router::Match Router::Find(const std::string& method, const std::string& path) const {
  Match m;
  const auto segs = SplitPath(path.empty() ? "/" : path);
  for (const Route& r : routes_) {
    std::map<std::string, std::string> params;
    if (!MatchSegments(r, segs, &params)) continue;
    if (r.method == method || (method == "HEAD" && r.method == "GET")) {
      m.route = &r;
      m.params = std::move(params);
      return m;
    }
    if (std::find(m.allowed.begin(), m.allowed.end(), r.method) == m.allowed.end()) {
      m.allowed.push_back(r.method);
    }
  }
  return m;
}

}  // namespace mle::server
