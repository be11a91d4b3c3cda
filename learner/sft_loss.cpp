// sft_loss.cpp: see sft_loss.h.
#include "learner/sft_loss.h"

#include "core/error.h"

namespace grpo::learner {

SftLossOutput sft_loss(const torch::Tensor& logprobs, const torch::Tensor& mask, double step_tokens) {
  if (logprobs.sizes() != mask.sizes())
    throw Error("sft_loss: logprobs " + std::to_string(logprobs.size(0)) + "x" + std::to_string(logprobs.size(-1)) +
                " and mask disagree in shape; both are [B, T]");
  if (!(step_tokens > 0)) throw Error("sft_loss: the step has no target token (step_tokens = 0)");
  torch::Tensor keep = mask.to(logprobs.device(), torch::kFloat) > 0;  // packed on the CPU, scored maybe on a GPU
  // where(), not a product: 0 * NaN on a masked position would poison the sum and its gradient.
  torch::Tensor nll = -torch::where(keep, logprobs, torch::zeros_like(logprobs)).sum();
  SftLossOutput out;
  out.loss = nll / step_tokens;
  out.nll_sum = nll.item<double>();
  out.tokens = keep.sum().item<double>();
  return out;
}

}  // namespace grpo::learner
