// block_checkpoint.cpp: see block_checkpoint.h.
#include "policies/block_checkpoint.h"

#include <vector>

#include "core/error.h"

namespace grpo::policies::detail {

namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

// What backward needs besides the saved input: the layer, its parameters in
// the order they were passed as inputs, and this forward's tables (RoPE,
// attention mask, token mask).
struct BlockState : torch::CustomClassHolder {
  DecoderLayer layer{nullptr};
  std::vector<torch::Tensor> params;
  ForwardContext ctx;  // balance_loss left undefined: each layer's own loss is an output
};

// Inputs: x, the layer's parameters (inputs so that their gradients flow
// through this node, also under torch::autograd::grad), the state.
// Outputs: y, then the layer's balance loss when it computed one.
struct CheckpointedBlock : public torch::autograd::Function<CheckpointedBlock> {
  static variable_list forward(AutogradContext* actx, torch::Tensor x, torch::TensorList /*params*/,
                               c10::intrusive_ptr<BlockState> state) {
    // Function::apply runs this with grad disabled: no activation is kept.
    ForwardContext c = state->ctx;
    torch::Tensor y = state->layer->forward(x, c);
    actx->save_for_backward({x});
    actx->saved_data["state"] = c10::IValue::make_capsule(c10::static_intrusive_pointer_cast<torch::CustomClassHolder>(state));
    variable_list out{y};
    if (c.balance_loss.defined()) out.push_back(c.balance_loss);
    return out;
  }

  static variable_list backward(AutogradContext* actx, variable_list grads) {
    auto state = c10::static_intrusive_pointer_cast<BlockState>(actx->saved_data["state"].toCapsule());
    const std::vector<torch::Tensor>& params = state->params;
    torch::Tensor saved = actx->get_saved_variables()[0];
    torch::AutoGradMode grad_on(true);
    torch::Tensor x = saved.detach().requires_grad_(actx->needs_input_grad(0));
    ForwardContext c = state->ctx;
    c.record_expert_load = false;
    torch::Tensor y = state->layer->forward(x, c);

    variable_list outputs{y}, grad_outputs{grads[0].defined() ? grads[0] : torch::zeros_like(y)};
    if (grads.size() > 1 && grads[1].defined()) {
      outputs.push_back(c.balance_loss);
      grad_outputs.push_back(grads[1]);
    }
    // One gradient per input of forward: x, each parameter, the state (none).
    variable_list result(params.size() + 2);
    variable_list wrt;
    std::vector<size_t> slot;
    if (actx->needs_input_grad(0)) {
      wrt.push_back(x);
      slot.push_back(0);
    }
    for (size_t i = 0; i < params.size(); ++i)
      if (actx->needs_input_grad(i + 1)) {
        wrt.push_back(params[i]);
        slot.push_back(i + 1);
      }
    if (wrt.empty()) return result;
    // allow_unused: routed experts that no token chose get no gradient, as without checkpointing.
    variable_list g = torch::autograd::grad(outputs, wrt, grad_outputs, /*retain_graph=*/false, /*create_graph=*/false,
                                            /*allow_unused=*/true);
    for (size_t k = 0; k < g.size(); ++k) result[slot[k]] = g[k];
    return result;
  }
};

}  // namespace

torch::Tensor checkpointed_layer(DecoderLayer& layer, const torch::Tensor& x, ForwardContext& ctx) {
  if (ctx.cache) throw Error("checkpointed_layer: a forward with a KV cache cannot be checkpointed (training forwards only)");
  auto state = c10::make_intrusive<BlockState>();
  state->layer = layer;
  state->params = layer->parameters();
  state->ctx = ctx;
  state->ctx.balance_loss = torch::Tensor();
  variable_list out = CheckpointedBlock::apply(x, torch::TensorList(state->params), state);
  if (out.size() > 1) ctx.balance_loss = ctx.balance_loss.defined() ? ctx.balance_loss + out[1] : out[1];
  return out[0];
}

}  // namespace grpo::policies::detail
