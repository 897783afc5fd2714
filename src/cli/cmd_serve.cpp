// `ml-engine serve`: resolves the server's configuration, registers the routes, prints the
// route table and the effective configuration, and serves until SIGINT/SIGTERM.
#include <cstdio>

#include <spdlog/spdlog.h>

#include "cli/commands.h"
#include "server/license.h"
#include "server/routes.h"
#include "server/server.h"

namespace mle::cli {
namespace {

Result<server::ServerOptions> ServerOptionsFromConfig(const Config& c) {
  server::ServerOptions o;
  o.http.port = static_cast<uint16_t>(c.GetInt("common.api_port"));
  o.api_keys = c.GetStringList("security.api_keys");
  for (const auto& k : o.api_keys) {
    if (k.size() < 8) {
      return InvalidArgument("security.api_keys: a key of " + std::to_string(k.size()) +
                             " characters is too easy to guess (use at least 8)");
    }
  }
  std::string host = c.GetString("common.host");
  const bool host_given = c.Origin("common.host") != "default" && !host.empty();
  if (!host_given) host = "127.0.0.1";
  if (o.api_keys.empty() && host_given && host != "127.0.0.1" && host != "::1") {
    spdlog::warn(
        "listening on {} with no API keys: anyone who can reach this port can use it "
        "(add --api-key)",
        host);
  } else if (o.api_keys.empty()) {
    spdlog::warn(
        "no API keys configured: listening on 127.0.0.1 only (add --api-key and "
        "--host to serve other machines)");
  }
  o.http.host = host;
  o.http.io_threads = static_cast<int>(c.GetInt("server.io_threads"));
  o.http.worker_threads = static_cast<int>(c.GetInt("server.worker_threads"));
  o.http.body_limit_bytes = static_cast<uint64_t>(c.GetInt("limits.body_bytes"));
  o.http.header_limit_bytes = static_cast<uint32_t>(c.GetInt("limits.header_bytes"));
  o.http.read_timeout = std::chrono::milliseconds(c.GetInt("limits.read_timeout_ms"));
  o.http.idle_timeout = std::chrono::milliseconds(c.GetInt("limits.idle_timeout_ms"));
  o.http.shutdown_timeout = std::chrono::milliseconds(c.GetInt("limits.shutdown_timeout_ms"));
  o.rate_limit_rpm = c.GetDouble("security.rate_limit.rpm");
  o.rate_limit_burst = static_cast<int>(c.GetInt("security.rate_limit.burst"));
  if (const std::string path = c.GetString("common.license"); !path.empty()) {
    auto lic = server::VerifyLicense(path, c.GetString("common.public_key_path"),
                                     std::chrono::system_clock::now());
    if (!lic.ok()) return lic.status().WithContext("common.license");
    o.licensed_features = lic->features;
    o.license_description = lic->Describe();
    spdlog::info("license: {}", o.license_description);
  }
  return o;
}

void PrintBanner(const server::Server& srv, const std::string& host, const Config& config) {
  std::printf("ml-engine serving on http://%s:%u\n\nroutes:\n", host.c_str(), srv.port());
  for (const auto& r : const_cast<server::Server&>(srv).router().routes()) {
    std::printf("  %-7s %-28s %s%s\n", r.method.c_str(), r.pattern.c_str(),
                r.options.summary.c_str(), r.options.is_public ? " (public)" : "");
  }
  nlohmann::json effective = config.ToJson();
  if (effective.contains("security") && effective["security"].contains("api_keys")) {
    effective["security"]["api_keys"] =
        std::to_string(effective["security"]["api_keys"].size()) + " key(s)";
  }
  std::printf("\neffective configuration:\n%s\n\n", effective.dump(2).c_str());
  std::printf("try:\n  curl http://%s:%u/health\n", host.c_str(), srv.port());
  std::fflush(stdout);
}

}  // namespace

void AddServeCommand(CLI::App& app, CliContext& ctx) {
  CLI::App* cmd = app.add_subcommand("serve", "run the REST server");
  BindConfigFlags(cmd, ctx, "serve");
  cmd->callback([&ctx] {
    ctx.run = [&ctx]() -> int {
      auto opts = ServerOptionsFromConfig(ctx.config);
      if (!opts.ok()) return Fail(opts.status());
      const std::string host = opts->http.host;
      server::Server srv(std::move(*opts));
      server::AddCoreRoutes(srv);
      server::AddOpenApiRoute(srv);
      if (Status s = srv.Start(); !s.ok()) return Fail(s);
      PrintBanner(srv, host, ctx.config);
      srv.SetReady(true);
      srv.Run(/*handle_signals=*/true);
      spdlog::info("server stopped");
      return kExitOk;
    };
  });
}

}  // namespace mle::cli
