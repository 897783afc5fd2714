// Routes every server has: GET /health (public; 503 while loading) and GET /metrics
// (Prometheus text format).
#include "server/routes.h"

namespace mle::server {
namespace {

constexpr const char* kHealthSchema =
    R"({"type":"object","required":["service","status"],"properties":{"service":{"type":"string"},"status":{"type":"string"}}})";

}  // namespace

void AddCoreRoutes(Server& server) {
  server.router().Add(
      "GET", "/health",
      [&server](Request&) {
        if (!server.ready()) {
          Response r = Response::Json(503, R"({"service":"ml-engine","status":"loading"})");
          r.headers["Retry-After"] = "1";
          return r;
        }
        return Response::Json(200, R"({"service":"ml-engine","status":"ok"})");
      },
      RouteOptions()
          .Public()
          .Quiet()
          .Summary("liveness and readiness")
          .Returns(kHealthSchema)
          .AlsoReturns(503, kHealthSchema));
  server.router().Add(
      "GET", "/metrics",
      [&server](Request&) {
        return Response::Text(200, server.metrics().Render(),
                              "text/plain; version=0.0.4; charset=utf-8");
      },
      RouteOptions().Quiet().Summary("Prometheus metrics").Returns("text"));
}

}  // namespace mle::server
