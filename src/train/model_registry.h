// The registry of trainable modules. Each model file defines a Register* function that adds
// its spec (name, description, factory); RegisterBuiltinModels calls them all, so adding a
// model is one new file plus one line there.
#pragma once

#include <torch/torch.h>

#include <functional>
#include <map>
#include <memory>
#include <string>

#include "train/models.h"

namespace mle::train {

// An image classifier: forward maps [B, 1, 28, 28] float to [B, n_classes] log-probabilities.
class Classifier : public torch::nn::Module {
 public:
  virtual torch::Tensor forward(torch::Tensor x) = 0;
};

struct ModelSpec {
  std::string name;
  std::string description;
  std::string task = "image-classification";
  std::function<std::shared_ptr<Classifier>()> create;
};

class ModelRegistry {
 public:
  // The process-wide registry with the built-in models registered.
  static ModelRegistry& Get();
  void Register(ModelSpec spec);
  const ModelSpec* Find(const std::string& name) const;
  const std::map<std::string, ModelSpec>& specs() const { return specs_; }

 private:
  std::map<std::string, ModelSpec> specs_;
};

// Creates a registered model, or NotFound naming the known models.
Result<std::shared_ptr<Classifier>> CreateModel(const std::string& name);

void RegisterCnnMnist(ModelRegistry& registry);
void RegisterMlpMnist(ModelRegistry& registry);

}  // namespace mle::train
