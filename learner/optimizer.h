// optimizer.h: AdamW with the learning-rate schedule, global-norm gradient
// clipping and the non-finite guard: a step whose loss or gradient norm is
// not finite is skipped (gradients dropped, nothing applied), logged and counted.
//
// Usage:
//   Optimizer opt(model->parameters(), OptimizerOptions::from_config(cfg));
//   ... accumulate gradients with backward() ...
//   StepReport r = opt.step(/*loss_finite=*/std::isfinite(loss));
//
// Mixed precision (model.dtype = bfloat16): a parameter that is not float32 is
// a compute copy. The optimizer keeps a float32 master of it; gradients are
// summed into the master's float32 gradient after each backward
// (accumulate_gradients()), clipping and AdamW (whose moments are therefore
// float32 too) act on the masters, and after each step the compute weights are
// overwritten with their masters rounded to the compute dtype. The loss itself
// is float32 (CausalLM::token_scores computes the log-softmax in float32).
// float16 compute weights are refused: they would need loss scaling.
//
// Owns its torch::optim::AdamW and the masters; borrows the parameters (they
// must outlive it). Not thread-safe.
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
  // scheduled learning rate and drops the gradients (zero_grad). Skips (and
  // only drops them) when !loss_finite or the gradient norm is not finite.
  StepReport step(bool loss_finite = true);
  // Sets every gradient (parameters' and masters') to none, as PyTorch's
  // zero_grad(set_to_none=True); the next backward defines them afresh.
  void zero_grad();
  // Moves the gradients of non-float32 parameters into their float32 masters
  // (summing) and drops them from the parameters; call after each micro-batch
  // backward so that accumulation over micro-batches happens in float32. A
  // no-op when every parameter is float32. step() calls it too.
  void accumulate_gradients();

  // The float32 tensors AdamW updates: each parameter's master, or the
  // parameter itself when it is float32 (same order as the parameters).
  const std::vector<torch::Tensor>& master_weights() const { return trained_; }
  bool has_masters() const { return has_masters_; }
  // Every AdamW moment (exp_avg, exp_avg_sq of each tensor stepped so far).
  std::vector<torch::Tensor> adam_moments() const;

  int64_t steps_applied() const { return applied_; }  // also the schedule position
  int64_t steps_skipped() const { return skipped_; }

  // Optimizer moments and counters, for checkpoints.
  void save(torch::serialize::OutputArchive& archive) const;
  void load(torch::serialize::InputArchive& archive);

 private:
  void copy_masters_to_parameters();
  // A trained tensor that had a gradient in an earlier step (applied or
  // skipped) but got none this step gets a zero one, so that AdamW steps it as
  // when gradients were zeroed instead of dropped (moments decay, weight decay
  // applies); one that never had a gradient stays without, and AdamW skips it.
  void define_dropped_gradients();

  std::vector<torch::Tensor> parameters_;
  std::vector<torch::Tensor> trained_;  // float32 masters (or the float32 parameters themselves)
  bool has_masters_ = false;
  OptimizerOptions options_;
  std::unique_ptr<torch::optim::AdamW> adamw_;
  std::vector<bool> had_gradient_;  // per trained tensor: had a gradient in an earlier step
  int64_t applied_ = 0;
  int64_t skipped_ = 0;
};

// Global L2 norm of the gradients of `parameters` (those without a gradient count as 0).
double global_grad_norm(const std::vector<torch::Tensor>& parameters);

// Scales the gradients so their global norm is at most max_norm (as
// torch.nn.utils.clip_grad_norm_: factor max_norm / (norm + 1e-6)). Returns the norm before.
double clip_gradients(const std::vector<torch::Tensor>& parameters, double max_norm);

}  // namespace grpo::learner
