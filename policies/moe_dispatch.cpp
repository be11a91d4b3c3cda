// moe_dispatch.cpp: see moe_dispatch.h.
#include "policies/moe_dispatch.h"

#include "core/error.h"
#include "core/torch_compat.h"

#if defined(GRPO_WITH_CUDA)
#include <ATen/cuda/CUDAContext.h>
#endif

namespace grpo::policies::detail {

MoeDispatch resolve_moe_dispatch(MoeDispatch requested, bool cuda, torch::ScalarType dtype, int cuda_major,
                                 int64_t hidden_size, int64_t expert_size) {
  if (requested != MoeDispatch::kAuto) return requested;
  const bool cutlass = GRPO_HAS_GROUPED_MM && cuda && dtype == torch::kBFloat16 && (cuda_major == 9 || cuda_major == 10) &&
                       hidden_size % 8 == 0 && expert_size % 8 == 0;
  return cutlass ? MoeDispatch::kGrouped : MoeDispatch::kHostLoop;
}

int cuda_compute_major(const torch::Device& device) {
#if defined(GRPO_WITH_CUDA)
  if (device.is_cuda()) return at::cuda::getDeviceProperties(device.has_index() ? device.index() : at::cuda::current_device())->major;
#endif
  return 0;
}

torch::Tensor grouped_experts(const torch::Tensor& x, const torch::Tensor& weights, const torch::Tensor& indices,
                              const std::vector<MLP>& experts) {
#if !GRPO_HAS_GROUPED_MM
  throw Error(std::string("grouped MoE experts need at::_grouped_mm (LibTorch 2.8+), this build uses LibTorch ") +
              compat::torch_version());
#else
  const int64_t N = x.size(0), D = x.size(1), K = indices.size(1), E = static_cast<int64_t>(experts.size());
  torch::Tensor flat = indices.reshape({-1});
  torch::Tensor order = flat.argsort();  // (token, k) pairs grouped by expert
  torch::Tensor token_of = order.div(K, "floor");
  torch::Tensor weight_of = weights.reshape({-1}).index_select(0, order);
  // Group ends on the device (scatter_add, not bincount, which reads the maximum on the host).
  torch::Tensor counts = torch::zeros({E}, flat.options()).scatter_add_(0, flat, torch::ones_like(flat));
  torch::Tensor ends = counts.cumsum(0).to(torch::kInt);
  // [E, in, out] views of the stacked [E, out, in] Linear weights: the layout
  // the CUTLASS kernel takes (column-major second operand).
  auto stacked = [&](auto proj) {
    std::vector<torch::Tensor> w;
    w.reserve(experts.size());
    for (const auto& m : experts) w.push_back(proj(m));
    return torch::stack(w).transpose(-2, -1);
  };
  torch::Tensor xs = x.index_select(0, token_of);
  torch::Tensor gate = at::_grouped_mm(xs, stacked([](const MLP& m) { return m->gate_proj->weight; }), ends);
  torch::Tensor up = at::_grouped_mm(xs, stacked([](const MLP& m) { return m->up_proj->weight; }), ends);
  torch::Tensor down = at::_grouped_mm(torch::silu(gate) * up, stacked([](const MLP& m) { return m->down_proj->weight; }), ends);
  // One scatter-add of all (token, expert) outputs, summed in fp32 (HF order), as kHostLoop.
  return torch::zeros({N, D}, x.options().dtype(torch::kFloat))
      .index_add(0, token_of, down.to(torch::kFloat) * weight_of.unsqueeze(1));
#endif
}

}  // namespace grpo::policies::detail
