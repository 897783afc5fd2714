// The one table of ml-engine's options. Each row: JSON key (config file), type, default,
// CLI flag, help, bounds, and the subcommand the flag belongs to. The env var is derived
// from the key (MLE_TRAIN_EPOCHS for train.epochs). Later capabilities append rows here.
#include "core/config.h"

namespace mle {
namespace {

OptionSpec Opt(std::string key, OptionType type, nlohmann::json def, std::string flag,
               std::string help, std::string scope = "") {
  OptionSpec s;
  s.key = std::move(key);
  s.type = type;
  s.default_value = std::move(def);
  s.flag = std::move(flag);
  s.help = std::move(help);
  s.scope = std::move(scope);
  return s;
}

OptionSpec Min(OptionSpec s, double min, bool exclusive = false) {
  s.min = min;
  s.min_exclusive = exclusive;
  return s;
}
OptionSpec Range(OptionSpec s, double min, double max, bool min_exclusive = false) {
  s = Min(std::move(s), min, min_exclusive);
  s.max = max;
  return s;
}
OptionSpec Choices(OptionSpec s, std::vector<std::string> choices) {
  s.choices = std::move(choices);
  return s;
}

std::vector<OptionSpec> BuildTable() {
  using T = OptionType;
  return {
      // common
      Range(Opt("common.threads", T::kInt, 0, "--threads",
                "compute threads (0 = all hardware threads)"),
            0, 1024),
      Choices(Opt("common.log_level", T::kString, "info", "--log-level", "log level"),
              {"trace", "debug", "info", "warn", "error", "off"}),
      Opt("common.log_file", T::kString, "", "--log-file", "also log to this file"),
      // paths
      Opt("paths.data", T::kString, "", "--data",
          "MNIST-format data directory (default: data/mnist if present, else "
          "/usr/share/datasets/fashion-mnist); the server confines dataset_root to it",
          "train,serve"),
      Opt("paths.runs", T::kString, "runs", "--runs-dir",
          "where run records (ml-engine.db) and metrics logs go"),
      Opt("paths.checkpoints", T::kString, "checkpoints", "--checkpoints-dir",
          "parent of per-model checkpoint directories (the server confines ckpt paths to it)",
          "serve"),
      Opt("paths.models", T::kString, "models", "--models-dir", "directory of GGUF models",
          "serve"),
      // train
      Min(Opt("train.epochs", T::kInt, 3, "--epochs", "number of epochs", "train"), 1),
      Range(Opt("train.batch_size", T::kInt, 64, "--batch-size", "batch size", "train"), 1,
            1 << 20),
      Range(Opt("train.lr", T::kDouble, 1e-3, "--lr", "learning rate", "train"), 0, 10, true),
      Choices(Opt("train.optimizer", T::kString, "adam", "--optimizer", "optimizer", "train"),
              {"sgd", "adam", "adamw"}),
      Range(Opt("train.momentum", T::kDouble, 0.9, "--momentum", "SGD momentum", "train"), 0,
            0.999999),
      Range(Opt("train.weight_decay", T::kDouble, 0.0, "--weight-decay", "weight decay", "train"),
            0, 1),
      Choices(
          Opt("train.lr_schedule", T::kString, "none", "--lr-schedule",
              "learning-rate schedule (step: x0.7 per epoch; cosine: to 0 over the run)", "train"),
          {"none", "step", "cosine"}),
      Min(Opt("train.seed", T::kInt, 42, "--seed", "random seed", "train"), 0),
      Choices(Opt("train.save", T::kString, "best", "--save",
                  "which checkpoints to keep besides last.ckpt: best (by val_acc), last, all "
                  "(one per epoch)",
                  "train"),
              {"best", "last", "all"}),
      Min(Opt("train.patience", T::kInt, 0, "--patience",
              "early stopping: epochs without val_acc improvement (0 = off)", "train"),
          0),
      Range(Opt("train.val_split", T::kDouble, 0.0, "--val-split",
                "hold out this fraction of the training set for validation (0 = use the test "
                "files)",
                "train"),
            0, 0.5),
      Min(Opt("train.ckpt_every_steps", T::kInt, 0, "--ckpt-every",
              "also write last.ckpt every N steps (0 = at epoch ends only)", "train"),
          0),
      Min(Opt("train.log_every_steps", T::kInt, 50, "--log-every",
              "write a metrics line every N steps", "train"),
          1),
      Min(Opt("train.limit_train", T::kInt, 0, "--limit-train",
              "use only the first N training examples (0 = all)", "train"),
          0),
      Min(Opt("train.limit_val", T::kInt, 0, "--limit-val",
              "use only the first N validation examples (0 = all)", "train"),
          0),
      // serve: the HTTP server
      Range(Opt("common.api_port", T::kInt, 18080, "--port", "HTTP port of the server", "serve"), 0,
            65535),
      Opt("common.host", T::kString, "", "--host",
          "listen address (default 127.0.0.1; 0.0.0.0 for every interface)", "serve"),
      Opt("common.license", T::kString, "", "--license",
          "license file (license.json); empty = no license, every feature", "serve"),
      Opt("common.public_key_path", T::kString, "", "--public-key",
          "Ed25519 public key (PEM) that verifies the license", "serve"),
      Opt("security.api_keys", T::kStringList, nlohmann::json::array(), "--api-key",
          "API keys accepted by the server (repeatable); none = no authentication", "serve"),
      Range(Opt("security.rate_limit.rpm", T::kDouble, 0.0, "--rate-limit-rpm",
                "requests per minute per API key (0 = unlimited)", "serve"),
            0, 1e9),
      Range(Opt("security.rate_limit.burst", T::kInt, 20, "--rate-limit-burst",
                "requests a key may send at once before the rate applies", "serve"),
            1, 1000000),
      Range(Opt("limits.body_bytes", T::kInt, 8 << 20, "", "largest request body accepted"), 1024,
            1ll << 32),
      Range(Opt("limits.header_bytes", T::kInt, 16 << 10, "", "largest request header block"), 1024,
            1 << 20),
      Range(Opt("limits.read_timeout_ms", T::kInt, 30000, "",
                "time a client has to send a whole request"),
            100, 3600000),
      Range(Opt("limits.idle_timeout_ms", T::kInt, 60000, "",
                "how long an idle keep-alive connection is kept"),
            100, 3600000),
      Range(Opt("limits.shutdown_timeout_ms", T::kInt, 10000, "",
                "on SIGINT/SIGTERM, how long in-flight requests may finish"),
            0, 3600000),
      Range(Opt("server.io_threads", T::kInt, 2, "--io-threads", "HTTP I/O threads", "serve"), 1,
            256),
      Range(Opt("server.worker_threads", T::kInt, 16, "",
                "threads for handlers that compute or wait for a model"),
            1, 256),
      Opt("serving.presets_dir", T::kString, "presets", "--presets-dir",
          "directory of generation presets (*.json)", "serve"),
      Opt("serving.streaming", T::kBool, true, "",
          "allow streamed answers (SSE); false refuses stream requests with a 400"),
      Opt("serving.default_preset", T::kString, "", "",
          "preset applied to requests that name none (\"\" = none)"),
      Range(Opt("llm.n_slots", T::kInt, 4, "--parallel",
                "sequences each loaded model decodes together (continuous batching)", "serve"),
            1, 256),
      Range(Opt("llm.n_ctx", T::kInt, 4096, "--ctx-size",
                "context tokens per slot (capped by the model's training context)", "serve"),
            16, 1 << 20),
      Range(Opt("llm.n_batch", T::kInt, 512, "", "tokens per forward pass"), 1, 65536),
      Range(Opt("llm.max_loaded_models", T::kInt, 1, "",
                "models kept loaded at once (least recently used is unloaded)"),
            1, 64),
      Range(Opt("llm.max_queued", T::kInt, 64, "",
                "requests that may wait for a slot per model (more: 503)"),
            1, 100000),
      Opt("llm.preload", T::kString, "", "--model",
          "a model (file name in the models directory, without .gguf) to load at start", "serve"),
      Range(Opt("jobs.max_queued", T::kInt, 16, "",
                "training jobs that may wait for the trainer (more: 429)"),
            1, 10000),
      Range(
          Opt("jobs.max_epochs", T::kInt, 1000, "", "largest 'epochs' a training request may ask"),
          1, 1000000),
  };
}

}  // namespace

const std::vector<OptionSpec>& EngineOptionSpecs() {
  static const std::vector<OptionSpec> table = BuildTable();
  return table;
}

}  // namespace mle
