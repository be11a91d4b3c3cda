// onednn_linear.h: the rollout engine's linear products on the CPU through
// oneDNN's inner product (the wheel's mkldnn::_linear_pointwise op, the one
// inductor uses on CPU), reading the parameter's own storage: no copy.
//
// Why: ATen's linear is MKL's sgemm, and a decode step multiplies only B rows
// by every weight; perf of a 50M-model decode showed a quarter of the sgemm
// time in MKL re-packing weight panels. oneDNN's JIT GEMM on the same plain
// weights does a 50M model's decode-step products at 64 rows in 63 ms
// instead of 93 (idle, 2 threads, bench/rollout/README.md); at 256 rows
// it is level or slightly ahead. On this AVX2 CPU its "packed" weight format
// for these shapes is the plain layout itself (ONEDNN_VERBOSE: reorder ab -> ab), so
// a pre-packed copy (mkldnn::_reorder_linear_weight) would only double the
// weights' memory.
//
// Numerics: fp32 throughout; oneDNN sums in another order than MKL, so the
// results differ from ATen's linear by float rounding (~1e-6 relative), as
// any two GEMM libraries do.
//
// Never stale: every call reads the parameter as it is now, so weight sync
// and optimizer steps (which write parameters in place) need no hook.
#pragma once

#include <torch/torch.h>

namespace grpo::policies::detail {

// Which linear products of one forward go through oneDNN.
struct OnednnLinear {
  // Weights of fewer elements use ATen's linear (< 0: every weight does; the
  // engine's default is rollout::EngineOptions::onednn_min_weight_elements).
  int64_t min_elements = -1;
  bool covers(const torch::Tensor& weight) const { return min_elements >= 0 && weight.numel() >= min_elements; }
};

// Whether this LibTorch has oneDNN's linear op (the 2.x wheel does; else
// callers keep ATen's linear).
bool onednn_linear_available();

// x W^T + b by oneDNN's inner product. x [..., in], weight [out, in], bias
// [out] or undefined; CPU fp32; not differentiable (inference only).
torch::Tensor onednn_linear(const torch::Tensor& x, const torch::Tensor& weight, const torch::Tensor& bias);

// The engine's product: few_rows_linear.h's kernel for a decode step's few
// rows, oneDNN's for more (or where the kernel does not apply). Same
// arguments and limits as onednn_linear.
torch::Tensor inference_linear(const torch::Tensor& x, const torch::Tensor& weight, const torch::Tensor& bias);

// layer(x), through inference_linear when `fast` covers the layer's weight.
torch::Tensor linear(torch::nn::Linear& layer, const torch::Tensor& x, OnednnLinear fast);

}  // namespace grpo::policies::detail
