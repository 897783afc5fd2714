// Fused forward/backward kernels of the decoder's element-wise layers (internal to mle_lm;
// includes torch). Each replaces a chain of LibTorch ops whose forward and backward passes
// each stream the activations through memory once more: RMSNorm (about 15 passes fused into
// 2) and RoPE on adjacent pairs with the head transpose folded in. (SwiGLU stays LibTorch's:
// its exp is vectorized there.) Inputs of any floating type are computed in fp32 (as LibTorch's
// type promotion does for the reference chains); results are deterministic for a given thread
// count. The reference chains are kept (Reference*) for tests and for odd inputs.
#pragma once

#include <torch/torch.h>

namespace mle::lm {

// x [..., D] float, w [D] -> x * rsqrt(mean(x^2) + eps) * w.
torch::Tensor FusedRmsNorm(const torch::Tensor& x, const torch::Tensor& w, double eps);
torch::Tensor ReferenceRmsNorm(const torch::Tensor& x, const torch::Tensor& w, double eps);

// x [B, T, H, hd] (any strides), cos/sin [>= T, hd/2] -> rotated pairs, as [B, H, T, hd]
// contiguous (the attention layout).
torch::Tensor FusedRopeToHeads(const torch::Tensor& x, const torch::Tensor& cos,
                               const torch::Tensor& sin);
torch::Tensor ReferenceRopeToHeads(const torch::Tensor& x, const torch::Tensor& cos,
                                   const torch::Tensor& sin);

}  // namespace mle::lm
