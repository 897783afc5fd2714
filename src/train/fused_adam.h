// Adam and AdamW with a fused step: one pass over each parameter that reads the gradient and
// both moment buffers once and writes the parameter and moments once, split over the intra-op
// threads. LibTorch 1.13's Adam runs about ten separate element-wise kernels per parameter,
// each streaming the whole tensor through memory; for cnn_mnist's 1.2M-weight fc1 that was
// ~17% of a training step. The state layout is LibTorch's (AdamParamState), so save/load and
// checkpoints are unchanged. Element-wise only: results do not depend on the thread count.
#pragma once

#include <torch/torch.h>

namespace mle::train {

class FusedAdam : public torch::optim::Adam {
 public:
  // `decoupled_weight_decay` = AdamW (p -= lr * wd * p), else L2 added to the gradient.
  FusedAdam(std::vector<torch::Tensor> params, torch::optim::AdamOptions options,
            bool decoupled_weight_decay);
  // Parameter groups with their own options (e.g. no weight decay on norms).
  FusedAdam(std::vector<torch::optim::OptimizerParamGroup> groups,
            torch::optim::AdamOptions defaults, bool decoupled_weight_decay);
  torch::Tensor step(LossClosure closure = nullptr) override;

 private:
  bool decoupled_;
};

// Drops every parameter's gradient (instead of filling it with zeros): backward then writes
// fresh gradients without an extra pass over memory.
void ClearGradients(torch::nn::Module& module);

}  // namespace mle::train
