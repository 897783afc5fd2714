// Route modules: each Add*Routes registers its handlers on the server's router.
#pragma once

#include "server/server.h"

namespace mle::server {

// GET /health, GET /metrics.
void AddCoreRoutes(Server& server);
// GET /openapi.json, built from the route table (register it last).
void AddOpenApiRoute(Server& server);

}  // namespace mle::server
