// grpo_loss.h: the GRPO objective as a pure function of tensors and options
// (grpo-reference.md, "Per-token objective" and "Aggregation"). No model here:
// the trainer step feeds it log-probs, and tests feed it hand-made tensors.
//
// Usage (one micro-batch of an optimizer step):
//   LossOptions opt = LossOptions::from_config(cfg);
//   LossInputs in{logprobs, old_logprobs, ref_logprobs, rollout_logprobs, advantages, mask, entropies};
//   StepNormaliser norm = StepNormaliser::whole_step(step_masks, world_size, max_completion_length);
//   LossOutput out = grpo_loss(in, opt, norm);
//   out.loss.backward();        // gradients summed over micro-batches = the step's gradient
//   step_metrics.merge(out.metrics);
#pragma once

#include <optional>
#include <string>

#include <torch/torch.h>

#include "learner/learner_config.h"

namespace grpo::learner {

// The options of the objective; see LearnerConfig for each field's meaning.
struct LossOptions {
  std::string loss_type = "dapo";                 // grpo | bnpo | dr_grpo | dapo
  double epsilon_low = 0.2;
  double epsilon_high = 0.2;
  std::optional<double> delta;                    // cap of the unclipped ratio
  std::optional<double> dual_clip_c;              // dual-clip bound for A < 0
  std::string importance_sampling_level = "token";  // token | sequence (GSPO)
  std::string is_correction = "none";             // none | {token,sequence}_{truncate,mask}
  std::optional<double> is_clip_min;
  std::optional<double> is_clip_max = 3.0;
  std::optional<double> off_policy_mask_threshold;
  double top_entropy_quantile = 1.0;
  double entropy_coef = 0.0;
  double beta = 0.0;
  std::string kl_estimator = "k3";                // k1 | k2 | k3
  bool kl_ratio_correction = false;

  static LossOptions from_config(const LearnerConfig& c);
};

// Tensors of one micro-batch; B completions, T completion positions (padded).
// Undefined tensors are allowed where the options do not need them.
struct LossInputs {
  torch::Tensor logprobs;          // [B, T] log pi_theta, with grad
  torch::Tensor old_logprobs;      // [B, T] log pi_old; undefined = logprobs.detach() (mu = 1, on-policy)
  torch::Tensor ref_logprobs;      // [B, T] frozen reference; needed when beta > 0
  torch::Tensor rollout_logprobs;  // [B, T] sampling log-probs; needed by is_correction (NaN = unknown)
  torch::Tensor advantages;        // [B] or [B, T]
  torch::Tensor mask;              // [B, T] 1 on tokens that count, 0 elsewhere (any dtype)
  torch::Tensor entropies;         // [B, T] per-token entropy; needed by top_entropy_quantile/entropy_coef
};

// What a micro-batch needs to know about its whole optimizer step so that the
// sum of micro-batch losses, averaged over ranks, is exactly the step's loss.
struct StepNormaliser {
  int64_t micro_batches = 1;          // GA: micro-batches of the whole step, all ranks (bnpo, entropy bonus)
  int64_t world_size = 1;             // data-parallel ranks (gradients are averaged over them)
  double step_tokens = 1;             // N_tok: active tokens of the whole step, all ranks (dapo)
  double step_sequences = 1;          // completions of the whole step, all ranks (grpo, dr_grpo)
  int64_t max_completion_length = 1;  // L_max (dr_grpo)

  // Micro-batches per rank on average: what a rank divides a micro-batch mean
  // by so that the average over ranks is the mean over all micro-batches.
  double micro_batches_per_rank() const { return static_cast<double>(micro_batches) / static_cast<double>(world_size); }

  // The normaliser of a step made of this one micro-batch on one rank.
  static StepNormaliser single(const torch::Tensor& mask, int64_t max_completion_length);
};

// Sums over the tokens/sequences of a micro-batch; merge() them over the step
// (and all-reduce over ranks), then read the means.
struct LossMetrics {
  double loss = 0;            // sum of the micro-batch loss values (the step loss once merged)
  double policy_loss = 0;     // the policy (and KL) part of it, without the entropy bonus
  double tokens = 0;          // active tokens
  double sequences = 0;       // completions
  double kl = 0;              // sum over active tokens of the per-token KL (0 when beta = 0)
  double entropy = 0;         // sum over active tokens of the entropy (0 when not given)
  double clip_low = 0;        // active tokens with rho < 1 - eps_low and A < 0
  double clip_high = 0;       // active tokens with rho > 1 + eps_high and A > 0
  double clip_region = 0;     // either of the two
  double dual_clipped = 0;    // active tokens where the dual clip bound was taken
  double is_weight = 0;       // sum over active tokens of the IS correction weight
  double rollout_gap = 0;     // sum over active tokens of |old - rollout| (when rollout given)
  double rollout_gap_max = 0;
  double entropy_kept = 0;    // active tokens kept by top_entropy_quantile
  double off_policy_masked = 0;  // completions dropped by the off-policy mask

  void merge(const LossMetrics& o);
  double mean_per_token(double sum) const { return tokens > 0 ? sum / tokens : 0.0; }
};

struct LossOutput {
  torch::Tensor loss;  // scalar with grad: this micro-batch's share of the step loss
  LossMetrics metrics;
};

// The GRPO loss of one micro-batch. Padding positions (mask 0) may hold any
// value, NaN and inf included: they never reach the loss or the gradient.
// Throws grpo::Error naming the tensor when shapes disagree or a needed input is missing.
LossOutput grpo_loss(const LossInputs& in, const LossOptions& options, const StepNormaliser& norm);

// Per-token KL estimate between the policy and the reference (k1, k2 or k3).
torch::Tensor kl_estimate(const torch::Tensor& logprobs, const torch::Tensor& ref_logprobs, const std::string& estimator);

}  // namespace grpo::learner
