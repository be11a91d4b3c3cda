// block_checkpoint.h: gradient checkpointing of one decoder layer (internal to
// policies/). LibTorch has no torch.utils.checkpoint, so a custom autograd
// function runs the layer without building a graph, keeps only the layer's
// input, and in backward runs the layer again with grad enabled to get the
// gradients of that input and of the layer's parameters.
#pragma once

#include <torch/torch.h>

#include "policies/model_layers.h"

namespace grpo::policies::detail {

// layer(x, ctx) whose activations are recomputed in backward instead of kept.
// Same values and gradients as layer->forward(x, ctx): the layer's MoE
// sequence-wise balance loss is added to ctx.balance_loss (differentiable,
// through the recompute), and its tokens are counted as expert load once, by
// this forward (the recompute does not count them again). The layer must be
// deterministic (it is: no dropout). Training forwards only: ctx has no cache.
torch::Tensor checkpointed_layer(DecoderLayer& layer, const torch::Tensor& x, ForwardContext& ctx);

}  // namespace grpo::policies::detail
