// optimizer.h: AdamW with the learning-rate schedule, global-norm gradient
// clipping and the non-finite guard: a step whose loss or gradient norm is
// not finite is skipped (gradients dropped, nothing applied), logged and counted.
//
// Usage:
//   Optimizer opt(model->parameters(), OptimizerOptions::from_config(cfg));
//   ... accumulate gradients with backward() ...
//   StepReport r = opt.step(/*loss_finite=*/std::isfinite(loss));
//
// Owns its torch::optim::AdamW; borrows the parameters (they must outlive it).
// Not thread-safe.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include <torch/torch.h>

#include "learner/learner_config.h"
#include "learner/lr_schedule.h"

namespace grpo::learner {

struct OptimizerOptions {
  ScheduleOptions schedule;
  double weight_decay = 0.0;
  double beta1 = 0.9;
  double beta2 = 0.999;
  double eps = 1e-8;
  double max_grad_norm = 1.0;  // 0 = no clipping

  static OptimizerOptions from_config(const LearnerConfig& c);
};

// What one call to step() did.
struct StepReport {
  bool applied = false;   // false when skipped for a non-finite loss or gradient
  double grad_norm = 0;   // global L2 norm before clipping (NaN/inf when skipped for it)
  double lr = 0;          // learning rate used (or that would have been)
};

class Optimizer {
 public:
  Optimizer(std::vector<torch::Tensor> parameters, const OptimizerOptions& options);

  // Clips the accumulated gradients to max_grad_norm, applies AdamW at the
  // scheduled learning rate and zeroes the gradients. Skips (and only zeroes)
  // when !loss_finite or the gradient norm is not finite.
  StepReport step(bool loss_finite = true);
  void zero_grad();

  int64_t steps_applied() const { return applied_; }  // also the schedule position
  int64_t steps_skipped() const { return skipped_; }

  // Optimizer moments and counters, for checkpoints.
  void save(torch::serialize::OutputArchive& archive) const;
  void load(torch::serialize::InputArchive& archive);

 private:
  std::vector<torch::Tensor> parameters_;
  OptimizerOptions options_;
  std::unique_ptr<torch::optim::AdamW> adamw_;
  int64_t applied_ = 0;
  int64_t skipped_ = 0;
};

// Global L2 norm of the gradients of `parameters` (those without a gradient count as 0).
double global_grad_norm(const std::vector<torch::Tensor>& parameters);

// Scales the gradients so their global norm is at most max_norm (as
// torch.nn.utils.clip_grad_norm_: factor max_norm / (norm + 1e-6)). Returns the norm before.
double clip_gradients(const std::vector<torch::Tensor>& parameters, double max_norm);

}  // namespace grpo::learner
