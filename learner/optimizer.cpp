// optimizer.cpp: see optimizer.h.
#include "learner/optimizer.h"

#include <cmath>

#include "core/error.h"
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
  // fp64 squares (copy = true so that squaring in place never touches an fp64 gradient itself), and one host
  // synchronisation for the whole model, not one per tensor.
  std::vector<torch::Tensor> squares;
  for (const auto& p : parameters) {
    if (!p.grad().defined()) continue;
    torch::Tensor g = p.grad().detach().to(torch::kDouble, /*non_blocking=*/false, /*copy=*/true);
    squares.push_back(g.mul_(g).sum());
  }
  if (squares.empty()) return 0.0;
  return std::sqrt(torch::stack(squares).sum().item<double>());
}

double clip_gradients(const std::vector<torch::Tensor>& parameters, double max_norm) {
  const double norm = global_grad_norm(parameters);
  scale_to_max_norm(parameters, norm, max_norm);
  return norm;
}

Optimizer::Optimizer(std::vector<torch::Tensor> parameters, const OptimizerOptions& options)
    : parameters_(std::move(parameters)), options_(options) {
  torch::NoGradGuard no_grad;
  for (const auto& p : parameters_) {
    if (p.scalar_type() == torch::kHalf)
      throw Error("learner: float16 weights need loss scaling, which the learner does not do; set model.dtype to "
                  "bfloat16 (float32's range, float32 masters) or float32");
    if (p.scalar_type() == torch::kFloat || !p.is_floating_point()) {
      trained_.push_back(p);
      continue;
    }
    // A float32 master: a leaf of its own, never part of a graph; AdamW reads its .grad.
    trained_.push_back(p.detach().to(torch::kFloat).set_requires_grad(true));
    has_masters_ = true;
  }
  torch::optim::AdamWOptions adam(options_.schedule.lr);
  adam.betas({options_.beta1, options_.beta2}).eps(options_.eps).weight_decay(options_.weight_decay);
  adamw_ = std::make_unique<torch::optim::AdamW>(trained_, adam);
}

void Optimizer::zero_grad() {
  for (auto* list : {&parameters_, &trained_})
    for (auto& p : *list)
      if (p.grad().defined()) p.mutable_grad().zero_();
}

void Optimizer::accumulate_gradients() {
  if (!has_masters_) return;
  torch::NoGradGuard no_grad;
  for (size_t i = 0; i < parameters_.size(); ++i) {
    torch::Tensor& p = parameters_[i];
    torch::Tensor& master = trained_[i];
    if (p.is_same(master) || !p.grad().defined()) continue;
    if (master.grad().defined()) master.mutable_grad().add_(p.grad());
    else master.mutable_grad() = p.grad().to(torch::kFloat);
    p.mutable_grad() = torch::Tensor();  // the next micro-batch starts from no gradient
  }
}

void Optimizer::copy_masters_to_parameters() {
  torch::NoGradGuard no_grad;
  for (size_t i = 0; i < parameters_.size(); ++i)
    if (!parameters_[i].is_same(trained_[i])) parameters_[i].copy_(trained_[i]);  // round to nearest even
}

std::vector<torch::Tensor> Optimizer::adam_moments() const {
  std::vector<torch::Tensor> out;
  for (const auto& item : adamw_->state()) {
    const auto& st = static_cast<const torch::optim::AdamWParamState&>(*item.second);
    out.push_back(st.exp_avg());
    out.push_back(st.exp_avg_sq());
  }
  return out;
}

StepReport Optimizer::step(bool loss_finite) {
  StepReport r;
  r.lr = learning_rate_at(applied_, options_.schedule);
  accumulate_gradients();
  r.grad_norm = global_grad_norm(trained_);
  if (!loss_finite || !std::isfinite(r.grad_norm)) {
    ++skipped_;
    GRPO_LOG_WARN("learner", "skipping optimizer step " << (applied_ + skipped_) << ": "
                                 << (!loss_finite ? "loss" : "gradient norm") << " is not finite (" << skipped_
                                 << " skipped so far); nothing was applied");
    zero_grad();
    return r;
  }
  scale_to_max_norm(trained_, r.grad_norm, options_.max_grad_norm);  // the norm once per step, not twice
  for (auto& group : adamw_->param_groups()) static_cast<torch::optim::AdamWOptions&>(group.options()).lr(r.lr);
  adamw_->step();
  if (has_masters_) copy_masters_to_parameters();
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
  // The masters are the weights that train on; the saved policy holds them rounded.
  for (size_t i = 0; i < trained_.size(); ++i)
    if (!trained_[i].is_same(parameters_[i])) archive.write("master." + std::to_string(i), trained_[i].detach());
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
  // Masters saved by a mixed-precision run; a checkpoint of a float32 run has
  // none, and the masters stay the (exact) float32 values of the loaded policy.
  torch::NoGradGuard no_grad;
  for (size_t i = 0; i < trained_.size(); ++i) {
    if (trained_[i].is_same(parameters_[i])) continue;
    torch::Tensor saved;
    if (archive.try_read("master." + std::to_string(i), saved)) trained_[i].copy_(saved);
  }
  copy_masters_to_parameters();
}

}  // namespace grpo::learner
