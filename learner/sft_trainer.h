// sft_trainer.h: one supervised optimizer step on a policy: token-budget
// micro-batches, the next-token loss over target tokens (sft_loss.h), the
// learner's guarded AdamW with its schedule, and the MoE routing-bias update,
// the same pieces GrpoTrainer steps with.
//
// Usage:
//   SftTrainer trainer(TrainablePolicy::from_causal_lm(model, /*temperature=*/1.0), cfg, pad_id);
//   std::vector<TrainSequence> batch = ...;   // prompt_len marks where targets start
//   StepMetrics m = trainer.step(batch);      // m.values["loss"]: mean NLL per target token
//
// Holds the policy (shared, as LibTorch modules are) and owns the optimizer. Not thread-safe.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "learner/grpo_trainer.h"
#include "learner/learner_config.h"
#include "learner/optimizer.h"
#include "learner/sequence_batch.h"

namespace grpo::learner {

class SftTrainer {
 public:
  SftTrainer(TrainablePolicy policy, const LearnerConfig& config, int64_t pad_id = 0);

  // One optimizer step on `batch`: the targets are each sequence's tokens
  // after its first prompt_len (prompt_len = 1: every token but the first).
  // Metrics: loss, grad_norm, learning_rate, step_applied, tokens/target,
  // tokens/padded, micro_batches, time/train_s, tokens_per_s/train.
  StepMetrics step(const std::vector<TrainSequence>& batch);

  Optimizer& optimizer() { return *optimizer_; }

 private:
  TrainablePolicy policy_;
  LearnerConfig config_;
  int64_t pad_id_;
  std::unique_ptr<Optimizer> optimizer_;
};

}  // namespace grpo::learner
