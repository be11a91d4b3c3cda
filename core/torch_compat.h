// torch_compat.h: the one place where LibTorch 1.13 (Debian's libtorch-dev,
// CPU only) and LibTorch 2.x (the torch wheel) differ for grpo-cpp.
#pragma once

#include <ATen/ATen.h>
#include <torch/version.h>

#include <limits>
#include <optional>

// LibTorch 2.x, from the wheel: the CUDA paths and newer APIs may be used.
#define GRPO_TORCH_2 (TORCH_VERSION_MAJOR >= 2)

// c10d NCCL for data-parallel learners on GPUs: a CUDA LibTorch 2.x defines
// USE_C10D_NCCL; GRPO_NCCL_HEADER (learner/CMakeLists.txt, for
// learner/data_parallel.cpp only) says nccl.h, which ProcessGroupNCCL.hpp
// includes, was found. Elsewhere this is 0.
#if GRPO_TORCH_2 && defined(GRPO_WITH_CUDA) && defined(USE_C10D_NCCL) && defined(GRPO_NCCL_HEADER)
#define GRPO_HAS_C10D_NCCL 1
#else
#define GRPO_HAS_C10D_NCCL 0
#endif

// at::_grouped_mm (LibTorch 2.8+): the MoE's grouped experts (policies/moe_dispatch.h).
#define GRPO_HAS_GROUPED_MM (TORCH_VERSION_MAJOR > 2 || (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 8))

// at::_fused_adamw_ with a CPU kernel (LibTorch 2.4+): the learner's one-pass AdamW (learner/optimizer.cpp).
#define GRPO_HAS_FUSED_ADAMW (TORCH_VERSION_MAJOR > 2 || (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 4))

// oneDNN's mkldnn::_linear_pointwise op (LibTorch 2.x; 1.13 has none): the
// rollout engine's decode products (policies/onednn_linear.h). Without it the
// engine keeps ATen's linear.
#define GRPO_HAS_ONEDNN_LINEAR GRPO_TORCH_2

// c10d with Gloo for data-parallel learners (learner/data_parallel.cpp) is in
// both: the wheel's and Debian's libtorch_cpu hold c10d::ProcessGroupGloo, and
// neither ships Gloo's headers (that file sees learner/internal/gloo_decls).
// The base class whose collectives it calls differs (compat::C10dBackend).
namespace c10d {
class Backend;
class ProcessGroup;
}  // namespace c10d

namespace grpo::compat {

// The base of c10d::ProcessGroupGloo and ProcessGroupNCCL, which carries
// allreduce and broadcast: 2.x split c10d::Backend off c10d::ProcessGroup.
#if GRPO_TORCH_2
using C10dBackend = c10d::Backend;
#else
using C10dBackend = c10d::ProcessGroup;
#endif

// "2.11.0" or "1.13.1".
inline const char* torch_version() { return TORCH_VERSION; }

// softmax(q·kᵀ·scale + mask)·v over the last two dims, no dropout; causal
// (query i sees keys j <= i, for as many queries as keys; then no mask) when
// asked, else as the mask says. A bool mask keeps the keys where it is true; a float mask is
// added to the scores. 2.x: at::scaled_dot_product_attention (fused kernels,
// with their backward). 1.13 has no public SDPA with a scale, so the math form
// of the same formula runs there.
inline at::Tensor scaled_dot_product_attention(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v,
                                               const std::optional<at::Tensor>& mask, double scale,
                                               bool causal = false) {
#if GRPO_TORCH_2
  return at::scaled_dot_product_attention(q, k, v, mask, 0.0, causal, scale);
#else
  at::Tensor scores = at::matmul(q, k.transpose(-2, -1)) * scale;
  if (causal)
    scores = scores.masked_fill(at::ones({q.size(-2), k.size(-2)}, q.options().dtype(at::kBool)).tril().logical_not(),
                                -std::numeric_limits<double>::infinity());
  if (mask && mask->defined()) {
    if (mask->scalar_type() == at::kBool)
      scores = scores.masked_fill(mask->logical_not(), -std::numeric_limits<double>::infinity());
    else
      scores = scores + *mask;
  }
  return at::matmul(scores.softmax(-1), v);
#endif
}

}  // namespace grpo::compat
