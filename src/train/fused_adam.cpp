// Fused Adam / AdamW step (see fused_adam.h).
#include "train/fused_adam.h"

#include <ATen/Parallel.h>

#include <cmath>

namespace mle::train {
namespace {

struct AdamScalars {
  float beta1, beta2, eps, weight_decay, step_size, sqrt_bc2, decay_factor;
  bool l2;  // add weight_decay * p to the gradient (Adam); AdamW decays p instead
};

// The update for elements [begin, end) of one parameter.
void AdamSpan(float* p, const float* g, float* m, float* v, int64_t begin, int64_t end,
              const AdamScalars& s) {
  for (int64_t i = begin; i < end; ++i) {
    float grad = s.l2 ? g[i] + s.weight_decay * p[i] : g[i];
    float pi = p[i] * s.decay_factor;
    float mi = s.beta1 * m[i] + (1.0f - s.beta1) * grad;
    float vi = s.beta2 * v[i] + (1.0f - s.beta2) * grad * grad;
    m[i] = mi;
    v[i] = vi;
    p[i] = pi - s.step_size * mi / (std::sqrt(vi) / s.sqrt_bc2 + s.eps);
  }
}

}  // namespace

FusedAdam::FusedAdam(std::vector<torch::Tensor> params, torch::optim::AdamOptions options,
                     bool decoupled_weight_decay)
    : torch::optim::Adam(std::move(params), options), decoupled_(decoupled_weight_decay) {}

FusedAdam::FusedAdam(std::vector<torch::optim::OptimizerParamGroup> groups,
                     torch::optim::AdamOptions defaults, bool decoupled_weight_decay)
    : torch::optim::Adam(std::move(groups), defaults), decoupled_(decoupled_weight_decay) {}

torch::Tensor FusedAdam::step(LossClosure closure) {
  torch::NoGradGuard no_grad;
  torch::Tensor loss;
  if (closure) {
    at::AutoGradMode enable_grad(true);
    loss = closure();
  }
  for (auto& group : param_groups_) {
    auto& o = static_cast<torch::optim::AdamOptions&>(group.options());
    TORCH_CHECK(!o.amsgrad(), "FusedAdam does not implement amsgrad");
    for (auto& p : group.params()) {
      if (!p.grad().defined()) continue;
      TORCH_CHECK(p.scalar_type() == torch::kFloat32 && p.is_contiguous(),
                  "FusedAdam needs contiguous float32 parameters");
      auto key = c10::guts::to_string(p.unsafeGetTensorImpl());
      auto it = state_.find(key);
      if (it == state_.end()) {
        auto st = std::make_unique<torch::optim::AdamParamState>();
        st->step(0);
        st->exp_avg(torch::zeros_like(p, torch::MemoryFormat::Contiguous));
        st->exp_avg_sq(torch::zeros_like(p, torch::MemoryFormat::Contiguous));
        it = state_.emplace(key, std::move(st)).first;
      }
      auto& st = static_cast<torch::optim::AdamParamState&>(*it->second);
      st.step(st.step() + 1);
      const double beta1 = std::get<0>(o.betas()), beta2 = std::get<1>(o.betas());
      const double bc1 = 1 - std::pow(beta1, st.step());
      const double bc2 = 1 - std::pow(beta2, st.step());
      AdamScalars s{static_cast<float>(beta1),
                    static_cast<float>(beta2),
                    static_cast<float>(o.eps()),
                    static_cast<float>(o.weight_decay()),
                    static_cast<float>(o.lr() / bc1),
                    static_cast<float>(std::sqrt(bc2)),
                    decoupled_ ? static_cast<float>(1.0 - o.lr() * o.weight_decay()) : 1.0f,
                    !decoupled_ && o.weight_decay() != 0};
      torch::Tensor grad = p.grad().contiguous();
      float* pp = p.data_ptr<float>();
      const float* gp = grad.data_ptr<float>();
      float* mp = st.exp_avg().data_ptr<float>();
      float* vp = st.exp_avg_sq().data_ptr<float>();
      at::parallel_for(0, p.numel(), 1 << 15, [&](int64_t begin, int64_t end) {
        AdamSpan(pp, gp, mp, vp, begin, end, s);
      });
    }
  }
  return loss;
}

void ClearGradients(torch::nn::Module& module) {
  for (auto& p : module.parameters()) {
    if (p.grad().defined()) p.mutable_grad().reset();
  }
}

}  // namespace mle::train
