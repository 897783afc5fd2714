// `ml-engine serve`: resolves the server's configuration, registers the routes, prints the
// route table and the effective configuration, and serves until SIGINT/SIGTERM.
#include <cstdio>
#include <thread>

#include <spdlog/spdlog.h>

#include "cli/commands.h"
#include "server/license.h"
#include "server/routes.h"
#include "server/server.h"
#ifdef MLE_HAVE_TORCH
#include "cli/train_console.h"
#include "server/ml/routes_ml.h"
#endif

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

void PrintBanner(const server::Server& srv, server::ModelPool& pool, const std::string& host,
                 const Config& config) {
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
  // Examples that work against this server as configured (with a key placeholder if needed).
  const std::string base = "http://" + host + ":" + std::to_string(srv.port());
  const std::string auth =
      srv.options().api_keys.empty() ? "" : "-H \"Authorization: Bearer $API_KEY\" ";
  std::printf("try:\n  curl %s/health\n", base.c_str());
  bool ml = false;
  for (const auto& r : const_cast<server::Server&>(srv).router().routes()) {
    ml = ml || r.pattern == "/ml/train";
  }
  if (ml) {
    const char* a = auth.c_str();
    const char* b = base.c_str();
    std::printf("  curl %s%s/ml/models\n", a, b);
    std::printf("  curl %s-X POST %s/ml/train -d '{\"model\":\"mlp_mnist\",\"epochs\":1}'\n", a, b);
    std::printf("  curl %s%s/ml/jobs\n", a, b);
    std::printf("  curl %s-N %s/ml/jobs/<id>/events\n", a, b);
    // 784 zero pixels, spelled by the shell.
    std::printf(
        "  curl %s-X POST %s/ml/predict -d "
        "\"{\\\"model\\\":\\\"cnn_mnist\\\",\\\"inputs\\\":[[$(printf '0,%%.0s' {1..783})0]]}\"\n",
        a, b);
  }
  // A chat (or completion) request against the first model of the models directory.
  for (const auto& m : pool.List()) {
    if (!m.error.empty()) continue;
    if (m.has_chat_template) {
      std::printf(
          "  curl %s%s/v1/chat/completions -d '{\"model\":\"%s\",\"messages\":[{\"role\":"
          "\"user\",\"content\":\"Hello\"}],\"max_tokens\":32}'\n",
          auth.c_str(), base.c_str(), m.name.c_str());
    } else {
      std::printf(
          "  curl %s%s/v1/completions -d '{\"model\":\"%s\",\"prompt\":\"Once upon a "
          "time\",\"max_tokens\":32}'\n",
          auth.c_str(), base.c_str(), m.name.c_str());
    }
    break;
  }
  std::printf("  curl %s%s/metrics\nAPI reference: docs/api.md, or GET /openapi.json\n",
              auth.c_str(), base.c_str());
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
#ifdef MLE_HAVE_TORCH
      // Declared before the server: its handlers use the job manager until it is destroyed.
      server::JobManagerOptions jo;
      jo.runs_dir = ctx.config.GetString("paths.runs");
      jo.max_queued = static_cast<size_t>(ctx.config.GetInt("jobs.max_queued"));
      auto jobs = server::JobManager::Open(jo);
      if (!jobs.ok()) return Fail(jobs.status().WithContext("paths.runs"));
#endif
      server::ModelPoolOptions po;
      po.models_dir = ctx.config.GetString("paths.models");
      po.max_loaded = static_cast<size_t>(ctx.config.GetInt("llm.max_loaded_models"));
      po.scheduler.n_slots = static_cast<int32_t>(ctx.config.GetInt("llm.n_slots"));
      po.scheduler.n_ctx = static_cast<int32_t>(ctx.config.GetInt("llm.n_ctx"));
      po.scheduler.n_batch = static_cast<int32_t>(ctx.config.GetInt("llm.n_batch"));
      po.scheduler.n_threads = ResolvedThreads(ctx.config);
      po.scheduler.max_queued = static_cast<size_t>(ctx.config.GetInt("llm.max_queued"));
      server::ModelPool pool(po);  // before the server: its handlers use it
      auto presets = server::PresetStore::Load(ctx.config.GetString("serving.presets_dir"));
      if (!presets.ok()) return Fail(presets.status().WithContext("serving.presets_dir"));
      const std::string default_preset = ctx.config.GetString("serving.default_preset");
      if (!default_preset.empty()) {
        if (auto p = presets->Find(default_preset); !p.ok()) {
          return Fail(p.status().WithContext("serving.default_preset"));
        }
      }
      server::Server srv(std::move(*opts));
      server::AddCoreRoutes(srv);
      server::LlmRoutesOptions lo;
      lo.default_preset = default_preset;
      lo.streaming = ctx.config.GetBool("serving.streaming");
      server::AddLlmRoutes(srv, pool, *presets, lo);
#ifdef MLE_HAVE_TORCH
      server::MlRoutesOptions mo;
      mo.defaults = TrainOptionsFromConfig(ctx.config, "");
      mo.data_dir = ctx.config.GetString("paths.data");
      mo.checkpoints_dir = ctx.config.GetString("paths.checkpoints");
      mo.max_epochs = ctx.config.GetInt("jobs.max_epochs");
      server::AddMlRoutes(srv, **jobs, std::move(mo));
#endif
      server::AddOpenApiRoute(srv);
      if (Status s = srv.Start(); !s.ok()) return Fail(s);
      PrintBanner(srv, pool, host, ctx.config);
      // /health answers 503 "loading" until the preloaded model is in; a model that cannot
      // load stops the server (exit 2).
      Status preload_status;
      std::thread preloader([&] {
        if (const std::string name = ctx.config.GetString("llm.preload"); !name.empty()) {
          auto lm = pool.Acquire(name);
          if (!lm.ok()) {
            preload_status = lm.status().WithContext("llm.preload");
            srv.Stop();
            return;
          }
        }
        srv.SetReady(true);
      });
      srv.Run(/*handle_signals=*/true);
      preloader.join();
      if (!preload_status.ok()) return Fail(preload_status);
#ifdef MLE_HAVE_TORCH
      (*jobs)->Shutdown();  // stops a running job at its next step and wakes waiting handlers
#endif
      spdlog::info("server stopped");
      return kExitOk;
    };
  });
}

}  // namespace mle::cli
