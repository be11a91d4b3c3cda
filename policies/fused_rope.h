// fused_rope.h: rotary position embedding in the rotate_half form
// (Qwen2/Llama) for CPU fp32 tensors in one pass, with its own backward (a
// torch::autograd::Function).
//
//   if (fused_rope_applies(x, cos, sin)) y = fused_rope(x, cos, sin);  // apply_rope does this
//
// y = [x1·c - x2·s, x2·c + x1·s] for x = [x1, x2] (halves of the last dim).
// Why: ATen's expression runs four muls, a sub, an add and a cat forward and
// about as many passes, zero-filled half-gradients and a transpose copy
// backward, for every layer's queries and keys. Here the forward reads x once
// (in place of its [B, T, H, hd] product layout: x may be the transposed view)
// and writes y contiguous; the backward writes dx = [g1·c + g2·s, g2·c - g1·s]
// once, in x's own layout, so the view back to the q/k product is free. Only
// cos and sin are kept (x is not needed). Rows run in parallel, the loops in an
// AVX2+FMA build where the CPU has them (core/cpu_dispatch.h).
//
// Numerics: the same products and sums; with FMA each output is one rounding
// fewer than ATen's: equal within fp32 rounding (1e-6 relative;
// tests/policies/fused_kernels_test.cpp). Not differentiable twice.
#pragma once

#include <torch/torch.h>

namespace grpo::policies::detail {

// x [B, H, T, hd] (hd even, last dim contiguous) and cos, sin [B, 1, T, hd/2]
// (last dim contiguous), all CPU fp32: fused_rope computes them.
bool fused_rope_applies(const torch::Tensor& x, const torch::Tensor& cos, const torch::Tensor& sin);

// [x1·cos - x2·sin, x2·cos + x1·sin] as a contiguous [B, H, T, hd] tensor.
torch::Tensor fused_rope(const torch::Tensor& x, const torch::Tensor& cos, const torch::Tensor& sin);

}  // namespace grpo::policies::detail
