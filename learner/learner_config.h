// learner_config.h: the `learner` section of a recipe: the GRPO objective
// (../docs/grpo-reference.md), the optimizer and schedule, the training step,
// the reference model, MoE balancing and checkpoints. Defaults are Hugging Face
// TRL's GRPOTrainer's unless grpo-reference.md says otherwise.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace grpo::learner {

// Everything the learner needs to turn scored groups into optimizer steps.
struct LearnerConfig {
  // --- advantages
  std::string scale_rewards = "group";
  bool leave_one_out = false;
  // --- objective
  std::string loss_type = "dapo";
  double epsilon = 0.2;
  std::optional<double> epsilon_high;
  std::optional<double> delta;
  std::optional<double> dual_clip_c;
  std::string importance_sampling_level = "token";
  std::string is_correction = "none";
  std::optional<double> is_clip_min;
  std::optional<double> is_clip_max = 3.0;
  std::optional<double> off_policy_mask_threshold;
  double top_entropy_quantile = 1.0;
  double entropy_coef = 0.0;
  double beta = 0.0;
  std::string kl_estimator = "k3";
  bool kl_ratio_correction = false;
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
  int64_t total_steps = 0;
  // --- training step
  int num_iterations = 1;
  int steps_per_generation = 1;
  std::string old_logprobs = "learner";
  int64_t micro_batch_tokens = 8192;
  bool sort_by_length = true;
  bool gradient_checkpointing = false;
  int64_t logprob_chunk_tokens = 1024;
  // --- reference model
  int64_t ref_sync_steps = 0;
  double ref_mix_alpha = 1.0;
  // --- MoE
  double routing_bias_gamma = 0.001;
  double seq_balance_loss_alpha = 0.0;
  // --- checkpoints
  int64_t checkpoint_every = 0;
  int keep_last = 3;
  int64_t keep_every = 0;

  // epsilon_high, or epsilon when unset.
  double epsilon_high_or_default() const { return epsilon_high ? *epsilon_high : epsilon; }

