// fused_linear.h: several linear layers reading the same input (q/k/v,
// gate/up) multiplied as one product, on their own parameters: no copy.
//
//   share_rows({&q_proj, &k_proj, &v_proj});          // once, at construction
//   torch::Tensor qkv = fused_linear({&q_proj, &k_proj, &v_proj}, x, fast);
//   if (qkv.defined()) ... qkv.narrow(-1, 0, q_rows) ...
//
// share_rows makes the layers' weights (and biases) consecutive rows of one
// storage, keeping their values; each stays its own parameter (own version
// counter, own gradient). fused_linear checks at every call that they still
// are (Module::to, set_data or a device move can split them) and then reads
// them as one [Σ out, in] matrix: one oneDNN product instead of three or two
// at decode, e.g. [64, 512] x [512, 768] instead of 512 + 128 + 128 columns.
// Nothing is cached, so weight sync and optimizer steps (in place) can never
// leave it stale.
#pragma once

#include <torch/torch.h>

#include <utility>
#include <vector>

#include "policies/onednn_linear.h"

namespace grpo::policies::detail {

// Rebinds the layers' weights (and biases, when all have one) to consecutive
// rows of one new storage, values unchanged. Same input width, dtype, device.
void share_rows(const std::vector<torch::nn::Linear*>& layers);

// The layers' weights as one [Σ out, in] matrix and their biases as one
// [Σ out] vector (undefined when none has one), when they are consecutive rows
// of one storage (share_rows); else an undefined weight.
std::pair<torch::Tensor, torch::Tensor> shared_rows(const std::vector<torch::nn::Linear*>& layers);
// x times the layers' weights as one product [..., Σ out] through oneDNN, when
// `fast` covers every weight and they are consecutive rows of one storage
// (biases likewise, or none); else an undefined tensor (the caller runs the
// layers one by one).
torch::Tensor fused_linear(const std::vector<torch::nn::Linear*>& layers, const torch::Tensor& x, OnednnLinear fast);

}  // namespace grpo::policies::detail
