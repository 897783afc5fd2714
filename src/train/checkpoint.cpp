// Checkpoints (see checkpoint.h). LibTorch throws on malformed archives; every call into it
// is wrapped so that a bad file becomes a Status.
#include "train/checkpoint.h"

#include <ATen/CPUGeneratorImpl.h>

#include <sstream>

#include "train/checkpoint_file.h"

namespace mle::train {

Status WriteCheckpoint(const std::string& path, const nlohmann::json& meta, Classifier& model,
                       torch::optim::Optimizer& optimizer) {
  std::ostringstream payload;
  try {
    torch::serialize::OutputArchive archive;
    model.save(archive);
    torch::serialize::OutputArchive opt_archive;
    optimizer.save(opt_archive);
    archive.write("optimizer", opt_archive);
    auto gen = at::detail::getDefaultCPUGenerator();
    torch::Tensor rng;
    {
      std::lock_guard<std::mutex> lock(gen.mutex());
      rng = gen.get_state();
    }
    archive.write("rng_state", rng);
    archive.save_to(payload);
  } catch (const std::exception& e) {
    return Internal(std::string("cannot serialize checkpoint: ") + e.what());
  }
  nlohmann::json full = meta;
  full["format"] = "ml-engine-checkpoint";
  return WriteCheckpointFile(path, full, payload.str());
}

Result<LoadedCheckpoint> LoadCheckpoint(const std::string& path,
                                        const std::string& expected_model) {
  MLE_ASSIGN_OR_RETURN(CheckpointContents contents, ReadCheckpointFile(path));
  LoadedCheckpoint ckpt;
  ckpt.path = path;
  ckpt.meta = std::move(contents.meta);
  ckpt.payload = std::move(contents.payload);
  if (!ckpt.meta.contains("model") || !ckpt.meta["model"].is_string()) {
    return Corruption("checkpoint '" + path +
                      "' names no model; it was not written by ml-engine train");
  }
  std::string model_name = ckpt.meta["model"];
  if (!expected_model.empty() && model_name != expected_model) {
    return InvalidArgument("checkpoint '" + path + "' is of model '" + model_name + "', not '" +
                           expected_model + "' (pass the matching model name or checkpoint)");
  }
  MLE_ASSIGN_OR_RETURN(ckpt.model, CreateModel(model_name));
  try {
    const auto& norm = ckpt.meta.at("normalization");
    ckpt.mean = norm.at("mean");
    ckpt.std = norm.at("std");
    torch::serialize::InputArchive archive;
    archive.load_from(ckpt.payload.data(), ckpt.payload.size());
    ckpt.model->load(archive);
  } catch (const std::exception& e) {
    return Corruption("checkpoint '" + path + "' does not hold a valid '" + model_name +
                      "' model (" + std::string(e.what()).substr(0, 200) + ")");
  }
  ckpt.model->eval();
  return ckpt;
}

Status RestoreTrainingState(const LoadedCheckpoint& ckpt, torch::optim::Optimizer& optimizer) {
  try {
    torch::serialize::InputArchive archive;
    archive.load_from(ckpt.payload.data(), ckpt.payload.size());
    torch::serialize::InputArchive opt_archive;
    archive.read("optimizer", opt_archive);
    optimizer.load(opt_archive);
    torch::Tensor rng;
    archive.read("rng_state", rng);
    auto gen = at::detail::getDefaultCPUGenerator();
    std::lock_guard<std::mutex> lock(gen.mutex());
    gen.set_state(rng);
  } catch (const std::exception& e) {
    return Corruption("checkpoint '" + ckpt.path + "' lacks a usable optimizer or RNG state (" +
                      std::string(e.what()).substr(0, 200) + "); it cannot be resumed");
  }
  ckpt.model->train();
  return Status::Ok();
}

}  // namespace mle::train
