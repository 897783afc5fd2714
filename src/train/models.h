// What trainable models exist, without pulling in LibTorch (for cli/ and server/).
#pragma once

#include <string>
#include <vector>

#include "core/status.h"

namespace mle::train {

struct ModelInfo {
  std::string name;
  std::string description;
  std::string task;  // "image-classification"
  int64_t n_params = 0;
};

// Every registered model, sorted by name.
std::vector<ModelInfo> ListModels();
// OK if `name` is registered, else NotFound naming the known models.
Status CheckModelName(const std::string& name);

}  // namespace mle::train
