// mlp_mnist: a small multilayer perceptron (784 -> 256 -> 128 -> 10), a fast baseline.
#include "train/dropout.h"
#include "train/model_registry.h"

namespace mle::train {
namespace {

class MlpMnist : public Classifier {
 public:
  MlpMnist()
      : fc1_(register_module("fc1", torch::nn::Linear(784, 256))),
        fc2_(register_module("fc2", torch::nn::Linear(256, 128))),
        fc3_(register_module("fc3", torch::nn::Linear(128, 10))) {}

  torch::Tensor forward(torch::Tensor x) override {
    x = x.flatten(1);                   // [B, 784]
    x = torch::relu(fc1_->forward(x));  // [B, 256]
    x = Dropout(x, 0.2, is_training());
    x = torch::relu(fc2_->forward(x));               // [B, 128]
    return torch::log_softmax(fc3_->forward(x), 1);  // [B, 10]
  }

 private:
  torch::nn::Linear fc1_, fc2_, fc3_;
};

}  // namespace

void RegisterMlpMnist(ModelRegistry& registry) {
  registry.Register({"mlp_mnist", "MLP: linear 256 - linear 128 - linear 10",
                     "image-classification", [] { return std::make_shared<MlpMnist>(); }});
}

}  // namespace mle::train
