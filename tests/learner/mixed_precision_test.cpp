// Mixed precision (model.dtype = bfloat16, optimizer.h): bf16 compute weights
// with float32 masters and AdamW state. The masters and moments stay float32,
// the compute weights equal their rounded masters after every step, gradients
// of micro-batches sum in float32, a bf16 step moves the weights like the
// float32 step does (tolerances below), and a checkpoint brings the masters back.
#include <gtest/gtest.h>

#include <cmath>

#include "core/error.h"
#include "learner/grpo_trainer.h"
#include "learner/optimizer.h"
#include "learner/sft_trainer.h"
#include "policies/placement.h"
#include "tests/learner/tiny_policy_config.h"

namespace grpo::learner {
namespace {

constexpr int64_t kMixedVocab = 16;

std::shared_ptr<policies::CausalLM> tiny_model(uint64_t seed, torch::ScalarType dtype) {
  auto model = policies::CausalLM::create(testing::tiny_qwen2_config(kMixedVocab, "tiny mixed-precision config"), seed);
  policies::place_model(*model, torch::kCPU, dtype);
  return model;
}

// Prompt/completion pairs with advantages (for GRPO) and two lengths (padding).
std::vector<TrainSequence> mixed_batch() {
  TrainSequence a, b, c;
  a.tokens = {1, 7, 8, 9, 3, 4, 5, 2};
  a.prompt_len = 4;
  a.advantage = 1.0;
  b.tokens = {1, 10, 6, 6, 2};
  b.prompt_len = 2;
  b.advantage = -1.0;
  c.tokens = {1, 11, 12, 4, 4, 4, 2};
  c.prompt_len = 3;
  c.advantage = 0.5;
  return {a, b, c};
}

std::vector<torch::Tensor> float32_copies(const std::vector<torch::Tensor>& tensors) {
  std::vector<torch::Tensor> out;
  for (const auto& t : tensors) out.push_back(t.detach().to(torch::kFloat).clone());
  return out;
}

// The invariants after each step: masters and moments float32, parameters
// bf16 and bit-equal to their rounded masters.
void expect_masters_consistent(const Optimizer& opt, const std::vector<torch::Tensor>& params) {
  ASSERT_TRUE(opt.has_masters());
  ASSERT_EQ(opt.master_weights().size(), params.size());
  for (size_t i = 0; i < params.size(); ++i) {
    const torch::Tensor& m = opt.master_weights()[i];
    EXPECT_EQ(m.scalar_type(), torch::kFloat) << i;
    EXPECT_EQ(params[i].scalar_type(), torch::kBFloat16) << i;
    EXPECT_TRUE(torch::equal(params[i], m.to(torch::kBFloat16))) << "parameter " << i << " is not its rounded master";
  }
  auto moments = opt.adam_moments();
  EXPECT_EQ(moments.size(), 2 * params.size());
  for (const auto& s : moments) EXPECT_EQ(s.scalar_type(), torch::kFloat);
}

TEST(MixedPrecisionTest, Float32ParametersHaveNoMasters) {
  auto model = tiny_model(1, torch::kFloat);
  Optimizer opt(model->parameters(), OptimizerOptions{});
  EXPECT_FALSE(opt.has_masters());
  auto params = model->parameters();
  for (size_t i = 0; i < params.size(); ++i) EXPECT_TRUE(opt.master_weights()[i].is_same(params[i]));
}

TEST(MixedPrecisionTest, GrpoStepsKeepFloat32MastersAndRoundedComputeWeights) {
  auto model = tiny_model(2, torch::kBFloat16);
  LearnerConfig cfg;
  cfg.lr = 1e-2;
  cfg.num_iterations = 2;     // two optimizer steps on the batch
  cfg.micro_batch_tokens = 8; // one sequence per micro-batch: accumulation across micro-batches
  GrpoTrainer trainer(TrainablePolicy::from_causal_lm(model, 1.0), cfg);
  auto before = float32_copies(trainer.optimizer().master_weights());
  auto metrics = trainer.train_on_generation(mixed_batch());
  ASSERT_EQ(metrics.size(), 2u);
  for (const auto& m : metrics) {
    EXPECT_EQ(m.values.at("step_applied"), 1.0);
    EXPECT_GT(m.values.at("micro_batches"), 1.0);
  }
  expect_masters_consistent(trainer.optimizer(), model->parameters());
  double moved = 0;
  for (size_t i = 0; i < before.size(); ++i) moved += (trainer.optimizer().master_weights()[i] - before[i]).abs().sum().item<double>();
  EXPECT_GT(moved, 0.0);
}

// One SFT step from the same (bf16-representable) weights in float32 and in
// bf16: the updates agree. Adam's first update is about lr * sign(g), so a
// gradient element that rounding flips moves the other way; tolerance: the
// update vectors have cosine >= 0.99 and the losses agree within 1e-2
// relative (bf16 has 8 significant bits, 2^-8 = 0.4%).
TEST(MixedPrecisionTest, Bf16StepUpdatesLikeTheFloat32Step) {
  auto m16 = tiny_model(3, torch::kBFloat16);
  auto m32 = m16->clone_model();
  policies::place_model(*m32, torch::kCPU, torch::kFloat);  // the same values, exactly, in float32
  LearnerConfig cfg;
  cfg.lr = 1e-3;
  SftTrainer t16(TrainablePolicy::from_causal_lm(m16, 1.0), cfg);
  SftTrainer t32(TrainablePolicy::from_causal_lm(m32, 1.0), cfg);
  auto start = float32_copies(m32->parameters());
  StepMetrics s16 = t16.step(mixed_batch());
  StepMetrics s32 = t32.step(mixed_batch());
  EXPECT_NEAR(s16.values.at("loss"), s32.values.at("loss"), 1e-2 * std::abs(s32.values.at("loss")));
  double dot = 0, n16 = 0, n32 = 0;
  auto p32 = m32->parameters();
  for (size_t i = 0; i < start.size(); ++i) {
    torch::Tensor d16 = (t16.optimizer().master_weights()[i] - start[i]).to(torch::kDouble);
    torch::Tensor d32 = (p32[i].detach() - start[i]).to(torch::kDouble);
    dot += (d16 * d32).sum().item<double>();
    n16 += d16.pow(2).sum().item<double>();
    n32 += d32.pow(2).sum().item<double>();
  }
  const double cosine = dot / std::sqrt(n16 * n32);
  RecordProperty("update_cosine", std::to_string(cosine));
  RecordProperty("update_norm_ratio", std::to_string(std::sqrt(n16 / n32)));
  EXPECT_GE(cosine, 0.99) << "update cosine " << cosine;
  EXPECT_NEAR(std::sqrt(n16 / n32), 1.0, 0.02);
}

TEST(MixedPrecisionTest, MicroBatchGradientsSumInFloat32) {
  // 1 + 2^-9 is not a bf16 number (8 significant bits): summed in bf16 the
  // second micro-batch's gradient would vanish; in the float32 master it stays.
  torch::Tensor w = torch::ones({3}, torch::kBFloat16).requires_grad_(true);
  Optimizer opt({w}, OptimizerOptions{});
  (w * 1.0).sum().backward();
  opt.accumulate_gradients();
  EXPECT_FALSE(w.grad().defined());
  (w * std::ldexp(1.0, -9)).sum().backward();
  opt.accumulate_gradients();
  torch::Tensor g = opt.master_weights()[0].grad();
  EXPECT_EQ(g.scalar_type(), torch::kFloat);
  EXPECT_TRUE(torch::equal(g, torch::full({3}, 1.0 + std::ldexp(1.0, -9))));
}

TEST(MixedPrecisionTest, Float16WeightsAreRefusedNamingModelDtype) {
  torch::Tensor w = torch::ones({3}, torch::kHalf).requires_grad_(true);
  try {
    Optimizer opt({w}, OptimizerOptions{});
    FAIL() << "float16 accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("model.dtype"), std::string::npos) << e.what();
  }
}

// A checkpoint stores the masters: a resumed run continues from them, not
// from the rounded weights of the saved policy.
TEST(MixedPrecisionTest, CheckpointRestoresTheMasters) {
  auto model = tiny_model(4, torch::kBFloat16);
  LearnerConfig cfg;
  cfg.lr = 1e-2;
  SftTrainer trainer(TrainablePolicy::from_causal_lm(model, 1.0), cfg);
  trainer.step(mixed_batch());
  torch::serialize::OutputArchive out;
  trainer.optimizer().save(out);
  std::ostringstream bytes;
  out.save_to(bytes);

  auto resumed = model->clone_model();  // what loading the saved (rounded) policy gives
  Optimizer opt(resumed->parameters(), OptimizerOptions::from_config(cfg));
  torch::serialize::InputArchive in;
  std::istringstream read(bytes.str());
  in.load_from(read);
  opt.load(in);
  const auto& saved = trainer.optimizer().master_weights();
  bool some_master_not_bf16 = false;
  for (size_t i = 0; i < saved.size(); ++i) {
    EXPECT_TRUE(torch::equal(opt.master_weights()[i], saved[i])) << i;
    some_master_not_bf16 = some_master_not_bf16 || !torch::equal(saved[i], saved[i].to(torch::kBFloat16).to(torch::kFloat));
  }
  EXPECT_TRUE(some_master_not_bf16) << "the test needs masters that rounding would change";
  expect_masters_consistent(opt, resumed->parameters());
}

}  // namespace
}  // namespace grpo::learner
