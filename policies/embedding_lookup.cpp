// embedding_lookup.cpp: the autograd function of embedding_lookup (see the header).
#include "policies/embedding_lookup.h"

#include <torch/csrc/autograd/graph_task.h>

namespace grpo::policies::detail {

namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

// Whether this backward may add the rows `g` into weight.grad in place: a plain backward() of the
// whole graph (no create_graph, no list of inputs: the engine then writes .grad itself) and a
// defined dense CPU gradient of g's dtype.
bool embedding_lookup_accumulates_in_place(const torch::Tensor& weight, const torch::Tensor& g) {
  if (torch::GradMode::is_enabled()) return false;  // create_graph: the sum must stay differentiable
  const auto* exec_info = torch::autograd::get_current_graph_task_exec_info();
  if (exec_info && !exec_info->empty()) return false;  // autograd::grad or backward(inputs): .grad is not the target
  const torch::Tensor& acc = weight.grad();
  return acc.defined() && acc.layout() == torch::kStrided && acc.device().is_cpu() && g.device().is_cpu() &&
         acc.scalar_type() == g.scalar_type() && acc.is_contiguous();
}

struct EmbeddingLookup : public torch::autograd::Function<EmbeddingLookup> {
  static torch::Tensor forward(AutogradContext* ctx, const torch::Tensor& weight, const torch::Tensor& ids) {
    ctx->saved_data["weight"] = weight;  // the parameter itself: backward reads and writes its .grad
    ctx->save_for_backward({ids});
    return torch::embedding(weight, ids);
  }

  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    torch::Tensor weight = ctx->saved_data["weight"].toTensor();
    torch::Tensor ids = ctx->get_saved_variables()[0];
    const torch::Tensor& g = grads[0];
    if (embedding_lookup_accumulates_in_place(weight, g)) {
      weight.mutable_grad().index_add_(0, ids.reshape({-1}), g.reshape({-1, weight.size(1)}));
      return {torch::Tensor(), torch::Tensor()};
    }
    return {at::embedding_dense_backward(g, ids, weight.size(0), /*padding_idx=*/-1, /*scale_grad_by_freq=*/false),
            torch::Tensor()};
  }
};

}  // namespace

torch::Tensor embedding_lookup(const torch::Tensor& weight, const torch::Tensor& ids) {
  if (!torch::GradMode::is_enabled() || !weight.requires_grad()) return torch::embedding(weight, ids);
  return EmbeddingLookup::apply(weight, ids);
}

}  // namespace grpo::policies::detail
