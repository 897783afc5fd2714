#include "lm/lm_ops.h"

#include <ATen/Parallel.h>

#include <cmath>

namespace mle::lm {
namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

torch::Tensor Float32(const torch::Tensor& t) {
  return t.to(torch::kFloat32).contiguous();
}

// Sums with eight partial accumulators (a fixed order the compiler can vectorize).
float Dot(const float* a, const float* b, int64_t n) {
  float acc[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  int64_t j = 0;
  for (; j + 8 <= n; j += 8) {
    for (int k = 0; k < 8; ++k) acc[k] += a[j + k] * b[j + k];
  }
  float s = ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]));
  for (; j < n; ++j) s += a[j] * b[j];
  return s;
}

float Dot3(const float* a, const float* b, const float* c, int64_t n) {
  float acc[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  int64_t j = 0;
  for (; j + 8 <= n; j += 8) {
    for (int k = 0; k < 8; ++k) acc[k] += a[j + k] * b[j + k] * c[j + k];
  }
  float s = ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]));
  for (; j < n; ++j) s += a[j] * b[j] * c[j];
  return s;
}

// Rows per parallel task: enough work per task that splitting pays.
int64_t Grain(int64_t row_len) {
  return std::max<int64_t>(1, 16384 / std::max<int64_t>(1, row_len));
}

class RmsNormFn : public torch::autograd::Function<RmsNormFn> {
 public:
  static torch::Tensor forward(AutogradContext* ctx, const torch::Tensor& x_in,
                               const torch::Tensor& w_in, double eps) {
    const torch::Tensor x = Float32(x_in), w = Float32(w_in);
    const int64_t d = x.size(-1), n = x.numel() / d;
    torch::Tensor y = torch::empty_like(x);
    torch::Tensor r = torch::empty({n}, x.options());
    const float* xp = x.data_ptr<float>();
    const float* wp = w.data_ptr<float>();
    float* yp = y.data_ptr<float>();
    float* rp = r.data_ptr<float>();
    at::parallel_for(0, n, Grain(d), [&](int64_t b, int64_t e) {
      for (int64_t i = b; i < e; ++i) {
        const float* xi = xp + i * d;
        const float ss = Dot(xi, xi, d);
        const float ri = 1.0f / std::sqrt(ss / static_cast<float>(d) + static_cast<float>(eps));
        rp[i] = ri;
        float* yi = yp + i * d;
        for (int64_t j = 0; j < d; ++j) yi[j] = xi[j] * ri * wp[j];
      }
    });
    ctx->save_for_backward({x, w, r});
    return y;
  }

  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    const auto saved = ctx->get_saved_variables();
    const torch::Tensor &x = saved[0], &w = saved[1], &r = saved[2];
    const torch::Tensor dy = Float32(grads[0]);
    const int64_t d = x.size(-1), n = x.numel() / d;
    torch::Tensor dx = torch::empty_like(x);
    const float* xp = x.data_ptr<float>();
    const float* wp = w.data_ptr<float>();
    const float* rp = r.data_ptr<float>();
    const float* gp = dy.data_ptr<float>();
    float* dxp = dx.data_ptr<float>();
    at::parallel_for(0, n, Grain(d), [&](int64_t b, int64_t e) {
      for (int64_t i = b; i < e; ++i) {
        const float* xi = xp + i * d;
        const float* gi = gp + i * d;
        const float dot = Dot3(gi, wp, xi, d);
        const float ri = rp[i];
        const float k = ri * ri * ri * dot / static_cast<float>(d);
        float* dxi = dxp + i * d;
        for (int64_t j = 0; j < d; ++j) dxi[j] = ri * gi[j] * wp[j] - k * xi[j];
      }
    });
    // dw: one pass over the rows in order (deterministic whatever the thread count).
    torch::Tensor dw = torch::zeros({d}, x.options());
    float* dwp = dw.data_ptr<float>();
    for (int64_t i = 0; i < n; ++i) {
      const float* xi = xp + i * d;
      const float* gi = gp + i * d;
      const float ri = rp[i];
      for (int64_t j = 0; j < d; ++j) dwp[j] += gi[j] * xi[j] * ri;
    }
    return {dx.view(grads[0].sizes()), dw, torch::Tensor()};
  }
};

