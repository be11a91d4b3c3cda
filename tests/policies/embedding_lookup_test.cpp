// embedding_lookup: values and gradients equal those of the plain embedding
// (torch::embedding under autograd), with repeated ids, with and without an
// existing gradient, tied to an output projection, under torch::autograd::grad,
// and in whole models (tied qwen2, untied llama) over two accumulated backwards.
#include <gtest/gtest.h>

#include "policies/causal_lm.h"
#include "policies/embedding_lookup.h"
#include "tests/policies/test_models.h"

namespace grpo::policies {
namespace {

// A [V, D] weight and its plain twin (same values, its own autograd leaf).
struct EmbeddingTwins {
  torch::Tensor weight, plain;
};
EmbeddingTwins embedding_twins(int64_t v, int64_t d) {
  torch::Tensor w = torch::randn({v, d});
  return {w.clone().requires_grad_(true), w.clone().requires_grad_(true)};
}

// Ids with repeats (0 and 3 several times, rows 1, 2 and 4 .. 10 never).
torch::Tensor repeated_ids() { return torch::tensor({3, 0, 3, 11, 0, 3, 0, 2}, torch::kLong).view({2, 4}); }

TEST(EmbeddingLookup, ValuesAndGradientEqualThePlainEmbeddingWithRepeatedIds) {
  torch::manual_seed(1);
  auto [w, plain] = embedding_twins(12, 5);
  torch::Tensor ids = repeated_ids(), c = torch::randn({2, 4, 5});
  torch::Tensor x = detail::embedding_lookup(w, ids);
  torch::Tensor want = torch::embedding(plain, ids);
  EXPECT_TRUE(torch::equal(x, want));
  (x * c).sum().backward();  // no gradient yet: the dense gradient, as autograd's
  (want * c).sum().backward();
  EXPECT_LE(testing::max_abs_diff(w.grad(), plain.grad()), 1e-6);
  EXPECT_EQ(w.grad().narrow(0, 4, 7).abs().sum().item<double>(), 0.0);  // rows no id reads
  // A second backward adds its rows into the existing gradient in place.
  torch::Tensor before = w.grad();
  torch::Tensor c2 = torch::randn({2, 4, 5});
  (detail::embedding_lookup(w, ids) * c2).sum().backward();
  (torch::embedding(plain, ids) * c2).sum().backward();
  EXPECT_TRUE(w.grad().is_same(before));
  EXPECT_LE(testing::max_abs_diff(w.grad(), plain.grad()), 1e-6);
}

TEST(EmbeddingLookup, TiedToAnOutputProjectionAccumulatesAsThePlainEmbedding) {
  // The weight also projects the hidden states back (tied lm-head): both gradients meet in .grad.
  torch::manual_seed(2);
  auto [w, plain] = embedding_twins(12, 5);
  torch::Tensor ids = repeated_ids();
  auto loss = [&](const torch::Tensor& weight, const torch::Tensor& x, const torch::Tensor& c) {
    return (torch::tanh(x).matmul(weight.t()) * c).sum();
  };
  for (int micro_batch = 0; micro_batch < 3; ++micro_batch) {
    torch::Tensor c = torch::randn({2, 4, 12});
    loss(w, detail::embedding_lookup(w, ids), c).backward();
    loss(plain, torch::embedding(plain, ids), c).backward();
    EXPECT_LE(testing::max_abs_diff(w.grad(), plain.grad()), 1e-5) << "after micro-batch " << micro_batch;
  }
}

TEST(EmbeddingLookup, AutogradGradLeavesTheExistingGradientAlone) {
  // torch::autograd::grad returns the gradient and must not write .grad, also when .grad exists.
  torch::manual_seed(3);
  auto [w, plain] = embedding_twins(12, 5);
  w.mutable_grad() = torch::ones({12, 5});
  torch::Tensor ids = repeated_ids(), c = torch::randn({2, 4, 5});
  torch::Tensor got = torch::autograd::grad({(detail::embedding_lookup(w, ids) * c).sum()}, {w})[0];
  (torch::embedding(plain, ids) * c).sum().backward();
  EXPECT_LE(testing::max_abs_diff(got, plain.grad()), 1e-6);
  EXPECT_TRUE(torch::equal(w.grad(), torch::ones({12, 5})));
}

TEST(EmbeddingLookup, WithoutGradientModeIsTheEmbedding) {
  torch::manual_seed(4);
  auto [w, plain] = embedding_twins(12, 5);
  torch::NoGradGuard no_grad;
  torch::Tensor x = detail::embedding_lookup(w, repeated_ids());
  EXPECT_FALSE(x.requires_grad());
  EXPECT_TRUE(torch::equal(x, torch::embedding(plain, repeated_ids())));
}

// Sum of the parameters' gradients of token log-probs over `batches`, accumulated by consecutive
// backwards (accumulate = true) or each backward from no gradient, the gradients summed after.
std::map<std::string, torch::Tensor> two_batch_gradients(CausalLM& model, const std::vector<torch::Tensor>& batches,
                                                         bool accumulate) {
  std::map<std::string, torch::Tensor> sum;
  for (auto& p : model.parameters()) p.mutable_grad() = torch::Tensor();
  for (const auto& tokens : batches) {
    torch::Tensor targets = tokens.roll(-1, 1), mask = torch::ones_like(tokens);
    model.token_scores(tokens, targets, mask, 1.0, 16, false).logprobs.sum().backward();
    if (accumulate) continue;
    for (auto& [n, p] : testing::items(model.named_parameters())) {
      if (!p.grad().defined()) continue;
      sum[n] = sum.count(n) ? sum[n] + p.grad() : p.grad().clone();
      p.mutable_grad() = torch::Tensor();
    }
  }
  if (accumulate)
    for (auto& [n, p] : testing::items(model.named_parameters()))
      if (p.grad().defined()) sum[n] = p.grad().clone();
  return sum;
}

TEST(EmbeddingLookup, TiedAndUntiedModelsAccumulateMicroBatchesAsSeparateBackwards) {
  // The second backward adds the embedding rows in place (the first returns the dense gradient):
  // the accumulated gradients equal the sum of each backward's own, to fp32 summation order.
  for (bool tied : {true, false}) {
    torch::manual_seed(5);
    ModelConfig c = tied ? testing::tiny_qwen2() : testing::tiny_llama();
    ASSERT_EQ(c.tie_word_embeddings, tied);
    auto model = CausalLM::create(c, 6);
    std::vector<torch::Tensor> batches = {torch::randint(0, c.vocab_size, {2, 9}, torch::kLong),
                                          torch::randint(0, c.vocab_size, {3, 6}, torch::kLong)};
    auto accumulated = two_batch_gradients(*model, batches, true);
    auto separate = two_batch_gradients(*model, batches, false);
    ASSERT_EQ(accumulated.size(), separate.size());
    ASSERT_TRUE(accumulated.count("model.embed_tokens.weight"));
    for (const auto& [n, g] : separate) {
      const double scale = std::max(1.0, g.abs().max().item<double>());
      EXPECT_LE(testing::max_abs_diff(accumulated[n], g), 1e-6 * scale) << n << (tied ? " (tied)" : " (untied)");
    }
  }
}

}  // namespace
}  // namespace grpo::policies
