// learner_config.h: the `learner` section of a recipe: the GRPO objective
// (../docs/grpo-reference.md), the optimizer and the schedule. Defaults are
// Hugging Face TRL's GRPOTrainer's.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace grpo::learner {

// Everything the learner needs to turn scored groups into an optimizer step.
struct LearnerConfig {
  // --- advantages
  std::string scale_rewards = "group";
  bool leave_one_out = false;
  // --- objective
  std::string loss_type = "dapo";
  double epsilon = 0.2;
  std::optional<double> epsilon_high;
  double beta = 0.0;
  std::string kl_estimator = "k3";
  bool mask_truncated_completions = false;
  // --- optimisation
  double lr = 1e-6;
  double weight_decay = 0.0;
  double adam_beta1 = 0.9;
  double adam_beta2 = 0.999;
  double adam_eps = 1e-8;
  double max_grad_norm = 1.0;
  int64_t warmup_steps = 0;
  std::string lr_schedule = "constant";
  int num_iterations = 1;
  int64_t micro_batch_tokens = 8192;

  template <class V> void fields(V& v) {
    v.choice("scale_rewards", scale_rewards, {"group", "batch", "none"}, "Advantage scaling: divide by the group std (+1e-4, Bessel), the batch std, or not at all (Dr. GRPO).");
    v.field("leave_one_out", leave_one_out, "Baseline of each completion is the mean of the other G-1 rewards (RLOO) instead of the group mean.");
    v.choice("loss_type", loss_type, {"grpo", "bnpo", "dr_grpo", "dapo"}, "Aggregation: grpo (per-sequence means), bnpo (micro-batch token mean), dr_grpo (B*L_max), dapo (token mean over the whole step; TRL default).");
    v.field("epsilon", epsilon, "Lower clip epsilon of the ratio (PPO/GRPO); also the upper one unless epsilon_high is set.");
    v.field("epsilon_high", epsilon_high, "Upper clip epsilon (DAPO clip-higher, 0.28); null means epsilon.");
    v.field("beta", beta, "KL coefficient to the frozen reference; 0 loads no reference model (TRL default).");
    v.choice("kl_estimator", kl_estimator, {"k1", "k2", "k3"}, "Per-token KL estimator (Schulman's k1, k2, k3).");
    v.field("mask_truncated_completions", mask_truncated_completions, "Give completions cut at max_new_tokens no loss (DAPO).");
    v.field("lr", lr, "Peak learning rate of AdamW.");
    v.field("weight_decay", weight_decay, "AdamW decoupled weight decay.");
    v.field("adam_beta1", adam_beta1, "AdamW beta1.");
    v.field("adam_beta2", adam_beta2, "AdamW beta2.");
    v.field("adam_eps", adam_eps, "AdamW epsilon.");
    v.field("max_grad_norm", max_grad_norm, "Clip gradients to this global L2 norm; 0 disables.");
    v.field("warmup_steps", warmup_steps, "Linear learning-rate warm-up steps from 0 to lr.");
    v.choice("lr_schedule", lr_schedule, {"constant", "linear", "cosine"}, "Schedule after warm-up: constant, linear decay to 0, cosine decay to 0.");
    v.field("num_iterations", num_iterations, "Optimisation passes (mu) over each generation batch.");
    v.field("micro_batch_tokens", micro_batch_tokens, "Token budget of one micro-batch (prompt + completion tokens, padded).");
    v.check(epsilon > 0 && epsilon < 1, "epsilon", "must be in (0, 1)");
    v.check(!epsilon_high || *epsilon_high > 0, "epsilon_high", "must be > 0");
    v.check(beta >= 0, "beta", "must be >= 0");
    v.check(lr > 0, "lr", "must be > 0");
    v.check(weight_decay >= 0, "weight_decay", "must be >= 0");
    v.check(adam_beta1 >= 0 && adam_beta1 < 1, "adam_beta1", "must be in [0, 1)");
    v.check(adam_beta2 >= 0 && adam_beta2 < 1, "adam_beta2", "must be in [0, 1)");
    v.check(adam_eps > 0, "adam_eps", "must be > 0");
    v.check(max_grad_norm >= 0, "max_grad_norm", "must be >= 0 (0 = no clipping)");
    v.check(warmup_steps >= 0, "warmup_steps", "must be >= 0");
    v.check(num_iterations >= 1, "num_iterations", "must be >= 1");
    v.check(micro_batch_tokens >= 1, "micro_batch_tokens", "must be >= 1");
  }
};

}  // namespace grpo::learner
