// fused_swiglu.h: the SwiGLU activation silu(gate) · up for CPU fp32 tensors
// in one pass, with its own backward (a torch::autograd::Function).
//
//   torch::Tensor h = swiglu(gate, up);  // fused where swiglu_fused_applies, else ATen's silu(gate) * up
//
// gate and up [..., I] may be column slices of one [..., 2I] gate_up product
// (the engine's fused product) or two tensors (training's two linears). The
// forward reads each once and writes h; ATen's expression writes silu(gate)
// and keeps it for backward beside gate and up. The backward reads gate, up and
// the output gradient once and writes d(gate) and d(up): dup = dh · silu(gate),
// dgate = dh · up · s · (1 + gate · (1 - s)), s = sigmoid(gate) (ATen's
// silu_backward). Under no_grad nothing is kept. Rows run in parallel, the
// loops in an AVX2+FMA build where the CPU has them (core/cpu_dispatch.h).
//
// Numerics: DEVIATION: e^x is core/cpu_exp.h's Cephes polynomial (so the
// loops vectorise) instead of ATen's SLEEF expf: within 2 ulp of libm; for
// gate < -88, e^-gate clamps at e^88 (silu ~ 0 either way). Equal to ATen's
// expression within 1e-6 relative (tests/policies/fused_kernels_test.cpp).
// Not differentiable twice.
#pragma once

#include <torch/torch.h>

namespace grpo::policies::detail {

// gate and up are CPU fp32 of one shape: swiglu runs the fused kernel.
bool swiglu_fused_applies(const torch::Tensor& gate, const torch::Tensor& up);

// silu(gate) · up: the fused kernel where swiglu_fused_applies, else ATen's expression.
torch::Tensor swiglu(const torch::Tensor& gate, const torch::Tensor& up);

// The forward's rows [begin, end) over raw pointers: gate and up rows `stride`
// floats apart (their I floats contiguous), h [rows, I] contiguous; for callers
// inside their own parallel region (cpu_decode_step.h).
void swiglu_rows(const float* gate, const float* up, int64_t stride, float* h, int64_t inner, int64_t begin, int64_t end);

}  // namespace grpo::policies::detail
