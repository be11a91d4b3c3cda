// The GRPO training step on a real (tiny) policies::CausalLM: the learning
// test (GRPO raises the reward of a toy task well above its start, for the
// grpo and dapo losses) and the non-finite guard of a whole step.
#include "learner/grpo_trainer.h"

#include <gtest/gtest.h>

#include "learner/advantages.h"
#include "tests/learner/tiny_policy_config.h"

namespace grpo::learner {
namespace {

// Toy task: after the prompt, produce the pattern 3 5 3 5. Reward = fraction
// of positions that match; a random policy over 8 tokens scores ~1/8.
const std::vector<int64_t> kPattern = {3, 5, 3, 5};
constexpr int64_t kPatternVocab = 8;

policies::ModelConfig pattern_policy_config() { return testing::tiny_qwen2_config(kPatternVocab, "tiny learning-test config"); }

// Samples `n` completions of the pattern's length from the model after `prompt`
// (plain multinomial over softmax(logits), temperature 1).
torch::Tensor sample(policies::CausalLM& model, const std::vector<int64_t>& prompt, int64_t n) {
  torch::NoGradGuard no_grad;
  torch::Tensor seqs = torch::tensor(prompt, torch::kLong).unsqueeze(0).repeat({n, 1});
  for (size_t k = 0; k < kPattern.size(); ++k) {
    const int64_t t = seqs.size(1);
    torch::Tensor positions = torch::arange(t, torch::kLong).unsqueeze(0).repeat({n, 1});
    torch::Tensor logits = model.forward(seqs, positions).select(1, t - 1);  // [n, V]
    torch::Tensor next = torch::multinomial(torch::softmax(logits, -1), 1);
    seqs = torch::cat({seqs, next}, 1);
  }
  return seqs;
}

double reward_of(const torch::Tensor& seq, int64_t prompt_len) {
  double hits = 0;
  for (size_t k = 0; k < kPattern.size(); ++k) hits += seq[prompt_len + static_cast<int64_t>(k)].item<int64_t>() == kPattern[k];
  return hits / static_cast<double>(kPattern.size());
}

// One generation: `prompts` groups of G completions, scored, with advantages.
std::vector<TrainSequence> generate(policies::CausalLM& model, int64_t prompts, int64_t group, double* mean_reward) {
  std::vector<TrainSequence> batch;
  std::vector<double> rewards;
  for (int64_t p = 0; p < prompts; ++p) {
    const std::vector<int64_t> prompt = {1, 6 + p % 2};  // prompt tokens outside the pattern
    torch::Tensor seqs = sample(model, prompt, group);
    for (int64_t g = 0; g < group; ++g) {
      TrainSequence s;
      auto row = seqs[g].contiguous();
      s.tokens.assign(row.data_ptr<int64_t>(), row.data_ptr<int64_t>() + row.numel());
      s.prompt_len = static_cast<int64_t>(prompt.size());
      rewards.push_back(reward_of(seqs[g], s.prompt_len));
      batch.push_back(std::move(s));
    }
  }
  auto adv = compute_advantages(rewards, group, {});
  double sum = 0;
  for (size_t i = 0; i < batch.size(); ++i) {
    batch[i].advantage = adv.values[i];
    sum += rewards[i];
  }
  *mean_reward = sum / static_cast<double>(rewards.size());
  return batch;
}

struct LearningRun {
  double first = 0;
  double last = 0;  // mean of the last three generations
};

LearningRun learn(LearnerConfig cfg, int generations) {
  torch::manual_seed(1234);
  auto model = policies::CausalLM::create(pattern_policy_config(), /*seed=*/7);
  GrpoTrainer trainer(TrainablePolicy::from_causal_lm(model, /*temperature=*/1.0), cfg, /*pad_id=*/0,
                      /*max_completion_length=*/static_cast<int64_t>(kPattern.size()));
  LearningRun run;
  std::vector<double> means;
  for (int g = 0; g < generations; ++g) {
    double mean = 0;
    auto batch = generate(*model, /*prompts=*/4, /*group=*/8, &mean);
    means.push_back(mean);
    for (const auto& m : trainer.train_on_generation(batch)) {
      EXPECT_EQ(m.values.at("step_applied"), 1.0);
      EXPECT_GT(m.values.at("micro_batches"), 1.0);  // the token budget splits the step
    }
  }
  run.first = means.front();
  run.last = (means[means.size() - 1] + means[means.size() - 2] + means[means.size() - 3]) / 3.0;
  return run;
}

LearnerConfig toy_config(const std::string& loss_type) {
  LearnerConfig c;
  c.loss_type = loss_type;
  c.lr = 2e-2;
  c.max_grad_norm = 1.0;
  c.micro_batch_tokens = 64;  // 32 sequences of 5 positions: 3 micro-batches per step
  return c;
}

TEST(GrpoTrainerTest, GrpoLossLearnsTheTargetPattern) {
  LearnerConfig c = toy_config("grpo");
  c.lr = 5e-3;  // 2e-2 collapses onto "3 3 3 3" (reward 0.5, all groups zero-std)
  LearningRun run = learn(c, 60);
  EXPECT_LT(run.first, 0.3);
  EXPECT_GT(run.last, 0.7) << "start " << run.first;
}

TEST(GrpoTrainerTest, DapoLossWithIterationsMiniBatchesAndReferenceLearns) {
  LearnerConfig c = toy_config("dapo");
  c.epsilon_high = 0.28;
  c.num_iterations = 2;        // old log-probs recomputed by the learner
  c.steps_per_generation = 2;  // two optimizer steps per generation
  c.beta = 0.001;              // reference model held and scored
  // toy_config's 2e-2 oscillates here (last-three mean 0.31-0.96 over 15-30
  // generations, 0.62 at 15 on LibTorch 1.13); 1e-2 reaches 0.95-1.0 on both.
  c.lr = 1e-2;
  LearningRun run = learn(c, 15);
  EXPECT_LT(run.first, 0.3);
  EXPECT_GT(run.last, 0.7) << "start " << run.first;
}

TEST(GrpoTrainerTest, NonFiniteStepIsSkippedAndNothingChanges) {
  torch::manual_seed(5);
  auto model = policies::CausalLM::create(pattern_policy_config(), 3);
  GrpoTrainer trainer(TrainablePolicy::from_causal_lm(model, 1.0), toy_config("dapo"), 0, 4);
  double mean = 0;
  auto batch = generate(*model, 2, 4, &mean);
  batch[3].advantage = std::numeric_limits<double>::quiet_NaN();
  std::vector<torch::Tensor> before;
  for (const auto& p : model->parameters()) before.push_back(p.detach().clone());
  auto metrics = trainer.train_on_generation(batch);
  ASSERT_EQ(metrics.size(), 1u);
  EXPECT_EQ(metrics[0].values.at("step_applied"), 0.0);
  EXPECT_EQ(metrics[0].values.at("steps_skipped"), 1.0);
  auto after = model->parameters();
  for (size_t i = 0; i < before.size(); ++i) EXPECT_TRUE(torch::equal(before[i], after[i]));
}

TEST(GrpoTrainerTest, GradientCheckpointingTakesTheSameStep) {
  torch::manual_seed(9);
  auto sampler = policies::CausalLM::create(pattern_policy_config(), 3);
  double mean = 0;
  auto batch = generate(*sampler, 2, 4, &mean);
  LearnerConfig c = toy_config("dapo");
  c.adam_eps = 1.0;  // update ~ lr*g/(|g|+1): continuous in g, so float-level gradient noise cannot flip a sign
  std::vector<StepMetrics> steps;
  std::vector<std::vector<torch::Tensor>> params;
  for (bool checkpointing : {false, true}) {
    c.gradient_checkpointing = checkpointing;
    auto model = policies::CausalLM::create(pattern_policy_config(), 3);
    GrpoTrainer trainer(TrainablePolicy::from_causal_lm(model, 1.0, c), c, 0, 4);
    EXPECT_EQ(model->gradient_checkpointing(), checkpointing) << "learner.gradient_checkpointing reaches the policy";
    steps.push_back(trainer.train_on_generation(batch).at(0));
    params.push_back(model->parameters());
  }
  EXPECT_EQ(steps[1].values.at("step_applied"), 1.0);
  EXPECT_NEAR(steps[1].values.at("loss"), steps[0].values.at("loss"), 1e-6);
  EXPECT_NEAR(steps[1].values.at("grad_norm"), steps[0].values.at("grad_norm"), 1e-6 * steps[0].values.at("grad_norm"));
  for (size_t i = 0; i < params[0].size(); ++i) EXPECT_TRUE(torch::allclose(params[1][i], params[0][i], 0, 1e-7)) << "parameter " << i;
}

}  // namespace
}  // namespace grpo::learner
