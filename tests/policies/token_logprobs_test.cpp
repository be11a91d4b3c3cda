// Training path: chunked token log-probs / entropies equal a naive full
// log-softmax (values and gradients), also when a score mask narrows the
// scored positions; padding (left or right) does not change
// the rows; MTP runs and gives a loss.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <string>

#include "core/error.h"
#include "policies/causal_lm.h"
#include "tests/policies/test_models.h"

namespace grpo::policies {
namespace {

// Random input ids, random target ids and an all-ones attention mask of [rows, len].
struct ScoringBatch {
  torch::Tensor tokens, targets, mask;
};
ScoringBatch random_scoring_batch(const ModelConfig& c, int64_t rows, int64_t len) {
  torch::Tensor tokens = torch::randint(0, c.vocab_size, {rows, len}, torch::kLong);
  torch::Tensor targets = torch::randint(0, c.vocab_size, {rows, len}, torch::kLong);
  return {tokens, targets, torch::ones({rows, len}, torch::kLong)};
}

TEST(TokenLogprobs, ChunkedEqualsNaiveIncludingGradients) {
  ModelConfig c = testing::tiny_qwen2();
  auto model = CausalLM::create(c, 1);
  auto [tokens, targets, mask] = random_scoring_batch(c, 3, 7);
  const double temp = 0.7;
  TokenScores s = model->token_scores(tokens, targets, mask, temp, /*chunk=*/4, true);
  (s.logprobs.sum() + 0.5 * s.entropies.sum()).backward();
  std::map<std::string, torch::Tensor> chunked_grads;
  for (auto& [n, p] : testing::items(model->named_parameters())) chunked_grads[n] = p.grad().clone();
  model->zero_grad();

  torch::Tensor logp_all = (model->forward(tokens, {}) / temp).log_softmax(-1);
  torch::Tensor naive = logp_all.gather(-1, targets.unsqueeze(-1)).squeeze(-1);
  torch::Tensor naive_ent = -(logp_all.exp() * logp_all).sum(-1);
  EXPECT_LE((s.logprobs - naive).abs().max().item<double>(), 1e-5);
  EXPECT_LE((s.entropies - naive_ent).abs().max().item<double>(), 1e-5);
  (naive.sum() + 0.5 * naive_ent.sum()).backward();
  for (auto& [n, p] : testing::items(model->named_parameters()))
    EXPECT_LE((p.grad() - chunked_grads[n]).abs().max().item<double>(), 1e-5) << n;
}

TEST(TokenLogprobs, ScoreMaskScoresOnlyItsPositionsWithNaiveValuesAndGradients) {
  torch::manual_seed(4);
  ModelConfig c = testing::tiny_qwen2();
  auto model = CausalLM::create(c, 2);
  auto [tokens, targets, mask] = random_scoring_batch(c, 3, 7);
  torch::Tensor score_mask = torch::zeros({3, 7});
  score_mask.narrow(1, 3, 4).fill_(1.0);  // "completion" positions 3..6
  score_mask[1][5] = 0.0;
  torch::Tensor w = torch::linspace(-1.0, 2.0, 21).view({3, 7});
  // temperature 1 (the logits are not divided) and one chunk boundary inside the scored rows
  TokenScores s = model->token_scores(tokens, targets, mask, 1.0, /*chunk=*/5, true, score_mask);
  EXPECT_EQ(s.logprobs.masked_select(score_mask == 0).abs().sum().item<double>(), 0.0);
  ((s.logprobs * w).sum() + 0.5 * s.entropies.sum()).backward();
  std::map<std::string, torch::Tensor> masked_grads;
  for (auto& [n, p] : testing::items(model->named_parameters())) masked_grads[n] = p.grad().clone();
  model->zero_grad();

  torch::Tensor logp_all = model->forward(tokens, {}).log_softmax(-1);
  torch::Tensor naive = logp_all.gather(-1, targets.unsqueeze(-1)).squeeze(-1) * score_mask;
  torch::Tensor naive_ent = -(logp_all.exp() * logp_all).sum(-1) * score_mask;
  EXPECT_LE((s.logprobs - naive).abs().max().item<double>(), 1e-5);
  EXPECT_LE((s.entropies - naive_ent).abs().max().item<double>(), 1e-5);
  ((naive * w).sum() + 0.5 * naive_ent.sum()).backward();
  for (auto& [n, p] : testing::items(model->named_parameters())) {
    const double scale = std::max(1.0, p.grad().abs().max().item<double>());  // fp32 relative error
    EXPECT_LE((p.grad() - masked_grads[n]).abs().max().item<double>(), 1e-5 * scale) << n;
  }
}

// Values and parameter gradients of sum(weights * log-probs + 0.5 * entropies) at the positions of `scored`,
// scored through score_mask (the last layer then runs only from the first scored column on) or
// over every position with the others weighted 0 (the whole last layer).
struct ScoredRun {
  torch::Tensor logprobs, entropies;
  std::map<std::string, torch::Tensor> grads;
};
ScoredRun scored_run(CausalLM& model, const ScoringBatch& b, const torch::Tensor& scored, const torch::Tensor& weights,
                     bool through_score_mask) {
  for (auto& p : model.parameters()) p.mutable_grad() = torch::Tensor();
  TokenScores s = through_score_mask ? model.token_scores(b.tokens, b.targets, b.mask, 1.0, 64, true, scored)
                                     : model.token_scores(b.tokens, b.targets, b.mask, 1.0, 64, true);
  ScoredRun r{s.logprobs * scored, s.entropies * scored, {}};
  ((r.logprobs * weights).sum() + 0.5 * r.entropies.sum()).backward();
  for (auto& [n, p] : testing::items(model.named_parameters()))
    if (p.grad().defined()) r.grads[n] = p.grad().clone();
  return r;
}

TEST(TokenLogprobs, ScoreMaskNarrowsTheLastLayerToTheScoredColumnsWithTheSameResults) {
  // With a score mask whose first scored column is 3, the last (GQA, dense) layer computes queries,
  // attention output and MLP from column 3 on only; the scored positions' values and every gradient
  // are those of the whole layer: no padding (causal attention), right and left padding (the padding
  // mask's rows), and with gradient checkpointing (the narrowed layer recomputed in backward).
  torch::manual_seed(7);
  ModelConfig c = testing::tiny_qwen2();
  auto model = CausalLM::create(c, 3);
  ScoringBatch b = random_scoring_batch(c, 3, 9);
  torch::Tensor scored = torch::zeros({3, 9});
  scored.narrow(1, 4, 5).fill_(1.0);
  scored[1][3] = 1.0;  // the first scored column
  scored[2][8] = 0.0;
  torch::Tensor weights = torch::linspace(-1.0, 2.0, 27).view({3, 9});
  for (const char* layout : {"unpadded", "right", "left"}) {
    b.mask = torch::ones({3, 9}, torch::kLong);
    if (std::string(layout) == "right") b.mask[2].narrow(0, 7, 2).fill_(0);
    if (std::string(layout) == "left") b.mask[0].narrow(0, 0, 2).fill_(0);
    torch::Tensor real_scored = scored * b.mask;
    for (bool checkpointing : {false, true}) {
      model->set_gradient_checkpointing(checkpointing);
      ScoredRun narrowed = scored_run(*model, b, real_scored, weights, true);
      ScoredRun whole = scored_run(*model, b, real_scored, weights, false);
      const std::string what = std::string(layout) + (checkpointing ? ", checkpointed" : "");
      EXPECT_LE(testing::max_abs_diff(narrowed.logprobs, whole.logprobs), 1e-6) << what;
      EXPECT_LE(testing::max_abs_diff(narrowed.entropies, whole.entropies), 1e-6) << what;
      ASSERT_EQ(narrowed.grads.size(), whole.grads.size()) << what;
      for (const auto& [n, g] : whole.grads) {
        const double scale = std::max(1.0, g.abs().max().item<double>());
        EXPECT_LE(testing::max_abs_diff(narrowed.grads[n], g), 1e-6 * scale) << n << ", " << what;
      }
    }
  }
  model->set_gradient_checkpointing(false);
}

TEST(TokenLogprobs, SecondBackwardThroughTheSameGraphGivesTheSameGradients) {
  // The first chunk's log-softmax is kept from the forward and consumed (turned into dz in place) by
  // the first backward; a second backward (retain_graph) recomputes it and must give the same
  // gradients. One chunk (all rows kept) and several chunks (the first kept, the rest recomputed).
  ModelConfig c = testing::tiny_qwen2();
  auto model = CausalLM::create(c, 6);
  auto [tokens, targets, mask] = random_scoring_batch(c, 2, 6);
  torch::Tensor w = torch::linspace(-1.0, 1.5, 12).view({2, 6});
  for (int64_t chunk : {64, 5}) {
    model->zero_grad();
    TokenScores s = model->token_scores(tokens, targets, mask, 0.9, chunk, true);
    torch::Tensor loss = (s.logprobs * w).sum() + 0.3 * s.entropies.sum();
    loss.backward({}, /*retain_graph=*/true);
    std::map<std::string, torch::Tensor> first;
    for (auto& [n, p] : testing::items(model->named_parameters())) first[n] = p.grad().clone();
    model->zero_grad();
    loss.backward();
    for (auto& [n, p] : testing::items(model->named_parameters()))
      EXPECT_LE((p.grad() - first[n]).abs().max().item<double>(), 1e-6) << n << " chunk " << chunk;
  }
}

TEST(TokenLogprobs, LeftAndRightPaddingGiveTheUnpaddedRows) {
  for (ModelConfig c : {testing::tiny_deepseek(), testing::tiny_qwen2()}) {
    auto model = CausalLM::create(c, 9);
    model->eval();
    torch::NoGradGuard no_grad;
    torch::Tensor row = torch::randint(0, c.vocab_size, {1, 5}, torch::kLong);
    torch::Tensor tgt = torch::randint(0, c.vocab_size, {1, 5}, torch::kLong);
    torch::Tensor alone = model->token_logprobs(row, tgt, torch::ones({1, 5}, torch::kLong));
    torch::Tensor other = torch::randint(0, c.vocab_size, {1, 8}, torch::kLong);
    for (bool left : {true, false}) {
      torch::Tensor tokens = torch::zeros({2, 8}, torch::kLong), targets = torch::zeros({2, 8}, torch::kLong);
      torch::Tensor mask = torch::zeros({2, 8}, torch::kLong);
      tokens[0].copy_(other[0]);
      mask[0].fill_(1);
      int64_t off = left ? 3 : 0;
      tokens[1].narrow(0, off, 5).copy_(row[0]);
      targets[1].narrow(0, off, 5).copy_(tgt[0]);
      mask[1].narrow(0, off, 5).fill_(1);
      torch::Tensor lp = model->token_logprobs(tokens, targets, mask);
      EXPECT_LE((lp[1].narrow(0, off, 5) - alone[0]).abs().max().item<double>(), 1e-5) << c.model_type << (left ? " left" : " right");
      EXPECT_EQ(lp[1].narrow(0, left ? 0 : 5, 3).abs().sum().item<double>(), 0.0) << "padding scores are 0";
      torch::Tensor logits = model->forward(tokens, positions_from_mask(mask), nullptr, mask);
      torch::Tensor ref = model->forward(row, {});
      EXPECT_LE((logits[1].narrow(0, off, 5) - ref[0]).abs().max().item<double>(), 1e-4);
    }
  }
}

TEST(TokenLogprobs, MtpModuleRunsAndGivesALoss) {
  ModelConfig c = testing::tiny_deepseek(true, /*mtp_layers=*/1);
  auto model = CausalLM::create(c, 2, /*with_mtp=*/true);
  ASSERT_TRUE(model->has_mtp());
  EXPECT_EQ(model->named_parameters().contains("model.layers.3.eh_proj.weight"), true);
  EXPECT_EQ(model->named_parameters().contains("model.layers.3.shared_head.head.weight"), true);
  torch::Tensor tokens = torch::randint(0, c.vocab_size, {2, 6}, torch::kLong);
  torch::Tensor mask = torch::ones({2, 6}, torch::kLong);
  torch::Tensor loss = model->mtp_loss(tokens, mask);
  EXPECT_GT(loss.item<double>(), 0.0);
  loss.backward();
  EXPECT_GT(model->named_parameters()["model.layers.3.eh_proj.weight"].grad().abs().sum().item<double>(), 0.0);
  auto plain = CausalLM::create(c, 2, false);
  EXPECT_FALSE(plain->has_mtp());
  EXPECT_THROW(plain->mtp_loss(tokens, mask), grpo::Error);
}

}  // namespace
}  // namespace grpo::policies
