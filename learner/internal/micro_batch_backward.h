// micro_batch_backward.h: the backward of one micro-batch, shared by the GRPO
// and SFT trainers so both treat the MoE balance loss and non-finite losses alike.
#pragma once

#include <cmath>
#include <cstddef>

#include "learner/grpo_trainer.h"

namespace grpo::learner::detail {

// Adds the policy's auxiliary loss (spread over the step's `micro_batches`) to
// `loss` and backpropagates, then has `optimizer` sum the gradients into its
// float32 masters (mixed precision; a no-op in float32). Returns false without
// a backward when the total is not finite: such a micro-batch poisons the
// step, which the caller skips.
inline bool backward_micro_batch(const TrainablePolicy& policy, Optimizer& optimizer, torch::Tensor loss,
                                 size_t micro_batches) {
  if (policy.aux_loss) {
    torch::Tensor aux = policy.aux_loss();
    if (aux.defined()) loss = loss + aux / static_cast<double>(micro_batches);
  }
  if (!std::isfinite(loss.item<double>())) return false;
  loss.backward();
  optimizer.accumulate_gradients();
  return true;
}

}  // namespace grpo::learner::detail