  template <class V> void fields(V& v) {
    // advantages
    v.choice("scale_rewards", scale_rewards, {"group", "batch", "none"}, "Advantage scaling: divide by the group std (+1e-4, Bessel), the batch std, or not at all (Dr. GRPO).");
    v.field("leave_one_out", leave_one_out, "Baseline of each completion is the mean of the other G-1 rewards (RLOO) instead of the group mean.");
    // objective
    v.choice("loss_type", loss_type, {"grpo", "bnpo", "dr_grpo", "dapo"}, "Aggregation: grpo (per-sequence means), bnpo (micro-batch token mean), dr_grpo (B*L_max), dapo (token mean over the whole step; TRL default).");
    v.field("epsilon", epsilon, "Lower clip epsilon of the ratio (PPO/GRPO); also the upper one unless epsilon_high is set.");
    v.field("epsilon_high", epsilon_high, "Upper clip epsilon (DAPO clip-higher, 0.28); null means epsilon.");
    v.field("delta", delta, "Cap of the unclipped ratio, rho <- min(rho, delta) (two-sided clipping, TRL `delta`); null disables. Must be > 1 + epsilon_high.");
    v.field("dual_clip_c", dual_clip_c, "Dual-clip PPO: for A < 0 the per-token loss is at most -c*A (verl uses c = 3); null disables. Must be > 1.");
    v.choice("importance_sampling_level", importance_sampling_level, {"token", "sequence"}, "Ratio per token (GRPO) or one length-normalised ratio per completion (GSPO).");
    v.choice("is_correction", is_correction, {"none", "token_truncate", "token_mask", "sequence_truncate", "sequence_mask"}, "Rollout/trainer mismatch correction: weight the policy-gradient term by pi_old/pi_rollout per token or per sequence, truncated to [is_clip_min, is_clip_max] or masked outside it. Needs rollout log-probs and old_logprobs = learner.");
    v.field("is_clip_min", is_clip_min, "C_min of is_correction; null means no lower bound.");
    v.field("is_clip_max", is_clip_max, "C_max of is_correction (TRL 3.0); null means no upper bound.");
    v.field("off_policy_mask_threshold", off_policy_mask_threshold, "DeepSeek-V3.2 off-policy sequence mask: drop completions with A < 0 whose mean (rollout - current) log-prob exceeds this; null disables.");
    v.field("top_entropy_quantile", top_entropy_quantile, "Keep only the policy-gradient term of tokens whose entropy is in the top fraction rho of active tokens (1.0 keeps all; 0.2 in 'Beyond the 80/20 rule').");
    v.field("entropy_coef", entropy_coef, "Entropy bonus coefficient: loss -= coef * mean entropy of the tokens the loss acts on; 0 disables.");
    v.field("beta", beta, "KL coefficient to the frozen reference; 0 loads no reference model (TRL default).");
    v.choice("kl_estimator", kl_estimator, {"k1", "k2", "k3"}, "Per-token KL estimator (Schulman's k1, k2, k3; TRL and DeepSeek use k3).");
    v.field("kl_ratio_correction", kl_ratio_correction, "Multiply the per-token KL by the (differentiable) ratio pi/pi_old (DeepSeek-V3.2 unbiased KL; TRL use_bias_correction_kl).");
    v.field("mask_truncated_completions", mask_truncated_completions, "Give completions cut at max_new_tokens no loss (DAPO).");
    // optimisation
    v.field("lr", lr, "Peak learning rate of AdamW.");
    v.field("weight_decay", weight_decay, "AdamW decoupled weight decay.");
    v.field("adam_beta1", adam_beta1, "AdamW beta1.");
    v.field("adam_beta2", adam_beta2, "AdamW beta2.");
    v.field("adam_eps", adam_eps, "AdamW epsilon.");
    v.field("max_grad_norm", max_grad_norm, "Clip gradients to this global L2 norm; 0 disables.");
    v.field("warmup_steps", warmup_steps, "Linear learning-rate warm-up steps from 0 to lr.");
    v.choice("lr_schedule", lr_schedule, {"constant", "linear", "cosine"}, "Schedule after warm-up: constant, linear decay to 0, cosine decay to 0 at total_steps.");
    v.field("total_steps", total_steps, "Optimizer steps of the run, the end of linear/cosine decay; 0 = take it from the run length.");
    // training step
    v.field("num_iterations", num_iterations, "Optimisation passes (mu) over each generation batch.");
    v.field("steps_per_generation", steps_per_generation, "Optimizer steps per pass over one generation batch (the batch is split into this many mini-batches).");
    v.choice("old_logprobs", old_logprobs, {"learner", "rollout"}, "Where pi_old comes from when it is needed: recomputed by the learner before the first update, or the rollout engine's sampling log-probs.");
    v.field("micro_batch_tokens", micro_batch_tokens, "Token budget of one micro-batch (prompt + completion tokens, padded).");
    v.field("sort_by_length", sort_by_length, "Sort sequences by length before forming micro-batches (less padding).");
    v.field("gradient_checkpointing", gradient_checkpointing, "Recompute transformer blocks in the backward pass instead of keeping their activations (less memory for about one more forward of compute; same losses and gradients).");
    v.field("logprob_chunk_tokens", logprob_chunk_tokens, "Tokens per chunk when computing log-probs and entropies from hidden states (bounds the [tokens, vocab] logits held at once).");
    // reference model
    v.field("ref_sync_steps", ref_sync_steps, "Every this many optimizer steps the reference becomes ref <- a*policy + (1-a)*ref (R1: 400, a = 1); 0 never.");
    v.field("ref_mix_alpha", ref_mix_alpha, "Mixing weight a of ref_sync_steps (1 replaces the reference; TRL's mix-up uses 0.6).");
    // MoE
    v.field("routing_bias_gamma", routing_bias_gamma, "MoE auxiliary-loss-free balancing speed: b_e += gamma * sign(mean_load - load_e) after each step (DeepSeek-V3: 0.001); 0 disables.");
    v.field("seq_balance_loss_alpha", seq_balance_loss_alpha, "Weight of the MoE sequence-wise balance loss (DeepSeek-V3: 1e-4); 0 disables.");
    // checkpoints
    v.field("checkpoint_every", checkpoint_every, "Write a checkpoint every this many optimizer steps; 0 only at the end.");
    v.field("keep_last", keep_last, "Keep the newest this many checkpoints.");
    v.field("keep_every", keep_every, "Also keep every checkpoint whose step is a multiple of this; 0 keeps none extra.");

    v.check(epsilon > 0 && epsilon < 1, "epsilon", "must be in (0, 1)");
    v.check(!epsilon_high || *epsilon_high > 0, "epsilon_high", "must be > 0");
    v.check(!delta || *delta > 1 + epsilon_high_or_default(), "delta", "must be > 1 + epsilon_high, or the cap would bite inside the clip range");
    v.check(!dual_clip_c || *dual_clip_c > 1, "dual_clip_c", "must be > 1 (verl uses 3)");
    v.check(!is_clip_min || !is_clip_max || *is_clip_min < *is_clip_max, "is_clip_min", "must be < is_clip_max");
    v.check(is_correction == "none" || old_logprobs == "learner", "is_correction", "needs old_logprobs = learner (with rollout log-probs as pi_old the ratio pi_old/pi_rollout is 1); set is_correction to none");
    v.check(top_entropy_quantile > 0 && top_entropy_quantile <= 1, "top_entropy_quantile", "must be in (0, 1]");
    v.check(entropy_coef >= 0, "entropy_coef", "must be >= 0");
    v.check(beta >= 0, "beta", "must be >= 0");
    v.check(lr > 0, "lr", "must be > 0");
    v.check(weight_decay >= 0, "weight_decay", "must be >= 0");
    v.check(adam_beta1 >= 0 && adam_beta1 < 1, "adam_beta1", "must be in [0, 1)");
    v.check(adam_beta2 >= 0 && adam_beta2 < 1, "adam_beta2", "must be in [0, 1)");
    v.check(adam_eps > 0, "adam_eps", "must be > 0");
    v.check(max_grad_norm >= 0, "max_grad_norm", "must be >= 0 (0 = no clipping)");
    v.check(warmup_steps >= 0, "warmup_steps", "must be >= 0");
    v.check(total_steps >= 0, "total_steps", "must be >= 0");
    v.check(num_iterations >= 1, "num_iterations", "must be >= 1");
    v.check(steps_per_generation >= 1, "steps_per_generation", "must be >= 1");
    v.check(micro_batch_tokens >= 1, "micro_batch_tokens", "must be >= 1");
    v.check(logprob_chunk_tokens >= 1, "logprob_chunk_tokens", "must be >= 1");
    v.check(ref_sync_steps >= 0, "ref_sync_steps", "must be >= 0 (0 = never)");
    v.check(ref_mix_alpha > 0 && ref_mix_alpha <= 1, "ref_mix_alpha", "must be in (0, 1]");
    v.check(routing_bias_gamma >= 0, "routing_bias_gamma", "must be >= 0");
    v.check(seq_balance_loss_alpha >= 0, "seq_balance_loss_alpha", "must be >= 0");
    v.check(checkpoint_every >= 0, "checkpoint_every", "must be >= 0");
    v.check(keep_last >= 1, "keep_last", "must be >= 1 (the newest checkpoint is always kept)");
    v.check(keep_every >= 0, "keep_every", "must be >= 0");
  }
};

}  // namespace grpo::learner
