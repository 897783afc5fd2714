// Route modules: each Add*Routes registers its handlers on the server's router.
#pragma once

#include "server/llm_pool.h"
#include "server/presets.h"
#include "server/server.h"

namespace mle::server {

// GET /health, GET /metrics.
void AddCoreRoutes(Server& server);
struct LlmRoutesOptions {
  std::string default_preset;  // applied when a request names none ("" = none)
  bool streaming = true;       // false: stream requests are refused (400)
};
// The LLM routes (/llm/*, /v1/*) over the models of `pool`; requests may name a preset of
// `presets`. REQUIRES: pool and presets outlive server.
void AddLlmRoutes(Server& server, ModelPool& pool, const PresetStore& presets,
                  const LlmRoutesOptions& options);
// GET /openapi.json, built from the route table (register it last).
void AddOpenApiRoute(Server& server);

}  // namespace mle::server
