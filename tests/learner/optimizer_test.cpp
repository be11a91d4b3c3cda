// Learning-rate schedules (transformers' numbers), AdamW with clipping, and
// the non-finite guard.
#include "learner/optimizer.h"

#include <cmath>
#include <limits>

#include <gtest/gtest.h>

#include "core/error.h"

namespace grpo::learner {
namespace {

TEST(LrScheduleTest, WarmupThenConstant) {
  ScheduleOptions s{/*lr=*/1.0, /*warmup_steps=*/4, "constant", 0};
  EXPECT_DOUBLE_EQ(learning_rate_at(0, s), 0.0);   // transformers starts warm-up at 0
  EXPECT_DOUBLE_EQ(learning_rate_at(1, s), 0.25);
  EXPECT_DOUBLE_EQ(learning_rate_at(4, s), 1.0);
  EXPECT_DOUBLE_EQ(learning_rate_at(1000, s), 1.0);
}

TEST(LrScheduleTest, LinearAndCosineDecayToZero) {
  ScheduleOptions lin{2.0, 2, "linear", 12};
  EXPECT_DOUBLE_EQ(learning_rate_at(2, lin), 2.0);
  EXPECT_DOUBLE_EQ(learning_rate_at(7, lin), 1.0);   // halfway through 10 decay steps
  EXPECT_DOUBLE_EQ(learning_rate_at(12, lin), 0.0);
  EXPECT_DOUBLE_EQ(learning_rate_at(20, lin), 0.0);
  ScheduleOptions cos{2.0, 2, "cosine", 12};
  EXPECT_NEAR(learning_rate_at(7, cos), 1.0, 1e-12);  // 0.5 * (1 + cos(pi/2))
  EXPECT_NEAR(learning_rate_at(4, cos), 2.0 * 0.5 * (1 + std::cos(M_PI * 0.2)), 1e-12);
  EXPECT_NEAR(learning_rate_at(12, cos), 0.0, 1e-12);
}

TEST(LrScheduleTest, DecayWithoutTotalStepsIsAnError) {
  EXPECT_THROW(learning_rate_at(5, ScheduleOptions{1.0, 0, "linear", 0}), Error);
  EXPECT_THROW(learning_rate_at(0, ScheduleOptions{1.0, 0, "step", 0}), Error);
}

OptimizerOptions plain(double lr, double max_norm) {
  OptimizerOptions o;
  o.schedule.lr = lr;
  o.max_grad_norm = max_norm;
  return o;
}

TEST(OptimizerTest, FirstAdamStepMovesEachWeightByLr) {
  // Adam's first step is lr * g / (|g| + eps) = lr * sign(g) per element.
  torch::Tensor w = torch::tensor({1.0, -2.0, 3.0}).requires_grad_(true);
  Optimizer opt({w}, plain(0.1, 0));
  (w * torch::tensor({2.0, -3.0, 0.5})).sum().backward();
  StepReport r = opt.step();
  EXPECT_TRUE(r.applied);
  EXPECT_NEAR(r.grad_norm, std::sqrt(4 + 9 + 0.25), 1e-6);
  EXPECT_NEAR(w[0].item<double>(), 0.9, 1e-6);
  EXPECT_NEAR(w[1].item<double>(), -1.9, 1e-6);
  EXPECT_NEAR(w[2].item<double>(), 2.9, 1e-6);
  EXPECT_FALSE(w.grad().defined());  // gradients dropped (set to none)
}

TEST(OptimizerTest, ClipsToGlobalNorm) {
  // Two parameters with gradients 3 and 4: global norm 5, clipped to 1.
  torch::Tensor a = torch::zeros({1}, torch::kDouble).requires_grad_(true), b = torch::zeros({1}, torch::kDouble).requires_grad_(true);
  (3 * a + 4 * b).sum().backward();
  EXPECT_NEAR(clip_gradients({a, b}, 1.0), 5.0, 1e-12);
  EXPECT_NEAR(a.grad().item<double>(), 3.0 / (5.0 + 1e-6), 1e-12);
  EXPECT_NEAR(b.grad().item<double>(), 4.0 / (5.0 + 1e-6), 1e-12);
  EXPECT_NEAR(clip_gradients({a, b}, 10.0), 1.0, 1e-6);  // below the bound: untouched
  EXPECT_NEAR(a.grad().item<double>(), 3.0 / (5.0 + 1e-6), 1e-12);
}

TEST(OptimizerTest, GlobalGradNormIsTheFp64NormOverManyBlocks) {
  // The CPU norm sums fp64 squares block by block: a gradient of several blocks (and a ragged last
  // one) gives the norm of a whole fp64 copy, to fp64 rounding (summation order differs: 1e-12
  // relative, against ~1e-7 for an fp32 norm).
  torch::manual_seed(3);
  torch::Tensor a = torch::zeros({100003}).requires_grad_(true), b = torch::zeros({7, 5}).requires_grad_(true);
  torch::Tensor ga = torch::randn({100003}) * 1e3, gb = torch::randn({7, 5}) * 1e-3;
  ((a * ga).sum() + (b * gb).sum()).backward();
  const double naive = std::sqrt(ga.to(torch::kDouble).pow(2).sum().item<double>() + gb.to(torch::kDouble).pow(2).sum().item<double>());
  EXPECT_NEAR(global_grad_norm({a, b}), naive, naive * 1e-12);
}

TEST(OptimizerTest, AdamWStepsMatchTorchAdamW) {
  // The fused step against torch::optim::AdamW (LibTorch's loop over element-wise ops, the formula
  // of torch.optim.AdamW) over 5 steps with weight decay and non-default betas and eps; `late` has
  // no gradient in the first two steps, so its step count (bias correction) starts later in both.
  torch::manual_seed(5);
  torch::Tensor w = torch::randn({300, 7}).requires_grad_(true), late = torch::randn({11}).requires_grad_(true);
  torch::Tensor w_ref = w.detach().clone().requires_grad_(true), late_ref = late.detach().clone().requires_grad_(true);
  OptimizerOptions o = plain(0.01, 0);
  o.weight_decay = 0.1;
  o.beta1 = 0.8;
  o.beta2 = 0.95;
  o.eps = 1e-6;
  Optimizer opt({w, late}, o);
  torch::optim::AdamW ref({w_ref, late_ref},
                          torch::optim::AdamWOptions(0.01).betas({0.8, 0.95}).eps(1e-6).weight_decay(0.1));
  for (int step = 0; step < 5; ++step) {
    torch::Tensor gw = torch::randn({300, 7}), gl = torch::randn({11});
    (w * gw).sum().backward();
    (w_ref * gw).sum().backward();
    if (step >= 2) {
      (late * gl).sum().backward();
      (late_ref * gl).sum().backward();
    }
    EXPECT_TRUE(opt.step().applied);
    ref.step();
    ref.zero_grad();
    EXPECT_LE((w - w_ref).abs().max().item<double>(), 1e-6) << "step " << step;
    EXPECT_LE((late - late_ref).abs().max().item<double>(), 1e-6) << "step " << step;
  }
  // The moments too (adam_moments: exp_avg, exp_avg_sq per tensor, in the state's order).
  // The reference's state is found by shape: its key type differs between LibTorch 1.13 and 2.x.
  auto moments = opt.adam_moments();
  ASSERT_EQ(moments.size(), 4u);
  int found = 0;
  for (const auto& item : ref.state()) {
    const auto& st = static_cast<const torch::optim::AdamWParamState&>(*item.second);
    for (size_t i = 0; i + 1 < moments.size(); i += 2) {
      if (moments[i].sizes() != st.exp_avg().sizes()) continue;
      ++found;
      EXPECT_LE((moments[i] - st.exp_avg()).abs().max().item<double>(), 1e-6);
      EXPECT_LE((moments[i + 1] - st.exp_avg_sq()).abs().max().item<double>(), 1e-6);
    }
  }
  EXPECT_EQ(found, 2) << "both parameters' moments compared";
}

TEST(OptimizerTest, ATensorWithoutGradientAfterHavingOneStepsAsWithAZeroGradient) {
  // zero_grad drops the gradients; a tensor that had one in an earlier step but gets none now (an
  // MoE expert no token chose) is stepped with a zero gradient, as torch::optim::AdamW steps a
  // zeroed one (moments decay, weight decay applies); one that never had a gradient is left alone.
  torch::manual_seed(6);
  torch::Tensor w = torch::randn({5}).requires_grad_(true), idle = torch::randn({4}).requires_grad_(true);
  torch::Tensor w_ref = w.detach().clone().requires_grad_(true), idle_ref = idle.detach().clone().requires_grad_(true);
  torch::Tensor never = torch::randn({3}).requires_grad_(true);
  const torch::Tensor never_before = never.detach().clone();
  OptimizerOptions o = plain(0.01, 0);
  o.weight_decay = 0.1;
  Optimizer opt({w, idle, never}, o);
  torch::optim::AdamW ref({w_ref, idle_ref}, torch::optim::AdamWOptions(0.01).weight_decay(0.1));
  for (int step = 0; step < 4; ++step) {
    torch::Tensor gw = torch::randn({5}), gi = torch::randn({4});
    (w * gw).sum().backward();
    (w_ref * gw).sum().backward();
    if (step == 0) {
      (idle * gi).sum().backward();
      (idle_ref * gi).sum().backward();
    } else {
      idle_ref.mutable_grad() = torch::zeros({4});  // the reference's zeroed gradient
    }
    EXPECT_TRUE(opt.step().applied);
    ref.step();
    w_ref.mutable_grad() = torch::Tensor();
    EXPECT_LE((w - w_ref).abs().max().item<double>(), 1e-6) << "step " << step;
    EXPECT_LE((idle - idle_ref).abs().max().item<double>(), 1e-6) << "step " << step;
    EXPECT_FALSE(idle.grad().defined()) << "step " << step;
  }
  EXPECT_TRUE(torch::equal(never, never_before));
  EXPECT_EQ(opt.adam_moments().size(), 4u);  // w and idle; never none
}

TEST(OptimizerTest, NonFiniteGradientOrLossSkipsTheStep) {
  torch::Tensor w = torch::ones({2}).requires_grad_(true);
  Optimizer opt({w}, plain(0.1, 1.0));
  (w * torch::tensor({std::numeric_limits<float>::quiet_NaN(), 1.f})).sum().backward();
  StepReport r = opt.step();
  EXPECT_FALSE(r.applied);
  EXPECT_TRUE(torch::equal(w, torch::ones({2})));
  EXPECT_EQ(opt.steps_skipped(), 1);
  EXPECT_EQ(opt.steps_applied(), 0);
  EXPECT_FALSE(w.grad().defined());  // the bad gradient is dropped
  w.sum().backward();
  EXPECT_FALSE(opt.step(/*loss_finite=*/false).applied);
  EXPECT_TRUE(torch::equal(w, torch::ones({2})));
  EXPECT_EQ(opt.steps_skipped(), 2);
  w.sum().backward();
  EXPECT_TRUE(opt.step().applied);  // a good step afterwards is applied
  EXPECT_LT(w[0].item<double>(), 1.0);
}

TEST(OptimizerTest, ScheduleFollowsAppliedSteps) {
  torch::Tensor w = torch::ones({1}).requires_grad_(true);
  OptimizerOptions o = plain(1.0, 0);
  o.schedule.warmup_steps = 2;
  Optimizer opt({w}, o);
  w.sum().backward();
  EXPECT_DOUBLE_EQ(opt.step().lr, 0.0);
  w.sum().backward();
  EXPECT_DOUBLE_EQ(opt.step().lr, 0.5);
  w.sum().backward();
  EXPECT_DOUBLE_EQ(opt.step().lr, 1.0);
}

}  // namespace
}  // namespace grpo::learner
