// DeepSeekMoE: the grouped-per-expert layer equals a brute-force per-token
// reference (bias for selection only, group limits, renormalisation, scaling,
// shared experts); load counts and the aux-loss-free bias update.
#include <gtest/gtest.h>

#include <algorithm>
#include <numeric>

#include "policies/causal_lm.h"
#include "policies/model_layers.h"
#include "tests/policies/test_models.h"

namespace grpo::policies {
namespace {

// Per-token reference written from model-reference §1.7 with plain loops.
torch::Tensor brute_force_moe(detail::MoE& moe, const ModelConfig& c, const torch::Tensor& x) {
  const int64_t N = x.size(0), E = c.n_routed_experts, per = E / c.n_group;
  torch::Tensor out = torch::zeros_like(x);
  torch::Tensor bias = moe->gate->e_score_correction_bias;
  for (int64_t n = 0; n < N; ++n) {
    torch::Tensor s = torch::sigmoid(torch::matmul(moe->gate->weight, x[n]));
    std::vector<double> choice(E), score(E);
    for (int64_t e = 0; e < E; ++e) {
      score[e] = s[e].item<double>();
      choice[e] = score[e] + bias[e].item<double>();
    }
    std::vector<std::pair<double, int64_t>> groups;
    for (int64_t g = 0; g < c.n_group; ++g) {
      std::vector<double> v(choice.begin() + g * per, choice.begin() + (g + 1) * per);
      std::sort(v.rbegin(), v.rend());
      groups.push_back({v[0] + v[1], g});
    }
    std::sort(groups.rbegin(), groups.rend());
    std::vector<std::pair<double, int64_t>> allowed;
    for (int64_t k = 0; k < c.topk_group; ++k)
      for (int64_t e = groups[k].second * per; e < (groups[k].second + 1) * per; ++e) allowed.push_back({choice[e], e});
    std::sort(allowed.rbegin(), allowed.rend());
    double sum = 0;
    for (int64_t k = 0; k < c.num_experts_per_tok; ++k) sum += score[allowed[k].second];
    torch::Tensor y = moe->shared_experts(x[n].unsqueeze(0))[0];
    for (int64_t k = 0; k < c.num_experts_per_tok; ++k) {
      int64_t e = allowed[k].second;
      double w = score[e] / sum * c.routed_scaling_factor;
      y = y + w * moe->expert_list[e](x[n].unsqueeze(0))[0];
    }
    out[n] = y;
  }
  return out;
}

TEST(MoE, GroupedLayerEqualsBruteForcePerTokenReference) {
  ModelConfig c = testing::tiny_deepseek();
  auto model = CausalLM::create(c, 21);
  torch::NoGradGuard no_grad;
  auto layers = model->named_children();
  detail::Backbone backbone = std::dynamic_pointer_cast<detail::BackboneImpl>(model->named_children()["model"]);
  detail::MoE moe = backbone->layer_list[1]->moe;
  ASSERT_TRUE(moe);
  ASSERT_FALSE(backbone->layer_list[0]->moe) << "first_k_dense_replace = 1 makes layer 0 dense";
  // A large bias makes selection differ from the unbiased scores.
  moe->gate->e_score_correction_bias.copy_(torch::randn({c.n_routed_experts}) * 0.3);
  torch::Tensor x = torch::randn({10, c.hidden_size});
  detail::ForwardContext ctx;
  torch::Tensor got = moe->forward(x.view({2, 5, c.hidden_size}), ctx).view({10, c.hidden_size});
  torch::Tensor want = brute_force_moe(moe, c, x);
  EXPECT_LE((got - want).abs().max().item<double>(), 1e-5);

  auto [w, idx, scores] = moe->gate->route(x);
  EXPECT_TRUE(torch::allclose(w.sum(-1), torch::full({10}, c.routed_scaling_factor), 1e-5, 1e-5));
  // Every selected expert lies in at most topk_group groups.
  torch::Tensor groups = idx.div(c.n_routed_experts / c.n_group, "floor");
  for (int64_t n = 0; n < 10; ++n) EXPECT_LE(std::get<0>(at::_unique(groups[n])).numel(), c.topk_group);
}

TEST(MoE, LoadCountsAndBiasUpdate) {
  ModelConfig c = testing::tiny_deepseek();
  auto model = CausalLM::create(c, 8);
  model->train();
  torch::Tensor tokens = torch::randint(0, c.vocab_size, {2, 8}, torch::kLong);
  torch::Tensor mask = torch::ones({2, 8}, torch::kLong);
  mask[1][7] = 0;  // padding does not count
  model->forward(tokens, {}, nullptr, mask);
  auto counts = model->expert_load_counts();
  ASSERT_EQ(counts.size(), 2u);  // layers 1 and 2
  EXPECT_EQ(counts[0].sum().item<int64_t>(), 15 * c.num_experts_per_tok);
  torch::Tensor load = counts[0].to(torch::kFloat);
  torch::Tensor before = std::dynamic_pointer_cast<detail::BackboneImpl>(model->named_children()["model"])
                             ->layer_list[1]->moe->gate->e_score_correction_bias.clone();
  model->update_routing_bias(0.001);
  torch::Tensor after = model->named_buffers()["model.layers.1.mlp.gate.e_score_correction_bias"];
  torch::Tensor expected = before + 0.001 * torch::sign(load.mean() - load);
  EXPECT_TRUE(torch::allclose(after, expected));
  EXPECT_GT((after - before).abs().sum().item<double>(), 0.0);
  EXPECT_EQ(model->expert_load_counts()[0].sum().item<int64_t>(), 0) << "update resets the counts";
  model->eval();
  model->forward(tokens, {});
  EXPECT_EQ(model->expert_load_counts()[0].sum().item<int64_t>(), 0) << "eval forwards (rollout) do not count";
}

TEST(MoE, SequenceBalanceLossIsDifferentiable) {
  ModelConfig c = testing::tiny_deepseek();
  auto model = CausalLM::create(c, 8);
  model->train();
  model->set_sequence_balance_alpha(1e-4);
  torch::Tensor tokens = torch::randint(0, c.vocab_size, {2, 8}, torch::kLong);
  model->forward(tokens, {});
  torch::Tensor loss = model->balance_loss();
  ASSERT_TRUE(loss.defined());
  EXPECT_GT(loss.item<double>(), 0.0);
  loss.backward();
  torch::Tensor g = model->named_parameters()["model.layers.1.mlp.gate.weight"].grad();
  ASSERT_TRUE(g.defined());
  EXPECT_GT(g.abs().sum().item<double>(), 0.0);
}

TEST(MoE, RoutedExpertsSeeOnlyTheirTokens) {
  ModelConfig c = testing::tiny_deepseek();
  auto model = CausalLM::create(c, 3);
  model->train();
  torch::Tensor tokens = torch::randint(0, c.vocab_size, {1, 6}, torch::kLong);
  torch::Tensor logits = model->forward(tokens, {});
  logits.sum().backward();
  // An expert no token chose has no gradient path at all.
  auto counts = model->expert_load_counts()[0];
  int64_t unused = -1;
  for (int64_t e = 0; e < c.n_routed_experts; ++e)
    if (counts[e].item<int64_t>() == 0) unused = e;
  ASSERT_GE(unused, 0) << "6 tokens x 4 experts leave some of 16 experts unused";
  auto g = model->named_parameters()["model.layers.1.mlp.experts." + std::to_string(unused) + ".up_proj.weight"].grad();
  EXPECT_TRUE(!g.defined() || g.abs().sum().item<double>() == 0.0);
}

}  // namespace
}  // namespace grpo::policies
