// Model registry (see model_registry.h).
#include "train/model_registry.h"

namespace mle::train {

ModelRegistry& ModelRegistry::Get() {
  static ModelRegistry* registry = [] {
    auto* r = new ModelRegistry();
    RegisterCnnMnist(*r);
    RegisterMlpMnist(*r);
    return r;
  }();
  return *registry;
}

void ModelRegistry::Register(ModelSpec spec) {
  std::string name = spec.name;
  specs_[name] = std::move(spec);
}

const ModelSpec* ModelRegistry::Find(const std::string& name) const {
  auto it = specs_.find(name);
  return it == specs_.end() ? nullptr : &it->second;
}

Status CheckModelName(const std::string& name) {
  if (ModelRegistry::Get().Find(name)) return Status::Ok();
  std::string known;
  for (const auto& [n, spec] : ModelRegistry::Get().specs())
    known += (known.empty() ? "" : ", ") + n;
  return NotFound("unknown model '" + name + "' (known models: " + known +
                  "; see: ml-engine models)");
}

Result<std::shared_ptr<Classifier>> CreateModel(const std::string& name) {
  MLE_RETURN_IF_ERROR(CheckModelName(name));
  return ModelRegistry::Get().Find(name)->create();
}

std::vector<ModelInfo> ListModels() {
  std::vector<ModelInfo> out;
  for (const auto& [name, spec] : ModelRegistry::Get().specs()) {
    ModelInfo info{spec.name, spec.description, spec.task, 0};
    auto model = spec.create();
    for (const auto& p : model->parameters()) info.n_params += p.numel();
    out.push_back(std::move(info));
  }
  return out;
}

}  // namespace mle::train
