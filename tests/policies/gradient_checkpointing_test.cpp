// Gradient checkpointing (CausalLM::set_gradient_checkpointing): the same
// log-probs, entropies, balance loss, parameter gradients and MoE expert loads
// as the model without it (fp32, one seed), on dense Qwen2 and the DeepSeek-V3
// MoE preset; and the layers really are recomputed nodes of the graph.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "policies/causal_lm.h"
#include "tests/policies/test_models.h"

namespace grpo::policies {
namespace {

struct CheckpointingPass {
  TokenScores scores;
  torch::Tensor loss;
  torch::Tensor balance;                // undefined when the model computes none
  std::vector<torch::Tensor> loads;     // expert_load_counts() after the pass
  std::map<std::string, torch::Tensor> grads;
};

// Left-padded row 0, right-padded row 1, a full row 2: every mask pattern the learner packs.
struct CheckpointingBatch {
  torch::Tensor tokens, targets, mask;
};
CheckpointingBatch padded_batch(int64_t vocab) {
  torch::manual_seed(3);
  const int64_t B = 3, T = 12;
  CheckpointingBatch b;
  b.tokens = torch::randint(2, vocab, {B, T}, torch::kLong);
  b.targets = torch::randint(2, vocab, {B, T}, torch::kLong);
  b.mask = torch::ones({B, T}, torch::kLong);
  b.mask[0].narrow(0, 0, 3).zero_();
  b.mask[1].narrow(0, 8, 4).zero_();
  return b;
}

// One training forward + backward of a loss using log-probs, entropies and the balance loss.
CheckpointingPass run_checkpointing(CausalLM& model, const CheckpointingBatch& b) {
  model.reset_expert_load_counts();
  for (auto& p : model.parameters()) p.mutable_grad() = torch::Tensor();
  CheckpointingPass out;
  out.scores = model.token_scores(b.tokens, b.targets, b.mask, /*temperature=*/0.7, /*chunk=*/5, /*with_entropy=*/true);
  torch::Tensor w = torch::linspace(-1.0, 1.0, b.tokens.numel()).view(b.tokens.sizes());
  out.loss = (out.scores.logprobs * w).sum() - 0.01 * out.scores.entropies.sum();
  out.balance = model.balance_loss();
  if (out.balance.defined()) out.loss = out.loss + out.balance;
  out.loss.backward();
  out.loads = model.expert_load_counts();
  for (const auto& item : model.named_parameters())
    if (item.value().grad().defined()) out.grads[item.key()] = item.value().grad().clone();
  return out;
}

// Every node name reachable from `root`'s grad_fn.
std::multiset<std::string> graph_node_names(const torch::Tensor& root) {
  std::multiset<std::string> names;
  std::vector<torch::autograd::Node*> pending{root.grad_fn().get()};
  std::set<torch::autograd::Node*> seen;
  while (!pending.empty()) {
    torch::autograd::Node* n = pending.back();
    pending.pop_back();
    if (!n || !seen.insert(n).second) continue;
    names.insert(n->name());
    for (const auto& e : n->next_edges()) pending.push_back(e.function.get());
  }
  return names;
}

size_t checkpoint_nodes(const torch::Tensor& root) {
  size_t n = 0;
  for (const auto& name : graph_node_names(root)) n += name.find("CheckpointedBlock") != std::string::npos;
  return n;
}

void expect_same_training_pass(const ModelConfig& config, double balance_alpha) {
  auto plain = CausalLM::create(config, 11);
  auto ckpt = plain->clone_model();
  for (auto* m : {plain.get(), ckpt.get()}) {
    m->train();
    m->set_sequence_balance_alpha(balance_alpha);
  }
  ckpt->set_gradient_checkpointing(true);
  const CheckpointingBatch b = padded_batch(config.vocab_size);

  CheckpointingPass want = run_checkpointing(*plain, b);
  CheckpointingPass got = run_checkpointing(*ckpt, b);

  // Not a no-op: every decoder layer is one recomputed node, and the plain model has none.
  EXPECT_EQ(checkpoint_nodes(got.scores.logprobs), static_cast<size_t>(config.num_hidden_layers));
  EXPECT_EQ(checkpoint_nodes(want.scores.logprobs), 0u);

  EXPECT_TRUE(torch::allclose(got.scores.logprobs, want.scores.logprobs, 0, 1e-6));
  EXPECT_TRUE(torch::allclose(got.scores.entropies, want.scores.entropies, 0, 1e-6));
  EXPECT_NEAR(got.loss.item<double>(), want.loss.item<double>(), 1e-5);
  ASSERT_EQ(got.balance.defined(), want.balance.defined());
  if (want.balance.defined()) {
    EXPECT_NEAR(got.balance.item<double>(), want.balance.item<double>(), 1e-9);
  }

  ASSERT_EQ(got.loads.size(), want.loads.size());
  for (size_t l = 0; l < want.loads.size(); ++l) {
    EXPECT_GT(want.loads[l].sum().item<int64_t>(), 0);
    EXPECT_TRUE(torch::equal(got.loads[l], want.loads[l])) << "MoE layer " << l << ": loads counted once, not again by the recompute";
  }

  ASSERT_EQ(got.grads.size(), want.grads.size()) << "the same parameters receive gradients";
  for (const auto& [name, g] : want.grads) {
    ASSERT_TRUE(got.grads.count(name)) << name;
    const double scale = g.abs().max().item<double>();
    EXPECT_TRUE(torch::allclose(got.grads[name], g, 1e-5, 1e-6 * std::max(scale, 1e-3)))
        << name << ": max |diff| " << (got.grads[name] - g).abs().max().item<double>() << " of max |g| " << scale;
  }
}

TEST(GradientCheckpointing, Qwen2SameLossGradientsAsWithout) { expect_same_training_pass(testing::tiny_qwen2(), 0.0); }

TEST(GradientCheckpointing, DeepSeekV3MoeSameLossGradientsLoadsAndBalanceLossAsWithout) {
  expect_same_training_pass(testing::tiny_deepseek(), 0.01);
}

TEST(GradientCheckpointing, BalanceLossGradientFlowsThroughTheRecompute) {
  // The balance loss alone: its only path to the router weights is through the checkpointed layers.
  ModelConfig c = testing::tiny_deepseek();
  auto model = CausalLM::create(c, 5);
  model->train();
  model->set_sequence_balance_alpha(0.1);
  model->set_gradient_checkpointing(true);
  const CheckpointingBatch b = padded_batch(c.vocab_size);
  model->token_scores(b.tokens, b.targets, b.mask, 1.0, 8, false);
  model->balance_loss().backward();
  int routers = 0;
  for (const auto& item : model->named_parameters())
    if (item.key().find("mlp.gate.weight") != std::string::npos) {
      ++routers;
      ASSERT_TRUE(item.value().grad().defined()) << item.key();
      EXPECT_GT(item.value().grad().abs().sum().item<double>(), 0.0) << item.key();
    }
  EXPECT_EQ(routers, static_cast<int>(c.num_hidden_layers - c.first_k_dense_replace));
}

TEST(GradientCheckpointing, OnlyWhereGradientsAreComputed) {
  ModelConfig c = testing::tiny_qwen2();
  auto model = CausalLM::create(c, 2);
  model->set_gradient_checkpointing(true);
  const CheckpointingBatch b = padded_batch(c.vocab_size);
  {
    torch::NoGradGuard no_grad;  // scoring old/reference log-probs: nothing to recompute
    torch::Tensor lp = model->token_logprobs(b.tokens, b.targets, b.mask);
    EXPECT_FALSE(lp.requires_grad());
  }
  torch::Tensor pos = positions_from_mask(b.mask);
  EXPECT_EQ(checkpoint_nodes(model->forward(b.tokens, pos, nullptr, b.mask)), static_cast<size_t>(c.num_hidden_layers));
}

}  // namespace
}  // namespace grpo::policies
