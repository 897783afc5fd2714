// Inference with a trained checkpoint: class predictions for images, and evaluation
// (accuracy, loss, confusion matrix) on a labelled dataset.
#pragma once

#include <string>
#include <vector>

#include "core/status.h"
#include "train/image_input.h"

namespace mle::train {

struct Prediction {
  int64_t label = 0;
  std::vector<float> probs;  // one per class, summing to 1
};

struct PredictOptions {
  std::string ckpt;
  std::string model;  // "" = the checkpoint's model; else must match
  int threads = 1;
};

Result<std::vector<Prediction>> Predict(const PredictOptions& options, const ImageBatch& images);

struct EvalOptions {
  std::string ckpt;
  std::string model;
  std::string data_root;  // "" = default; a directory (t10k files) or a labelled CSV
  int64_t limit = 0;
  int threads = 1;
};

struct EvalResult {
  std::string model;
  int64_t n = 0;
  double accuracy = 0;
  double loss = 0;
  std::vector<std::vector<int64_t>> confusion;  // [true][predicted]
};

Result<EvalResult> Evaluate(const EvalOptions& options);

}  // namespace mle::train
