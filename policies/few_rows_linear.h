// few_rows_linear.h: x W^T + b for a decode step's few rows (CPU fp32,
// AVX2+FMA), reading the weight in its own [out, in] layout, once, with
// software prefetch.
//
// Why: at decode every weight of the model is multiplied by only B rows, so
// a step streams all weights from memory (210 MB for the 50M model, far
// beyond the L3) for 2·B FLOPs per weight. GEMM libraries pack weight panels
// as they go and stall on those memory reads; here each thread walks its
// share of output columns four weight rows at a time, keeps them in L1 while
// every input row is dotted with them (3 rows x 4 weight rows: 12
// accumulators, 7 loads per 12 FMAs), and prefetches the next four weight
// rows meanwhile. Single thread, cold weights, the 50M model's decode-step
// products (12 layers + head; bench/rollout/README.md): 27 ms against
// oneDNN's 40 at 16 rows, 45 against 59 at 32, 85 against 92 at 64, level at
// 128, behind at 256 (hence kFewRowsMax).
//
// Numerics: each output is an fp32 dot product summed in 8 lanes, then the
// lanes; another order than oneDNN's or MKL's (~1e-6 relative).
#pragma once

#include <torch/torch.h>

namespace grpo::policies::detail {

// The most rows few_rows_linear takes; more go to the GEMM library.
constexpr int64_t kFewRowsMax = 128;

// x [..., in] times weight [out, in] (+ bias [out]) -> [..., out], or an
// undefined tensor where the kernel does not apply (the caller uses its GEMM):
// more than kFewRowsMax rows, no AVX2+FMA, not CPU fp32, `in` not a multiple
// of 8, a weight that is not contiguous. Not differentiable (inference only).
torch::Tensor few_rows_linear(const torch::Tensor& x, const torch::Tensor& weight, const torch::Tensor& bias);

// One product of the same kernel over raw pointers, for callers that run its
// ranges inside their own parallel region (cpu_decode_step.h).
struct FewRowsProduct {
  const float* x;     // [rows, in], rows `in` floats apart
  const float* w;     // [out, in] contiguous
  const float* bias;  // [out] or null
  float* y;           // [rows, out]
  int64_t rows, in, out;
  // y += x W^T (+ bias): the sum is stored added to y's value, as `y + (x W^T + b)`
  // computed apart would be (a residual connection without a pass of its own).
  bool accumulate = false;
};

// Whether this CPU runs the kernel (AVX2+FMA) for inputs `in` wide (a multiple of 8).
bool few_rows_kernel_runs(int64_t in);
// The product's work items: blocks of four weight rows (output columns).
int64_t few_rows_blocks(const FewRowsProduct& p);
// The fewest blocks worth a thread of their own.
int64_t few_rows_grain(const FewRowsProduct& p);
// Blocks [begin, end) of the product; only where few_rows_kernel_runs(p.in).
void few_rows_run(const FewRowsProduct& p, int64_t begin, int64_t end);

}  // namespace grpo::policies::detail
