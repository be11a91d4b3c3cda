#include "core/torch_compat.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>

namespace grpo {
namespace {

// One query, two keys, worked by hand: the scale is applied as given (not
// 1/sqrt(head_dim)) and a bool mask keeps the keys where it is true.
TEST(TorchCompatTest, AttentionUsesTheGivenScaleAndKeepsTrueKeys) {
  auto q = torch::tensor({1.0f, 0.0f}).view({1, 1, 1, 2});
  auto k = torch::tensor({2.0f, 0.0f, 0.0f, 0.0f}).view({1, 1, 2, 2});
  auto v = torch::tensor({1.0f, 0.0f, 0.0f, 1.0f}).view({1, 1, 2, 2});
  auto out = compat::scaled_dot_product_attention(q, k, v, std::nullopt, 0.5).view({2});
  const double e = std::exp(1.0);  // scores 0.5·2 = 1 and 0
  EXPECT_NEAR(out[0].item<double>(), e / (e + 1), 1e-6);
  EXPECT_NEAR(out[1].item<double>(), 1 / (e + 1), 1e-6);

  auto keep_second = torch::tensor({false, true}).view({1, 1, 1, 2});
  out = compat::scaled_dot_product_attention(q, k, v, keep_second, 0.5).view({2});
  EXPECT_NEAR(out[0].item<double>(), 0.0, 1e-6);
  EXPECT_NEAR(out[1].item<double>(), 1.0, 1e-6);
}

// Random heads against the formula in float64, with a broadcast bool mask
// (causal, every row keeps key 0) and an additive float mask.
TEST(TorchCompatTest, AttentionMatchesTheFormulaWithBoolAndFloatMasks) {
  torch::manual_seed(0);
  auto q = torch::randn({2, 3, 4, 8}), k = torch::randn({2, 3, 6, 8}), v = torch::randn({2, 3, 6, 8});
  auto keep = torch::ones({4, 6}, torch::kBool).tril(2).view({1, 1, 4, 6});
  auto bias = torch::randn({2, 1, 4, 6});
  const double scale = 0.3;
  auto scores = torch::matmul(q.to(torch::kDouble), k.to(torch::kDouble).transpose(-2, -1)) * scale;
  auto expect_bool = torch::matmul(scores.masked_fill(keep.logical_not(), -INFINITY).softmax(-1), v.to(torch::kDouble));
  auto expect_float = torch::matmul((scores + bias.to(torch::kDouble)).softmax(-1), v.to(torch::kDouble));
  auto got_bool = compat::scaled_dot_product_attention(q, k, v, keep, scale);
  auto got_float = compat::scaled_dot_product_attention(q, k, v, bias, scale);
  EXPECT_TRUE(torch::allclose(got_bool.to(torch::kDouble), expect_bool, 1e-5, 1e-5));
  EXPECT_TRUE(torch::allclose(got_float.to(torch::kDouble), expect_float, 1e-5, 1e-5));
}

// causal = true (what training attention runs) is the lower-triangle bool mask:
// same values and the same gradients of q, k and v as the float64 formula.
TEST(TorchCompatTest, CausalAttentionMatchesTheFormulaWithGradients) {
  torch::manual_seed(1);
  auto q = torch::randn({2, 3, 5, 8}).requires_grad_(), k = torch::randn({2, 3, 5, 8}).requires_grad_(),
       v = torch::randn({2, 3, 5, 8}).requires_grad_();
  auto w = torch::randn({2, 3, 5, 8});
  const double scale = 0.4;
  auto got = compat::scaled_dot_product_attention(q, k, v, std::nullopt, scale, /*causal=*/true);
  auto grads = torch::autograd::grad({(got * w).sum()}, {q, k, v});

  auto qd = q.detach().to(torch::kDouble).requires_grad_(), kd = k.detach().to(torch::kDouble).requires_grad_(),
       vd = v.detach().to(torch::kDouble).requires_grad_();
  auto keep = torch::ones({5, 5}, torch::kBool).tril();
  auto expect = torch::matmul((torch::matmul(qd, kd.transpose(-2, -1)) * scale).masked_fill(keep.logical_not(), -INFINITY).softmax(-1), vd);
  auto expect_grads = torch::autograd::grad({(expect * w.to(torch::kDouble)).sum()}, {qd, kd, vd});
  EXPECT_TRUE(torch::allclose(got.detach().to(torch::kDouble), expect.detach(), 1e-5, 1e-5));
  for (size_t i = 0; i < 3; ++i)
    EXPECT_TRUE(torch::allclose(grads[i].to(torch::kDouble), expect_grads[i], 1e-4, 1e-5)) << "gradient of input " << i;
}

}  // namespace
}  // namespace grpo
