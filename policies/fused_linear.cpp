// fused_linear.cpp: share_rows and the layout check of fused_linear.
#include "policies/fused_linear.h"


namespace grpo::policies::detail {

namespace {

// The tensors as rows [Σ rows, ...] of their shared storage, when each
// starts where the previous one ends (contiguous, same storage); else undefined.
torch::Tensor fused_consecutive_rows(const std::vector<torch::Tensor>& parts) {
  const torch::Tensor& first = parts.front();
  int64_t rows = 0;
  for (size_t i = 0; i < parts.size(); ++i) {
    const torch::Tensor& t = parts[i];
    if (!t.defined() || !t.is_contiguous() || t.dim() != first.dim() || t.scalar_type() != first.scalar_type() ||
        !t.storage().is_alias_of(first.storage()) || t.storage_offset() != first.storage_offset() + first.stride(0) * rows ||
        (t.dim() == 2 && t.size(1) != first.size(1)))
      return {};
    rows += t.size(0);
  }
  std::vector<int64_t> sizes = first.sizes().vec(), strides = first.strides().vec();
  sizes[0] = rows;
  return first.detach().as_strided(sizes, strides, first.storage_offset());
}

// Rebinds the tensors to consecutive rows of one new storage (values kept).
void fused_rebind_rows(const std::vector<torch::Tensor*>& parts) {
  std::vector<torch::Tensor> values;
  for (torch::Tensor* t : parts) values.push_back(t->detach());
  torch::Tensor all = torch::cat(values, 0);
  int64_t row = 0;
  for (torch::Tensor* t : parts) {
    const int64_t n = t->size(0);
    t->set_data(all.narrow(0, row, n));
    row += n;
  }
}

}  // namespace

void share_rows(const std::vector<torch::nn::Linear*>& layers) {
  torch::NoGradGuard no_grad;
  std::vector<torch::Tensor*> weights, biases;
  for (torch::nn::Linear* l : layers) {
    weights.push_back(&(*l)->weight);
    if ((*l)->bias.defined()) biases.push_back(&(*l)->bias);
  }
  fused_rebind_rows(weights);
  if (biases.size() == layers.size()) fused_rebind_rows(biases);
}

std::pair<torch::Tensor, torch::Tensor> shared_rows(const std::vector<torch::nn::Linear*>& layers) {
  std::vector<torch::Tensor> weights, biases;
  for (torch::nn::Linear* l : layers) {
    weights.push_back((*l)->weight);
    biases.push_back((*l)->bias);
  }
  torch::Tensor w = fused_consecutive_rows(weights);
  if (!w.defined()) return {};
  if (!biases.front().defined()) {
    for (const torch::Tensor& t : biases)
      if (t.defined()) return {};
    return {w, {}};
  }
  torch::Tensor b = fused_consecutive_rows(biases);
  if (!b.defined()) return {};
  return {w, b};
}

torch::Tensor fused_linear(const std::vector<torch::nn::Linear*>& layers, const torch::Tensor& x, OnednnLinear fast) {
  for (torch::nn::Linear* l : layers)
    if (!fast.covers((*l)->weight)) return {};
  auto [w, b] = shared_rows(layers);
  if (!w.defined()) return {};
  return inference_linear(x, w, b);
}

}  // namespace grpo::policies::detail
