// moe_dispatch.h: how a DeepSeekMoE layer runs its routed experts on the
// (token, expert) pairs its router chose. Two ways, same result:
//
//   kHostLoop  pairs sorted by expert, the per-expert counts read on the host,
//              one gather + SwiGLU chain per expert hit. Fast on the CPU; on a
//              GPU it synchronises once per layer and launches ~6 kernels per
//              expert, and a data-dependent host loop cannot be captured in a
//              CUDA graph.
//   kGrouped   pairs sorted by expert with the group offsets kept on the
//              device, and one grouped GEMM (at::_grouped_mm) per projection
//              over all experts: no host synchronisation, a fixed number of
//              kernels. It is sync-free only where LibTorch runs its CUTLASS
//              kernel (bf16 on sm90/sm100); elsewhere _grouped_mm copies the
//              offsets to the host, so kAuto picks it only there.
//
//   MoeDispatch d = resolve_moe_dispatch(MoeDispatch::kAuto, x.is_cuda(), x.scalar_type(),
//                                        cuda_compute_major(x.device()), D, I);
//   torch::Tensor routed = grouped_experts(x, weights, indices, expert_list);  // [N, D] fp32
//
// kGrouped stacks the experts' weights ([E, I, D] per projection) on every
// forward: differentiable, always the current weights (also when replayed
// in a CUDA graph), at the cost of one copy of the expert weights per layer
// and forward; a stacked parameter layout would save it (docs/gpu.md).
#pragma once

#include <torch/torch.h>

#include <vector>

#include "policies/model_layers.h"

namespace grpo::policies::detail {

// kAuto -> kGrouped (LibTorch 2.8+) for a bf16 input on a CUDA device of compute capability
// 9.x or 10.x whose hidden and expert sizes are multiples of 8 (the CUTLASS
// kernel's 16-byte alignment), else kHostLoop. Other requests are returned
// unchanged. cuda_major: the device's compute capability major (ignored on CPU).
MoeDispatch resolve_moe_dispatch(MoeDispatch requested, bool cuda, torch::ScalarType dtype, int cuda_major,
                                 int64_t hidden_size, int64_t expert_size);

// The compute capability major of `device` (0 for the CPU or a build without CUDA).
int cuda_compute_major(const torch::Device& device);

// Σ_k weights[n,k] · expert_{indices[n,k]}(x[n]) as [N, D] float32, by the
// kGrouped method. x [N, D]; weights [N, K] fp32; indices [N, K] int64 in [0, E).
// Throws grpo::Error on a LibTorch without at::_grouped_mm (before 2.8).
torch::Tensor grouped_experts(const torch::Tensor& x, const torch::Tensor& weights, const torch::Tensor& indices,
                              const std::vector<MLP>& experts);

}  // namespace grpo::policies::detail
