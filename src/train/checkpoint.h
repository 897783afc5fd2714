// Training checkpoints: model weights, optimizer state, the global RNG state and JSON
// metadata (progress counters, metrics, config, normalization), in the checksummed container
// of checkpoint_file.h.
#pragma once

#include <torch/torch.h>

#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "core/status.h"
#include "train/model_registry.h"

namespace mle::train {

struct LoadedCheckpoint {
  std::string path;
  nlohmann::json meta;
  std::shared_ptr<Classifier> model;  // weights loaded, in eval mode
  double mean = 0, std = 1;           // input normalization used in training
  std::string payload;                // the LibTorch archive (for RestoreTrainingState)
};

// Writes meta + model + optimizer + global RNG state atomically.
Status WriteCheckpoint(const std::string& path, const nlohmann::json& meta, Classifier& model,
                       torch::optim::Optimizer& optimizer);
// Reads and verifies a checkpoint and builds its model. With `expected_model` non-empty,
// a checkpoint of another model is an error.
Result<LoadedCheckpoint> LoadCheckpoint(const std::string& path,
                                        const std::string& expected_model = "");
// Restores the optimizer state and the global RNG state (for --resume).
Status RestoreTrainingState(const LoadedCheckpoint& ckpt, torch::optim::Optimizer& optimizer);

}  // namespace mle::train
