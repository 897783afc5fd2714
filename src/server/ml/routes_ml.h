// The training and prediction routes: GET /ml/models, POST /ml/train, POST /ml/train-all,
// GET /ml/jobs, GET/DELETE /ml/jobs/{id}, GET /ml/jobs/{id}/events, POST /ml/predict.
// Request paths are confined to the configured data and checkpoint directories; the program
// and every other executable come from the configuration only.
#pragma once

#include <string>

#include "server/ml/job_manager.h"
#include "server/server.h"
#include "train/trainer.h"

namespace mle::server {

struct MlRoutesOptions {
  // Defaults for the fields a request leaves out (from the config's train.* keys), and the
  // settings a request cannot change (threads, runs_dir).
  train::TrainOptions defaults;
  std::string data_dir;         // dataset_root is confined here ("" = DefaultDataRoot())
  std::string checkpoints_dir;  // ckpt_dir and ckpt are confined here
  int64_t max_epochs = 1000;
  int64_t max_predict_images = 1024;
};

// REQUIRES: `jobs` outlives the server.
void AddMlRoutes(Server& server, JobManager& jobs, MlRoutesOptions options);

}  // namespace mle::server
