// Own-LLM checkpoints (see lm_checkpoint.h). LibTorch throws on malformed archives; every
// call into it is caught here and turned into a Status naming the file.
#include "lm/lm_checkpoint.h"

#include <filesystem>
#include <fstream>
#include <sstream>

#include "train/checkpoint_file.h"

namespace mle::lm {
namespace fs = std::filesystem;

Status SaveLmCheckpoint(const std::string& path, GptModel& model,
                        torch::optim::Optimizer* optimizer, const nlohmann::json& meta) {
  std::ostringstream payload;
  try {
    torch::serialize::OutputArchive archive;
    model->save(archive);
    if (optimizer) {
      torch::serialize::OutputArchive opt_archive;
      optimizer->save(opt_archive);
      archive.write("optimizer", opt_archive);
    }
    archive.save_to(payload);
  } catch (const std::exception& e) {
    return Internal("cannot serialize checkpoint '" + path + "': " + e.what());
  }
  nlohmann::json m = meta;
  m["format"] = kLmCheckpointFormat;
  m["has_optimizer"] = optimizer != nullptr;
  return train::WriteCheckpointFile(path, m, payload.str());
}

namespace {

// The container, checked (checksum, sizes) and known to hold an own-LLM checkpoint.
Result<train::CheckpointContents> ReadLmCheckpoint(const std::string& path) {
  MLE_ASSIGN_OR_RETURN(train::CheckpointContents c, train::ReadCheckpointFile(path));
  if (c.meta.value("format", "") != kLmCheckpointFormat) {
    return InvalidArgument("'" + path +
                           "' is not an own-LLM checkpoint (it was written by `ml-engine "
                           "train`; give a checkpoint from `ml-engine lm pretrain`)");
  }
  return c;
}

}  // namespace

Result<nlohmann::json> ReadLmCheckpointMeta(const std::string& path) {
  MLE_ASSIGN_OR_RETURN(train::CheckpointContents c, ReadLmCheckpoint(path));
  return c.meta;
}

Result<nlohmann::json> LoadLmCheckpoint(const std::string& path, GptModel& model,
                                        torch::optim::Optimizer* optimizer) {
  MLE_ASSIGN_OR_RETURN(train::CheckpointContents c, ReadLmCheckpoint(path));
  const nlohmann::json want = ToJson(model->config());
  if (!c.meta.contains("config") || c.meta["config"] != want) {
    return InvalidArgument("checkpoint '" + path + "' holds a model of shape " +
                           c.meta.value("config", nlohmann::json()).dump() +
                           " but the run asks for " + want.dump() +
                           " (use the same --size as the run, or a new run directory)");
  }
  if (optimizer && !c.meta.value("has_optimizer", false)) {
    return InvalidArgument("checkpoint '" + path +
                           "' has no optimizer state; resume from the run's last.ckpt");
  }
  try {
    torch::serialize::InputArchive archive;
    archive.load_from(c.payload.data(), c.payload.size());
    model->load(archive);
    if (optimizer) {
      torch::serialize::InputArchive opt_archive;
      archive.read("optimizer", opt_archive);
      optimizer->load(opt_archive);
    }
  } catch (const std::exception& e) {
    return InvalidArgument("checkpoint '" + path +
                           "' cannot be loaded: " + std::string(e.what()).substr(0, 200));
  }
  return c.meta;
}

std::string ResolveCheckpointPath(const std::string& run_dir, const std::string& ckpt) {
  if (!ckpt.empty()) return ckpt;
  const std::string best = run_dir + "/best.ckpt";
  std::error_code ec;
  return fs::exists(best, ec) ? best : run_dir + "/last.ckpt";
}

Result<LoadedRun> LoadRun(const std::string& run_dir, const std::string& ckpt) {
  LoadedRun run;
  const std::string config_path = run_dir + "/config.json";
  std::ifstream in(config_path);
  if (!in) {
    return InvalidArgument("'" + run_dir +
                           "' is not a run directory (no config.json; create one with `ml-engine "
                           "lm pretrain -o DIR`)");
  }
  std::stringstream ss;
  ss << in.rdbuf();
  run.run_config = nlohmann::json::parse(ss.str(), nullptr, false);
  if (run.run_config.is_discarded() || !run.run_config.contains("model")) {
    return InvalidArgument("'" + config_path + "' is not valid run JSON (re-run lm pretrain)");
  }
  MLE_ASSIGN_OR_RETURN(run.config, LmConfigFromJson(run.run_config["model"]));
  MLE_RETURN_IF_ERROR(ValidateLmConfig(run.config));
  MLE_ASSIGN_OR_RETURN(run.tokenizer, LmTokenizer::Load(run_dir + "/tokenizer"));
  run.ckpt_path = ResolveCheckpointPath(run_dir, ckpt);
  run.model = GptModel(run.config);
  MLE_ASSIGN_OR_RETURN(run.meta, LoadLmCheckpoint(run.ckpt_path, run.model, nullptr));
  run.model->eval();
  return run;
}

}  // namespace mle::lm
