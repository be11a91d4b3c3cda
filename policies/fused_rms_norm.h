// fused_rms_norm.h: RMSNorm over the last dim for CPU fp32 tensors in one
// pass per row, with its own backward (a torch::autograd::Function).
//
//   y = w · (x · rsqrt(mean(x²) + eps))
//   if (fused_rms_norm_applies(x, w)) y = fused_rms_norm(x, w, eps);
//
// Why: ATen's expression runs pow, mean, add, rsqrt and two muls forward and
// about ten element-wise passes backward, keeping x², the rsqrt and x·rstd for
// backward. Here the forward reads x once and writes y, keeping only x and
// rstd [rows]; the backward reads x, the output gradient and w once per row for
// dx, and sums dw per thread. Rows run in parallel (grpo::parallel_for, core/parallel_for.h), the
// loops in an AVX2+FMA build where the CPU has them (core/cpu_dispatch.h).
// Under no_grad (or when neither x nor w needs a gradient) nothing is kept.
//
// Numerics: the same operations as ATen's fp32 expression, the sums in another
// order (8 partial sums per row; dw per thread, then over threads): equal to it
// within fp32 rounding (tests/policies/fused_kernels_test.cpp: 1e-5 relative).
// Not differentiable twice (its backward is plain loops).
#pragma once

#include <torch/torch.h>

namespace grpo::policies::detail {

// x and weight are CPU fp32 and weight is [x.size(-1)]: fused_rms_norm computes them.
bool fused_rms_norm_applies(const torch::Tensor& x, const torch::Tensor& weight);

// w · x · rsqrt(mean(x², -1) + eps), x [..., D] (any strides), weight [D].
torch::Tensor fused_rms_norm(const torch::Tensor& x, const torch::Tensor& weight, double eps);

// The forward's rows [begin, end) over raw pointers (x and y [rows, d]
// contiguous), for callers inside their own parallel region (cpu_decode_step.h).
void rms_norm_rows(const float* x, const float* weight, float* y, int64_t d, float eps, int64_t begin, int64_t end);

}  // namespace grpo::policies::detail
