// sft_loss.h: the supervised next-token loss as a pure function of tensors:
// the mean negative log-likelihood over the target tokens of a whole
// optimizer step (token-level mean, as transformers' causal-LM loss with
// ignore_index = -100 on prompt and padding positions).
//
// Usage (one micro-batch of an optimizer step of `step_tokens` targets):
//   SftLossOutput out = sft_loss(scores.logprobs, packed.loss_mask, step_tokens);
//   out.loss.backward();   // gradients summed over micro-batches = the step's gradient
#pragma once

#include <torch/torch.h>

namespace grpo::learner {

// One micro-batch's share of the step loss and what it covered.
struct SftLossOutput {
  torch::Tensor loss;   // scalar with grad: sum of -log p over masked targets / step_tokens
  double nll_sum = 0;   // sum of -log p over the masked targets of this micro-batch
  double tokens = 0;    // masked targets of this micro-batch
};

// logprobs [B, T] of the targets; mask [B, T] 1 where a target counts (0 on
// prompt and padding positions, whose log-probs may be anything, NaN included).
// step_tokens: masked targets of the whole step (> 0). Throws grpo::Error on a shape mismatch.
SftLossOutput sft_loss(const torch::Tensor& logprobs, const torch::Tensor& mask, double step_tokens);

}  // namespace grpo::learner
