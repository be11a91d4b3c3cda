// Supervised next-token training (sft_loss.h, sft_trainer.h): the loss is the
// mean NLL over target tokens, computed by hand from the model's own logits;
// prompt positions carry no loss and no gradient; and the loss falls when a
// tiny policies::CausalLM is trained on a small fixed corpus.
#include "learner/sft_trainer.h"

#include <gtest/gtest.h>

#include <cmath>

#include "core/error.h"
#include "learner/sft_loss.h"
#include "tests/learner/tiny_policy_config.h"

namespace grpo::learner {
namespace {

constexpr int64_t kSftVocab = 16;

policies::ModelConfig sft_policy_config() { return testing::tiny_qwen2_config(kSftVocab, "tiny sft-test config"); }

// Two prompt/completion pairs of different lengths (so one row is padded).
std::vector<TrainSequence> pairs() {
  TrainSequence a, b;
  a.tokens = {1, 7, 8, 9, 3, 4, 5, 2};  // prompt 1 7 8 9 | completion 3 4 5 2
  a.prompt_len = 4;
  b.tokens = {1, 10, 6, 6, 2};           // prompt 1 10 | completion 6 6 2
  b.prompt_len = 2;
  return {a, b};
}

TEST(SftLossTest, IsTheMeanNllOverMaskedTokensOfTheStep) {
  // Masked-out positions hold NaN and inf: they must not reach the loss.
  const float nan = std::nanf("");
  torch::Tensor lp = torch::tensor({{-1.0f, -2.0f, nan}, {-0.5f, -INFINITY, -3.0f}}).requires_grad_();
  torch::Tensor mask = torch::tensor({{1.0f, 1.0f, 0.0f}, {1.0f, 0.0f, 1.0f}});
  // The step has 8 target tokens in all (this micro-batch holds 4 of them).
  SftLossOutput out = sft_loss(lp, mask, /*step_tokens=*/8);
  EXPECT_DOUBLE_EQ(out.loss.item<double>(), (1.0 + 2.0 + 0.5 + 3.0) / 8);
  EXPECT_DOUBLE_EQ(out.nll_sum, 6.5);
  EXPECT_DOUBLE_EQ(out.tokens, 4);
  out.loss.backward();
  torch::Tensor expected = -mask / 8;
  EXPECT_TRUE(torch::equal(lp.grad(), expected)) << lp.grad();
}

TEST(SftLossTest, ShapeMismatchAndEmptyStepAreErrors) {
  EXPECT_THROW(sft_loss(torch::zeros({2, 3}), torch::ones({2, 4}), 1), Error);
  EXPECT_THROW(sft_loss(torch::zeros({2, 3}), torch::zeros({2, 3}), 0), Error);
}

TEST(SftTrainerTest, LossEqualsHandComputedMeanOverCompletionTokens) {
  auto model = policies::CausalLM::create(sft_policy_config(), /*seed=*/3);
  auto batch = pairs();
  // By hand: full-vocabulary log-softmax of the model's logits, the log-prob
  // of each completion token given everything before it, averaged over the 7.
  double nll = 0;
  int64_t n = 0;
  {
    torch::NoGradGuard no_grad;
    for (const auto& s : batch) {
      const auto len = static_cast<int64_t>(s.tokens.size());
      torch::Tensor tokens = torch::tensor(s.tokens, torch::kLong).unsqueeze(0);
      torch::Tensor logp = torch::log_softmax(model->forward(tokens, torch::arange(len).unsqueeze(0)), -1)[0];  // [L, V]
      for (int64_t t = s.prompt_len; t < len; ++t, ++n) nll -= logp[t - 1][s.tokens[static_cast<size_t>(t)]].item<double>();
    }
  }
  ASSERT_EQ(n, 7);
  LearnerConfig cfg;
  cfg.lr = 1e-3;
  SftTrainer trainer(TrainablePolicy::from_causal_lm(model, 1.0), cfg, /*pad_id=*/0);
  StepMetrics m = trainer.step(batch);
  EXPECT_NEAR(m.values.at("loss"), nll / 7, 1e-5);
  EXPECT_EQ(m.values.at("tokens/target"), 7);
}

TEST(SftTrainerTest, PromptTargetsCarryNoLossAndNoGradient) {
  auto model = policies::CausalLM::create(sft_policy_config(), /*seed=*/4);
  auto policy = TrainablePolicy::from_causal_lm(model, 1.0);
  auto batch = pairs();
  PackedBatch pk = pack_sequences(batch, {0, 1}, /*pad_id=*/0, false);
  // The mask covers exactly the 7 completion targets.
  EXPECT_EQ(pk.loss_mask.sum().item<double>(), 7);

  auto loss_and_grads = [&](const torch::Tensor& targets) {
    for (auto& p : model->parameters()) p.mutable_grad() = torch::Tensor();
    auto scores = policy.score(pk.inputs, targets, pk.attention_mask, pk.loss_mask, false);
    SftLossOutput out = sft_loss(scores.logprobs, pk.loss_mask, 7);
    out.loss.backward();
    std::vector<torch::Tensor> grads;
    for (auto& p : model->parameters()) grads.push_back(p.grad().defined() ? p.grad().clone() : torch::zeros_like(p));
    return std::make_pair(out.loss.item<double>(), grads);
  };
  auto [loss, grads] = loss_and_grads(pk.targets);
  // Change every target outside the completion (prompt and padding) to other tokens.
  torch::Tensor changed = torch::where(pk.loss_mask > 0, pk.targets, (pk.targets + 5) % kSftVocab);
  ASSERT_FALSE(torch::equal(changed, pk.targets));
  auto [loss2, grads2] = loss_and_grads(changed);
  EXPECT_EQ(loss, loss2);
  for (size_t i = 0; i < grads.size(); ++i) EXPECT_TRUE(torch::equal(grads[i], grads2[i])) << "parameter " << i;
  // Changing a completion target does change the loss (the check above can fail).
  torch::Tensor one_changed = pk.targets.clone();
  one_changed[0][4] = (one_changed[0][4] + 1) % kSftVocab;  // row 0, position 4 = its second completion target
  EXPECT_NE(loss_and_grads(one_changed).first, loss);
}

TEST(SftTrainerTest, LossFallsOnASmallCorpus) {
  torch::manual_seed(0);
  auto model = policies::CausalLM::create(sft_policy_config(), /*seed=*/5);
  // A small "corpus": four fixed sentences over the vocabulary, every token a target.
  std::vector<TrainSequence> corpus;
  for (int64_t k = 0; k < 4; ++k) {
    TrainSequence s;
    for (int64_t t = 0; t < 12; ++t) s.tokens.push_back((k * 3 + t * (k + 1)) % kSftVocab);
    s.prompt_len = 1;
    corpus.push_back(s);
  }
  LearnerConfig cfg;
  cfg.lr = 1e-2;
  cfg.micro_batch_tokens = 24;  // two sequences per micro-batch: accumulation is exercised
  SftTrainer trainer(TrainablePolicy::from_causal_lm(model, 1.0), cfg, 0);
  const double first = trainer.step(corpus).values.at("loss");
  double last = first;
  for (int i = 0; i < 60; ++i) last = trainer.step(corpus).values.at("loss");
  // Start near log(16) = 2.77 (a random model); memorising 44 targets takes it far lower.
  EXPECT_GT(first, 2.0);
  EXPECT_LT(last, 0.5 * first) << "first " << first << " last " << last;
}

TEST(SftTrainerTest, GradientCheckpointingTakesTheSameStep) {
  LearnerConfig cfg;
  cfg.lr = 1e-2;
  cfg.adam_eps = 1.0;  // update continuous in the gradient (see the GRPO trainer's test)
  std::vector<StepMetrics> steps;
  std::vector<std::vector<torch::Tensor>> params;
  for (bool checkpointing : {false, true}) {
    cfg.gradient_checkpointing = checkpointing;
    auto model = policies::CausalLM::create(sft_policy_config(), /*seed=*/4);
    SftTrainer trainer(TrainablePolicy::from_causal_lm(model, 1.0, cfg), cfg, 0);
    EXPECT_EQ(model->gradient_checkpointing(), checkpointing);
    steps.push_back(trainer.step(pairs()));
    params.push_back(model->parameters());
  }
  EXPECT_NEAR(steps[1].values.at("loss"), steps[0].values.at("loss"), 1e-6);
  EXPECT_NEAR(steps[1].values.at("grad_norm"), steps[0].values.at("grad_norm"), 1e-6 * steps[0].values.at("grad_norm"));
  for (size_t i = 0; i < params[0].size(); ++i) EXPECT_TRUE(torch::allclose(params[1][i], params[0][i], 0, 1e-7)) << "parameter " << i;
}

}  // namespace
}  // namespace grpo::learner
