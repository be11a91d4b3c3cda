// The GRPO loss against TRL's own GRPOTrainer._compute_loss (TRL 1.16): for
// every option TRL has, the same inputs give the same loss and the same
// gradients (1e-5). trl_loss_reference.py runs TRL and writes the cases.
#include <cmath>
#include <fstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "learner/grpo_loss.h"
#include "tests/support/test_env.h"

namespace grpo::learner {
namespace {

using nlohmann::json;

torch::Tensor tensor_of(const json& values, int64_t b, int64_t t) {
  std::vector<double> v = values.get<std::vector<double>>();
  return torch::tensor(v, torch::kFloat64).reshape({b, t});
}

// TRL's options of one case, translated to ours.
LossOptions options_of(const json& c) {
  LossOptions o;
  o.loss_type = c["loss_type"];
  o.epsilon_low = 0.2;
  o.epsilon_high = c.value("epsilon_high", 0.2);
  if (c.contains("delta")) o.delta = c["delta"].get<double>();
  o.importance_sampling_level = c.value("importance_sampling_level", "token");
  o.beta = c.value("beta", 0.0);
  o.kl_ratio_correction = c.value("use_bias_correction_kl", true);
  o.top_entropy_quantile = c.value("top_entropy_quantile", 1.0);
  o.entropy_coef = c.value("entropy_coef", 0.0);
  if (c.contains("off_policy_mask_threshold")) o.off_policy_mask_threshold = c["off_policy_mask_threshold"].get<double>();
  if (c.contains("is_mode")) {
    o.is_correction = c["is_mode"];
    o.is_clip_min = c.contains("is_min") ? std::optional<double>(c["is_min"].get<double>()) : std::nullopt;
    o.is_clip_max = c.contains("is_max") ? std::optional<double>(c["is_max"].get<double>()) : std::nullopt;
  }
  return o;
}

class GrpoLossTrlTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    testing::TempDir dir;
    const std::string out = dir.file("trl_cases.json");
    auto r = testing::run_command(testing::reference_python() + " " + testing::source_dir() +
                                  "/tests/learner/trl_loss_reference.py " + out);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    cases_ = new json(json::parse(testing::read_file(out)));
  }
  static void TearDownTestSuite() { delete cases_; }
  static json* cases_;
};
json* GrpoLossTrlTest::cases_ = nullptr;

TEST_F(GrpoLossTrlTest, SameLossAndGradientsForEveryTrlOption) {
  ASSERT_NE(cases_, nullptr);
  ASSERT_GE(cases_->size(), 20u);
  for (const json& c : *cases_) {
    const json& opt = c["case"];
    const std::string name = opt["name"];
    SCOPED_TRACE(name);
    const int64_t b = c["B"], t = c["T"];
    LossInputs in;
    torch::Tensor lp = tensor_of(c["logprobs"], b, t).requires_grad_(true);
    torch::Tensor ent = tensor_of(c["entropies"], b, t).requires_grad_(true);
    in.logprobs = lp;
    in.entropies = ent;
    if (!opt.value("on_policy", false)) in.old_logprobs = tensor_of(c["old"], b, t);
    in.ref_logprobs = tensor_of(c["ref"], b, t);
    if (opt.contains("is_mode") || opt.contains("off_policy_mask_threshold")) in.rollout_logprobs = tensor_of(c["sampling"], b, t);
    in.advantages = torch::tensor(c["advantages"].get<std::vector<double>>(), torch::kFloat64);
    in.mask = tensor_of(c["mask"], b, t);
    // TRL's micro-batch is one of GA equal ones (grpo/bnpo/dr_grpo divide by GA).
    const int64_t ga = opt.value("ga", 1);
    StepNormaliser norm = StepNormaliser::single(in.mask, opt.value("max_completion_length", t));
    norm.micro_batches = ga;
    norm.step_sequences = static_cast<double>(b * ga);
    LossOutput out = grpo_loss(in, options_of(opt), norm);
    out.loss.backward();
    EXPECT_NEAR(out.loss.item<double>(), c["loss"].get<double>(), 1e-5);
    torch::Tensor want = tensor_of(c["grad_logprobs"], b, t);
    EXPECT_LT((lp.grad() - want).abs().max().item<double>(), 1e-5) << "max |d loss/d logprobs - TRL's|";
    if (!c["grad_entropies"].is_null()) {
      ASSERT_TRUE(ent.grad().defined());
      torch::Tensor want_e = tensor_of(c["grad_entropies"], b, t);
      EXPECT_LT((ent.grad() - want_e).abs().max().item<double>(), 1e-5) << "max |d loss/d entropies - TRL's|";
    }
  }
}

}  // namespace
}  // namespace grpo::learner
