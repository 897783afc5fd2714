// The route table: method + path pattern -> handler, with per-route policy (public or behind
// API keys, the license feature it needs, whether it computes and runs on the worker pool).
// Patterns are literal segments and {name} segments ("/ml/jobs/{id}"). A path that matches no
// pattern is 404; one that matches with another method is 405 with the Allow list.
#pragma once

#include <functional>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "server/http_message.h"

namespace mle::server {

using Handler = std::function<Response(Request&)>;

struct RouteOptions {
  bool is_public = false;  // no API key needed (/health)
  std::string feature;     // license feature that gates the route ("" = none)
  bool offload = false;    // runs on the worker pool (it computes or blocks)
  bool quiet = false;      // logged at debug level (/health, /metrics)
  std::string summary;     // one line for the startup table and the API description
  // OpenAPI fragments (JSON text) for GET /openapi.json: the request body schema ("" = none)
  // and the success response (a JSON Schema, or "text" for text/plain).
  // "text" and "sse" stand for text/plain and text/event-stream answers.
  std::string request_schema;
  std::string response_schema;
  int success_status = 200;
  std::vector<std::pair<int, std::string>> other_responses;       // status, schema
  std::vector<std::pair<std::string, std::string>> query_params;  // name, schema

  // Chainable setters: RouteOptions().Public().Quiet().Summary("...").
  RouteOptions& Public() {
    is_public = true;
    return *this;
  }
  RouteOptions& Feature(std::string f) {
    feature = std::move(f);
    return *this;
  }
  RouteOptions& Offload() {
    offload = true;
    return *this;
  }
  RouteOptions& Quiet() {
    quiet = true;
    return *this;
  }
  RouteOptions& Summary(std::string s) {
    summary = std::move(s);
    return *this;
  }
  RouteOptions& Request(std::string schema) {
    request_schema = std::move(schema);
    return *this;
  }
  RouteOptions& Returns(std::string schema, int status = 200) {
    response_schema = std::move(schema);
    success_status = status;
    return *this;
  }
  // Another success answer (e.g. 200 for ?wait=true beside the usual 202).
  RouteOptions& AlsoReturns(int status, std::string schema) {
    other_responses.emplace_back(status, std::move(schema));
    return *this;
  }
  RouteOptions& Query(std::string name, std::string schema) {
    query_params.emplace_back(std::move(name), std::move(schema));
    return *this;
  }
};

struct Route {
  std::string method;
  std::string pattern;
  std::vector<std::string> segments;  // pattern split on '/'
  Handler handler;
  RouteOptions options;
};

class Router {
 public:
  void Add(std::string method, std::string pattern, Handler handler, RouteOptions options = {});

  struct Match {
    const Route* route = nullptr;  // null: see allowed
    std::map<std::string, std::string> params;
    std::vector<std::string> allowed;  // methods for this path when route is null (405)
  };
  // REQUIRES: path starts with '/'.
  Match Find(const std::string& method, const std::string& path) const;

  const std::vector<Route>& routes() const { return routes_; }

 private:
  std::vector<Route> routes_;
};

}  // namespace mle::server
