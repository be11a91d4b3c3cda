// optimizer.cpp: see optimizer.h.
#include "learner/optimizer.h"

#include <cmath>

#include "core/log.h"

namespace grpo::learner {

OptimizerOptions OptimizerOptions::from_config(const LearnerConfig& c) {
  OptimizerOptions o;
  o.schedule.lr = c.lr;
  o.schedule.warmup_steps = c.warmup_steps;
  o.schedule.kind = c.lr_schedule;
  o.schedule.total_steps = c.total_steps;
  o.weight_decay = c.weight_decay;
  o.beta1 = c.adam_beta1;
  o.beta2 = c.adam_beta2;
  o.eps = c.adam_eps;
  o.max_grad_norm = c.max_grad_norm;
  return o;
}

namespace {

// clip_gradients with the norm already computed.
void scale_to_max_norm(const std::vector<torch::Tensor>& parameters, double norm, double max_norm) {
  if (max_norm > 0 && std::isfinite(norm) && norm > max_norm) {
    const double scale = max_norm / (norm + 1e-6);
    for (const auto& p : parameters)
      if (p.grad().defined()) p.grad().mul_(scale);
  }
}

}  // namespace

double global_grad_norm(const std::vector<torch::Tensor>& parameters) {
  double sq = 0;
  for (const auto& p : parameters) {
    if (!p.grad().defined()) continue;
    // fp64 squares and sum; copy = true so that squaring in place never touches an fp64 gradient itself.
    torch::Tensor g = p.grad().detach().to(torch::kDouble, /*non_blocking=*/false, /*copy=*/true);
    sq += g.mul_(g).sum().item<double>();
  }
  return std::sqrt(sq);
}

double clip_gradients(const std::vector<torch::Tensor>& parameters, double max_norm) {
  const double norm = global_grad_norm(parameters);
  scale_to_max_norm(parameters, norm, max_norm);
  return norm;
}

Optimizer::Optimizer(std::vector<torch::Tensor> parameters, const OptimizerOptions& options)
    : parameters_(std::move(parameters)), options_(options) {
  torch::optim::AdamWOptions adam(options_.schedule.lr);
  adam.betas({options_.beta1, options_.beta2}).eps(options_.eps).weight_decay(options_.weight_decay);
  adamw_ = std::make_unique<torch::optim::AdamW>(parameters_, adam);
}

void Optimizer::zero_grad() {
  for (auto& p : parameters_)
    if (p.grad().defined()) p.mutable_grad().zero_();
}

StepReport Optimizer::step(bool loss_finite) {
  StepReport r;
  r.lr = learning_rate_at(applied_, options_.schedule);
  r.grad_norm = global_grad_norm(parameters_);
  if (!loss_finite || !std::isfinite(r.grad_norm)) {
    ++skipped_;
    GRPO_LOG_WARN("learner", "skipping optimizer step " << (applied_ + skipped_) << ": "
                                 << (!loss_finite ? "loss" : "gradient norm") << " is not finite (" << skipped_
                                 << " skipped so far); nothing was applied");
    zero_grad();
    return r;
  }
  scale_to_max_norm(parameters_, r.grad_norm, options_.max_grad_norm);  // the norm once per step, not twice
  for (auto& group : adamw_->param_groups()) static_cast<torch::optim::AdamWOptions&>(group.options()).lr(r.lr);
  adamw_->step();
  zero_grad();
  ++applied_;
  r.applied = true;
  return r;
}

void Optimizer::save(torch::serialize::OutputArchive& archive) const {
  torch::serialize::OutputArchive adam;
  adamw_->save(adam);
  archive.write("adamw", adam);
  archive.write("steps_applied", torch::tensor(applied_));
  archive.write("steps_skipped", torch::tensor(skipped_));
}

void Optimizer::load(torch::serialize::InputArchive& archive) {
  torch::serialize::InputArchive adam;
  archive.read("adamw", adam);
  adamw_->load(adam);
  torch::Tensor applied, skipped;
  archive.read("steps_applied", applied);
  archive.read("steps_skipped", skipped);
  applied_ = applied.item<int64_t>();
  skipped_ = skipped.item<int64_t>();
}

}  // namespace grpo::learner
