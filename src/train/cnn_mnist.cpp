// cnn_mnist: the original design's CNN, two 3x3 convolutions (32 and 64 channels), a 2x2
// max-pool, dropout, and two linear layers (9216 -> 128 -> 10).
#include "train/dropout.h"
#include "train/model_registry.h"

namespace mle::train {
namespace {

class CnnMnist : public Classifier {
 public:
  CnnMnist()
      : conv1_(register_module("conv1", torch::nn::Conv2d(torch::nn::Conv2dOptions(1, 32, 3)))),
        conv2_(register_module("conv2", torch::nn::Conv2d(torch::nn::Conv2dOptions(32, 64, 3)))),
        fc1_(register_module("fc1", torch::nn::Linear(9216, 128))),
        fc2_(register_module("fc2", torch::nn::Linear(128, 10))) {}

  torch::Tensor forward(torch::Tensor x) override {
    x = conv1_->forward(x).relu_();  // [B, 32, 26, 26]
    // max-pool before ReLU: the same values and gradients as ReLU before max-pool (ReLU is
    // monotonic), with the ReLU on a quarter of the elements.
    x = torch::max_pool2d(conv2_->forward(x), 2).relu_();  // [B, 64, 12, 12]
    x = Dropout(x, 0.25, is_training());
    x = x.flatten(1);              // [B, 9216]
    x = fc1_->forward(x).relu_();  // [B, 128]
    x = Dropout(x, 0.5, is_training());
    return torch::log_softmax(fc2_->forward(x), 1);  // [B, 10]
  }

 private:
  torch::nn::Conv2d conv1_, conv2_;
  torch::nn::Linear fc1_, fc2_;
};

}  // namespace

void RegisterCnnMnist(ModelRegistry& registry) {
  registry.Register({"cnn_mnist",
                     "CNN: conv 3x3 (32) - conv 3x3 (64) - maxpool 2 - linear 128 - linear 10",
                     "image-classification", [] { return std::make_shared<CnnMnist>(); }});
}

}  // namespace mle::train
