// grpo_trainer.h: the GRPO training step on a policy: old and reference
// log-probs, num_iterations passes of steps_per_generation optimizer steps
// over a generation batch, token-budget micro-batches, the exact loss
// normalisation, the non-finite guard, MoE routing-bias updates, reference
// resets/mixing, and per-step metrics.
//
// Usage:
//   GrpoTrainer trainer(TrainablePolicy::from_causal_lm(model, temperature), cfg);
//   std::vector<TrainSequence> batch = ...;   // advantages already set (compute_advantages)
//   for (const StepMetrics& m : trainer.train_on_generation(batch)) store.write(m.values);
//
// Borrows nothing: holds the policy (shared, as LibTorch modules are) and owns
// the optimizer and, when beta > 0, a frozen copy of the policy as reference.
// Not thread-safe.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <torch/torch.h>

#include "learner/data_parallel.h"
#include "learner/grpo_loss.h"
#include "learner/learner_config.h"
#include "learner/optimizer.h"
#include "learner/sequence_batch.h"
#include "policies/causal_lm.h"

namespace grpo::learner {

// What the trainer needs from a policy network. from_causal_lm() adapts a
// policies::CausalLM; tests may build one around any module.
struct TrainablePolicy {
  // Per-position log-probs [B, T] (and entropies when asked) of targets given inputs, at least at
  // the nonzero positions of score_mask [B, T] (the loss positions; others may be 0).
  std::function<policies::TokenScores(const torch::Tensor& inputs, const torch::Tensor& targets,
                                      const torch::Tensor& attention_mask, const torch::Tensor& score_mask,
                                      bool with_entropy)> score;
  std::function<std::vector<torch::Tensor>()> parameters;
  // A frozen deep copy (the reference model).
  std::function<TrainablePolicy()> clone;
  // After each applied optimizer step (MoE routing-bias update with gamma); may be empty.
  std::function<void(double gamma)> after_step;
  // The live MoE expert-load counters that after_step reads (summed over
  // data-parallel ranks in place before it); may be empty.
  std::function<std::vector<torch::Tensor>()> expert_loads;
  // Extra differentiable loss of the last score() call (MoE balance loss); may be empty.
  std::function<torch::Tensor()> aux_loss;

  static TrainablePolicy from_causal_lm(std::shared_ptr<policies::CausalLM> model, double temperature,
                                        int64_t chunk_tokens = 1024, double seq_balance_alpha = 0.0,
                                        bool gradient_checkpointing = false);
  // from_causal_lm with the learner section's logprob_chunk_tokens,
  // seq_balance_loss_alpha and gradient_checkpointing.
  static TrainablePolicy from_causal_lm(std::shared_ptr<policies::CausalLM> model, double temperature, const LearnerConfig& config);
};

// Metrics of one optimizer step, by the names the run store uses.
struct StepMetrics {
  std::map<std::string, double> values;
};

class GrpoTrainer {
 public:
  // max_completion_length: the rollout's limit (L_max of dr_grpo); 0 = the longest in each step.
  GrpoTrainer(TrainablePolicy policy, const LearnerConfig& config, int64_t pad_id = 0, int64_t max_completion_length = 0);

  // Trains on one generation batch: num_iterations x steps_per_generation
  // optimizer steps. Returns one StepMetrics per optimizer step.
  std::vector<StepMetrics> train_on_generation(const std::vector<TrainSequence>& batch);

  // Trains as one rank of `dp` from now on: every rank passes the same
  // generation batch, trains on its contiguous share of each optimizer step's
  // rows, and the gradients are averaged (the loss normalisers count the whole
  // step over all ranks, grpo-reference.md). Makes every rank's parameters
  // rank 0's. Every rank must call train_on_generation equally often.
  void set_data_parallel(std::shared_ptr<DataParallel> dp);

  Optimizer& optimizer() { return *optimizer_; }
  const TrainablePolicy& policy() const { return policy_; }
  int64_t steps_done() const { return steps_done_; }
  void set_steps_done(int64_t steps) { steps_done_ = steps; }

 private:
  // Log-probs of the completions of `rows` (others stay undefined).
  std::vector<torch::Tensor> score_completions(const TrainablePolicy& p, const std::vector<TrainSequence>& batch,
                                               const std::vector<int64_t>& rows);
  std::vector<int64_t> this_rank_share(const std::vector<int64_t>& rows) const;
  StepMetrics optimizer_step(const std::vector<TrainSequence>& batch, const std::vector<int64_t>& rows,
                             const std::vector<torch::Tensor>& old_lp, const std::vector<torch::Tensor>& ref_lp);
  void maybe_sync_reference();

  TrainablePolicy policy_;
  LearnerConfig config_;
  LossOptions loss_options_;
  int64_t pad_id_;
  int64_t max_completion_length_;
  std::unique_ptr<Optimizer> optimizer_;
  std::unique_ptr<TrainablePolicy> reference_;
  std::shared_ptr<DataParallel> dp_;  // null: one rank
  int64_t steps_done_ = 0;
};

}  // namespace grpo::learner