// Rotates pairs (x[2i], x[2i+1]) of [B, T, H, hd] by position and writes [B, H, T, hd];
// `sign` -1 applies the inverse rotation (the backward pass), reading [B, H, T, hd] and
// writing [B, T, H, hd].
void RotatePairs(const float* src, float* dst, const float* cs, const float* sn, int64_t bsz,
                 int64_t t, int64_t h, int64_t hd, bool backward) {
  const int64_t half = hd / 2;
  at::parallel_for(0, bsz * t, Grain(h * hd), [&](int64_t b0, int64_t e0) {
    for (int64_t bt = b0; bt < e0; ++bt) {
      const int64_t b = bt / t, p = bt % t;
      const float* c = cs + p * half;
      const float* s = sn + p * half;
      for (int64_t hh = 0; hh < h; ++hh) {
        const int64_t thd = ((b * t + p) * h + hh) * hd;  // [B, T, H, hd]
        const int64_t htd = ((b * h + hh) * t + p) * hd;  // [B, H, T, hd]
        const float* in = src + (backward ? htd : thd);
        float* out = dst + (backward ? thd : htd);
        for (int64_t i = 0; i < half; ++i) {
          const float x0 = in[2 * i], x1 = in[2 * i + 1];
          if (backward) {
            out[2 * i] = x0 * c[i] + x1 * s[i];
            out[2 * i + 1] = x1 * c[i] - x0 * s[i];
          } else {
            out[2 * i] = x0 * c[i] - x1 * s[i];
            out[2 * i + 1] = x0 * s[i] + x1 * c[i];
          }
        }
      }
    }
  });
}

class RopeFn : public torch::autograd::Function<RopeFn> {
 public:
  static torch::Tensor forward(AutogradContext* ctx, const torch::Tensor& x_in,
                               const torch::Tensor& cos, const torch::Tensor& sin) {
    const torch::Tensor x = Float32(x_in);
    const int64_t b = x.size(0), t = x.size(1), h = x.size(2), hd = x.size(3);
    const torch::Tensor c = Float32(cos.narrow(0, 0, t)), s = Float32(sin.narrow(0, 0, t));
    torch::Tensor y = torch::empty({b, h, t, hd}, x.options());
    RotatePairs(x.data_ptr<float>(), y.data_ptr<float>(), c.data_ptr<float>(), s.data_ptr<float>(),
                b, t, h, hd, false);
    ctx->save_for_backward({c, s});
    return y;
  }

  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    const auto saved = ctx->get_saved_variables();
    const torch::Tensor dy = Float32(grads[0]);
    const int64_t b = dy.size(0), h = dy.size(1), t = dy.size(2), hd = dy.size(3);
    torch::Tensor dx = torch::empty({b, t, h, hd}, dy.options());
    RotatePairs(dy.data_ptr<float>(), dx.data_ptr<float>(), saved[0].data_ptr<float>(),
                saved[1].data_ptr<float>(), b, t, h, hd, true);
    return {dx, torch::Tensor(), torch::Tensor()};
  }
};

}  // namespace

torch::Tensor FusedRmsNorm(const torch::Tensor& x, const torch::Tensor& w, double eps) {
  return RmsNormFn::apply(x, w, eps);
}

torch::Tensor ReferenceRmsNorm(const torch::Tensor& x, const torch::Tensor& w, double eps) {
  return x * torch::rsqrt(x.pow(2).mean(-1, /*keepdim=*/true) + eps) * w;
}

torch::Tensor FusedRopeToHeads(const torch::Tensor& x, const torch::Tensor& cos,
                               const torch::Tensor& sin) {
  return RopeFn::apply(x, cos, sin);
}

torch::Tensor ReferenceRopeToHeads(const torch::Tensor& x, const torch::Tensor& cos,
                                   const torch::Tensor& sin) {
  const int64_t b = x.size(0), t = x.size(1), h = x.size(2), hd = x.size(3), half = hd / 2;
  torch::Tensor xp = x.reshape({b, t, h, half, 2});
  torch::Tensor x0 = xp.select(-1, 0), x1 = xp.select(-1, 1);
  torch::Tensor cs = cos.narrow(0, 0, t).view({1, t, 1, half});
  torch::Tensor sn = sin.narrow(0, 0, t).view({1, t, 1, half});
  return torch::stack({x0 * cs - x1 * sn, x0 * sn + x1 * cs}, -1)
      .view({b, t, h, hd})
      .transpose(1, 2)
      .contiguous();
}

}  // namespace mle::lm
