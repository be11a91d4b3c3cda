// optimizer.cpp: see optimizer.h.
#include "learner/optimizer.h"

#include <cmath>

#include "core/error.h"
#include "core/log.h"
#include "core/torch_compat.h"

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

// Sum of the fp64 squares of a CPU gradient, block by block through one reused fp64 buffer that stays in
// cache (the squares of fp32 values are exact in fp64), instead of a whole fp64 copy of every gradient:
// one read of the gradient instead of ~5 passes over twice its size.
double optimizer_cpu_sum_of_squares(const torch::Tensor& grad, torch::Tensor& block64) {
  constexpr int64_t kBlock = int64_t{1} << 15;  // 256 KiB of fp64
  if (!block64.defined()) block64 = torch::empty({kBlock}, grad.options().dtype(torch::kDouble));
  torch::Tensor flat = grad.detach().reshape({-1});
  double sum = 0.0;
  for (int64_t s = 0; s < flat.numel(); s += kBlock) {
    const int64_t n = std::min(kBlock, flat.numel() - s);
    torch::Tensor d = block64.narrow(0, 0, n);
    d.copy_(flat.narrow(0, s, n));
    sum += torch::dot(d, d).item<double>();
  }
  return sum;
}

// One AdamW step of every parameter with a gradient by ATen's fused kernel (one pass over parameter,
// gradient and moments per tensor, torch.optim.AdamW(fused=True)'s formula) instead of
// torch::optim::AdamW::step's ~8 element-wise passes and its fp32 temporaries. The state (moments,
// step counts) is the torch::optim::AdamW's own, created as its step() creates it, so checkpoints and
// adam_moments() see the same objects. Where LibTorch has no CPU fused kernel, AdamW::step runs.
void optimizer_fused_adamw_step(torch::optim::AdamW& adamw) {
#if GRPO_HAS_FUSED_ADAMW
  torch::NoGradGuard no_grad;
  for (auto& group : adamw.param_groups()) {
    const auto& o = static_cast<const torch::optim::AdamWOptions&>(group.options());
    if (o.amsgrad()) throw Error("learner: AdamW with amsgrad is not supported by the fused step");
    std::vector<torch::Tensor> params, grads, avgs, sqs, steps;
    for (auto& p : group.params()) {
      if (!p.grad().defined()) continue;
      auto& slot = adamw.state()[p.unsafeGetTensorImpl()];
      if (!slot) {
        auto fresh = std::make_unique<torch::optim::AdamWParamState>();
        fresh->exp_avg(torch::zeros_like(p, torch::MemoryFormat::Preserve));
        fresh->exp_avg_sq(torch::zeros_like(p, torch::MemoryFormat::Preserve));
        slot = std::move(fresh);
      }
      auto& st = static_cast<torch::optim::AdamWParamState&>(*slot);
      st.step(st.step() + 1);
      params.push_back(p);
      grads.push_back(p.grad());
      avgs.push_back(st.exp_avg());
      sqs.push_back(st.exp_avg_sq());
      // The kernel reads the (already incremented) step count from a float tensor on the parameter's device.
      steps.push_back(torch::full({}, static_cast<double>(st.step()), p.options().dtype(torch::kFloat)));
    }
    if (params.empty()) continue;
    at::_fused_adamw_(params, grads, avgs, sqs, {}, steps, o.lr(), std::get<0>(o.betas()), std::get<1>(o.betas()),
                      o.weight_decay(), o.eps(), /*amsgrad=*/false, /*maximize=*/false);
  }
#else
  adamw.step();
#endif
}

}  // namespace

double global_grad_norm(const std::vector<torch::Tensor>& parameters) {
  // fp64 squares, and one host synchronisation for the whole model, not one per tensor. On the CPU
  // the squares are summed block by block (optimizer_cpu_sum_of_squares); elsewhere an fp64 copy of
  // each gradient (copy = true so that squaring in place never touches an fp64 gradient itself).
  std::vector<torch::Tensor> squares;
  double cpu_sum = 0.0;
  torch::Tensor block64;
  for (const auto& p : parameters) {
    if (!p.grad().defined()) continue;
    if (p.grad().is_cpu()) {
      cpu_sum += optimizer_cpu_sum_of_squares(p.grad(), block64);
      continue;
    }
    torch::Tensor g = p.grad().detach().to(torch::kDouble, /*non_blocking=*/false, /*copy=*/true);
    squares.push_back(g.mul_(g).sum());
  }
  if (!squares.empty()) cpu_sum += torch::stack(squares).sum().item<double>();
  return std::sqrt(cpu_sum);
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
  had_gradient_.assign(trained_.size(), false);
}

void Optimizer::zero_grad() {
  // Dropped, not filled with zeros: the first micro-batch's backward then hands its gradient buffers
  // over (AccumulateGrad steals them) instead of a fill of every gradient plus an add of the first
  // micro-batch's. define_dropped_gradients() restores the zeros where a step needs them.
  for (auto* list : {&parameters_, &trained_})
    for (auto& p : *list) p.mutable_grad() = torch::Tensor();
}

void Optimizer::define_dropped_gradients() {
  torch::NoGradGuard no_grad;
  for (size_t i = 0; i < trained_.size(); ++i) {
    torch::Tensor& t = trained_[i];
    if (t.grad().defined()) had_gradient_[i] = true;
    else if (had_gradient_[i]) t.mutable_grad() = torch::zeros_like(t, torch::MemoryFormat::Preserve);
  }
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
  define_dropped_gradients();
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
  optimizer_fused_adamw_step(*adamw_);
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
