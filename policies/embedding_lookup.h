// embedding_lookup.h: the token embedding of the training forward, whose
// backward adds each position's gradient row straight into the weight's
// existing gradient (a torch::autograd::Function).
//
//   torch::Tensor x = embedding_lookup(embed_tokens->weight, ids);  // = embed_tokens(ids)
//
// Why: autograd's embedding backward builds a dense [V, D] gradient (a zero
// fill, then each position's row added) that AccumulateGrad then adds into
// weight.grad (with tied embeddings the lm-head's [V, D] gradient is added
// into it first): four passes over V x D floats (65 MB for 32000 x 512) per
// micro-batch for a few thousand rows. When weight.grad is already defined (the
// second and later micro-batches of a step), the backward index_adds the rows
// into it and gives the weight no gradient to accumulate. Otherwise (weight.grad
// none, as zero_grad leaves it for the first micro-batch), and for any backward
// that must not write .grad (torch::autograd::grad, backward(inputs=...),
// create_graph) or a gradient that is not a CPU strided tensor of the rows'
// dtype, it returns ATen's dense gradient as the plain embedding does.
// CPU only: on CUDA index_add_ accumulates with atomics (the order, and so the
// rounding, varies from run to run).
//
// Numerics: the forward is torch::embedding itself. The backward makes the same
// fp32 adds, in another order: a row's contributions are added to the
// accumulated gradient position by position, then the lm-head's gradient (tied
// weights), where autograd first summed this micro-batch's two and added the sum.
// Hooks on the weight's gradient accumulation do not see the rows added in place
// (the project registers none). Not differentiable twice.
#pragma once

#include <torch/torch.h>

namespace grpo::policies::detail {

// weight [V, D], ids any shape of int64 indices in [0, V): [ids..., D]. Under
// no_grad, or when the weight needs no gradient, torch::embedding itself.
torch::Tensor embedding_lookup(const torch::Tensor& weight, const torch::Tensor& ids);

}  // namespace grpo::policies::detail
