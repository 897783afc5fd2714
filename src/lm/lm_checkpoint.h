// Own-LLM checkpoints and run directories (internal to mle_lm; includes torch). A checkpoint
// is train/'s container (header, JSON metadata, SHA-256, LibTorch archive) with metadata
// format "mle-lm": the model shape, step, tokens seen, precision and best validation loss.
#pragma once

#include <torch/torch.h>

#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "core/status.h"
#include "lm/lm_config.h"
#include "lm/lm_model.h"
#include "lm/lm_tokenizer.h"

namespace mle::lm {

inline constexpr const char* kLmCheckpointFormat = "mle-lm";

// Writes weights, and the optimizer's state when `optimizer` is given, atomically.
Status SaveLmCheckpoint(const std::string& path, GptModel& model,
                        torch::optim::Optimizer* optimizer, const nlohmann::json& meta);

// Reads the metadata only (checksum verified). Errors name the file.
Result<nlohmann::json> ReadLmCheckpointMeta(const std::string& path);

// Loads weights (and optimizer state) into `model`, whose shape must be the checkpoint's:
// another shape is InvalidArgument naming both.
Result<nlohmann::json> LoadLmCheckpoint(const std::string& path, GptModel& model,
                                        torch::optim::Optimizer* optimizer);

// `ckpt` as given, else RUN_DIR/best.ckpt when it exists, else RUN_DIR/last.ckpt.
std::string ResolveCheckpointPath(const std::string& run_dir, const std::string& ckpt);

struct LoadedRun {
  LmConfig config;
  GptModel model{nullptr};
  std::unique_ptr<LmTokenizer> tokenizer;
  nlohmann::json run_config;  // RUN_DIR/config.json
  nlohmann::json meta;        // the checkpoint's
  std::string ckpt_path;
};

// A run directory's model (weights of `ckpt`, eval mode) and tokenizer.
Result<LoadedRun> LoadRun(const std::string& run_dir, const std::string& ckpt);

}  // namespace mle::lm
