// GET /openapi.json: an OpenAPI 3.1 description built from the route table itself, so the
// document cannot drift from the routes (each route carries its schemas in RouteOptions).
#include <nlohmann/json.hpp>

#include "server/routes.h"

namespace mle::server {
namespace {

using nlohmann::ordered_json;

ordered_json ErrorSchema() {
  return {{"type", "object"},
          {"required", {"error"}},
          {"properties",
           {{"error",
             {{"type", "object"},
              {"required", {"code", "message", "type"}},
              {"properties",
               {{"code", {{"type", "integer"}}},
                {"message", {{"type", "string"}}},
                {"type", {{"type", "string"}}}}}}}}}};
}

ordered_json SuccessResponse(const std::string& schema) {
  ordered_json ok;
  ok["description"] = "success";
  if (schema == "text") {
    ok["content"] = {{"text/plain", {{"schema", {{"type", "string"}}}}}};
  } else if (schema == "sse") {
    // Each server-sent event: its data line(s) and optional event name.
    ok["content"]["text/event-stream"]["schema"] = ordered_json::parse(
        R"({"type": "object", "required": ["data"], "properties": {"data": {"type": "string"},
            "event": {"type": "string"}, "id": {"type": "string"}}})");
  } else if (!schema.empty()) {
    ok["content"] = {{"application/json", {{"schema", ordered_json::parse(schema)}}}};
  }
  return ok;
}

ordered_json Operation(const Route& r) {
  ordered_json op;
  op["summary"] = r.options.summary.empty() ? r.method + " " + r.pattern : r.options.summary;
  op["operationId"] = r.method + r.pattern;
  ordered_json params = ordered_json::array();
  for (const auto& seg : r.segments) {
    if (seg.size() > 2 && seg.front() == '{') {
      params.push_back({{"name", seg.substr(1, seg.size() - 2)},
                        {"in", "path"},
                        {"required", true},
                        {"schema", {{"type", "string"}}}});
    }
  }
  for (const auto& [name, schema] : r.options.query_params) {
    params.push_back({{"name", name},
                      {"in", "query"},
                      {"required", false},
                      {"schema", ordered_json::parse(schema)}});
  }
  if (!params.empty()) op["parameters"] = params;
  if (!r.options.request_schema.empty()) {
    op["requestBody"] = {
        {"required", true},
        {"content",
         {{"application/json", {{"schema", ordered_json::parse(r.options.request_schema)}}}}}};
  }
  ordered_json responses;
  responses[std::to_string(r.options.success_status)] = SuccessResponse(r.options.response_schema);
  for (const auto& [status, schema] : r.options.other_responses) {
    const std::string key = std::to_string(status);
    ordered_json extra = SuccessResponse(schema);
    if (responses.contains(key) && responses[key].contains("content") &&
        extra.contains("content")) {
      responses[key]["content"].update(extra["content"]);  // e.g. JSON or an SSE stream
    } else {
      responses[key] = extra;
    }
  }
  const ordered_json err = {
      {"description", "error"},
      {"content", {{"application/json", {{"schema", {{"$ref", "#/components/schemas/Error"}}}}}}}};
  responses["4XX"] = err;
  responses["5XX"] = err;
  op["responses"] = responses;
  if (r.options.is_public) op["security"] = ordered_json::array();
  return op;
}

}  // namespace

void AddOpenApiRoute(Server& server) {
  server.router().Add(
      "GET", "/openapi.json",
      [&server](Request&) {
        ordered_json doc;
        doc["openapi"] = "3.1.0";
        doc["info"] = {{"title", "ml-engine"}, {"version", "1"}};
        ordered_json paths = ordered_json::object();
        for (const Route& r : server.router().routes()) {
          std::string m = r.method;
          for (auto& c : m) c = static_cast<char>(std::tolower(c));
          paths[r.pattern][m] = Operation(r);
        }
        doc["paths"] = paths;
        doc["components"] = {
            {"schemas", {{"Error", ErrorSchema()}}},
            {"securitySchemes",
             {{"bearer", {{"type", "http"}, {"scheme", "bearer"}}},
              {"apiKey", {{"type", "apiKey"}, {"in", "header"}, {"name", "X-Api-Key"}}}}}};
        if (!server.options().api_keys.empty()) {
          doc["security"] = {{{"bearer", ordered_json::array()}},
                             {{"apiKey", ordered_json::array()}}};
        }
        return Response::Json(200, doc.dump());
      },
      RouteOptions()
          .Public()
          .Quiet()
          .Summary("this API's OpenAPI 3.1 description")
          .Returns(R"({"type":"object"})"));
}

}  // namespace mle::server
