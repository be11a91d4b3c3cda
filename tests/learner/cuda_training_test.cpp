// Training steps on a CUDA GPU: a float32 GRPO step reports the loss and
// gradient norm of the same step on the CPU, and a bfloat16 step keeps its
// float32 masters and AdamW moments on the GPU with the compute weights equal
// to the rounded masters. Skipped where no CUDA device is present.
#include <gtest/gtest.h>

#include "learner/grpo_trainer.h"
#include "policies/placement.h"
#include "tests/learner/tiny_policy_config.h"

namespace grpo::learner {
namespace {

constexpr const char* kNoCuda = "no CUDA device: runs on a GPU machine (scripts/gpu-check.sh)";

std::vector<TrainSequence> cuda_batch() {
  TrainSequence a, b;
  a.tokens = {1, 7, 8, 9, 3, 4, 5, 2};
  a.prompt_len = 4;
  a.advantage = 1.0;
  a.rollout_logprobs = {-2.0f, -2.5f, -1.5f, -3.0f};
  b.tokens = {1, 10, 6, 6, 2};
  b.prompt_len = 2;
  b.advantage = -1.0;
  b.rollout_logprobs = {-2.0f, -2.0f, -2.0f};
  return {a, b};
}

LearnerConfig cuda_config() {
  LearnerConfig cfg;
  cfg.lr = 1e-3;
  cfg.beta = 0.04;           // a reference model on the device too
  cfg.num_iterations = 2;    // old log-probs recomputed on the device
  cfg.micro_batch_tokens = 8;
  return cfg;
}

TEST(CudaTrainingTest, Float32GrpoStepMatchesTheCpuStep) {
  if (!torch::cuda::is_available()) GTEST_SKIP() << kNoCuda;
  auto cpu = policies::CausalLM::create(testing::tiny_qwen2_config(16, "cuda training test"), /*seed=*/7);
  auto cuda = cpu->clone_model();
  policies::place_model(*cuda, torch::Device(torch::kCUDA, 0), torch::kFloat);
  GrpoTrainer on_cpu(TrainablePolicy::from_causal_lm(cpu, 1.0), cuda_config());
  GrpoTrainer on_cuda(TrainablePolicy::from_causal_lm(cuda, 1.0), cuda_config());
  auto a = on_cpu.train_on_generation(cuda_batch());
  auto b = on_cuda.train_on_generation(cuda_batch());
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) {
    for (const char* key : {"loss", "grad_norm", "kl", "entropy"})
      EXPECT_NEAR(a[i].values.at(key), b[i].values.at(key), 1e-4 * (1 + std::abs(a[i].values.at(key)))) << key << " step " << i;
  }
  EXPECT_TRUE(cuda->parameters().front().is_cuda());
}

TEST(CudaTrainingTest, Bfloat16MastersLiveOnTheGpu) {
  if (!torch::cuda::is_available()) GTEST_SKIP() << kNoCuda;
  auto model = policies::CausalLM::create(testing::tiny_qwen2_config(16, "cuda training test"), /*seed=*/8);
  policies::place_model(*model, torch::Device(torch::kCUDA, 0), torch::kBFloat16);
  GrpoTrainer trainer(TrainablePolicy::from_causal_lm(model, 1.0), cuda_config());
  for (const auto& m : trainer.train_on_generation(cuda_batch())) EXPECT_EQ(m.values.at("step_applied"), 1.0);
  const auto& masters = trainer.optimizer().master_weights();
  auto params = model->parameters();
  for (size_t i = 0; i < params.size(); ++i) {
    EXPECT_TRUE(masters[i].is_cuda());
    EXPECT_EQ(masters[i].scalar_type(), torch::kFloat);
    EXPECT_TRUE(torch::equal(params[i], masters[i].to(torch::kBFloat16))) << i;
  }
  for (const auto& s : trainer.optimizer().adam_moments()) {
    EXPECT_TRUE(s.is_cuda());
    EXPECT_EQ(s.scalar_type(), torch::kFloat);
  }
}

}  // namespace
}  // namespace grpo::learner
