// Route modules: each Add*Routes registers its handlers on the server's router.
#pragma once

#include "server/llm_pool.h"
#include "server/presets.h"
#include "server/server.h"

namespace mle::server {

// GET /health, GET /metrics.
void AddCoreRoutes(Server& server);
// The LLM routes (/llm/*, /v1/*) over the models of `pool`; requests may name a preset of
// `presets` ("" default_preset = none). REQUIRES: pool and presets outlive server.
void AddLlmRoutes(Server& server, ModelPool& pool, const PresetStore& presets,
                  const std::string& default_preset);
// GET /openapi.json, built from the route table (register it last).
void AddOpenApiRoute(Server& server);

}  // namespace mle::server
