// fused_linear (policies/fused_linear.h): after share_rows, one product over
// q/k/v-like layers equals the separate ones, reads the weights as they are
// now (in-place changes of the optimizer and weight sync), steps aside when a
// weight no longer sits in the shared rows, and training still gives each
// parameter its own gradient.
#include "policies/fused_linear.h"

#include <gtest/gtest.h>

#include "core/torch_compat.h"

namespace grpo::policies::detail {
namespace {

double fused_max_diff(const torch::Tensor& a, const torch::Tensor& b) { return (a - b).abs().max().item<double>(); }

// Three layers 24 -> 16, 8, 8 with biases (qwen2's q/k/v shape, small).
struct FusedQkv {
  torch::nn::Linear q{torch::nn::LinearOptions(24, 16)}, k{torch::nn::LinearOptions(24, 8)}, v{torch::nn::LinearOptions(24, 8)};
  std::vector<torch::nn::Linear*> layers() { return {&q, &k, &v}; }
  torch::Tensor separate(const torch::Tensor& x) { return torch::cat({q(x), k(x), v(x)}, -1); }
};

// The fused product is oneDNN's (LibTorch 2.x); on 1.13 the engine keeps ATen's separate products
// (OnednnLinear.AvailableExactlyWhereTheLibTorchHasTheOp checks the refusal there).
#if GRPO_HAS_ONEDNN_LINEAR
TEST(FusedLinear, SharedRowsKeepValuesAndMultiplyAsOne) {
  ASSERT_TRUE(onednn_linear_available());
  torch::manual_seed(4);
  torch::NoGradGuard no_grad;
  FusedQkv m;
  torch::Tensor k_before = m.k->weight.clone(), v_bias_before = m.v->bias.clone();
  share_rows(m.layers());
  EXPECT_TRUE(torch::equal(m.k->weight, k_before));
  EXPECT_TRUE(torch::equal(m.v->bias, v_bias_before));
  EXPECT_EQ(m.k->weight.data_ptr<float>(), m.q->weight.data_ptr<float>() + 16 * 24) << "k's rows follow q's";
  torch::Tensor x = torch::randn({5, 1, 24});
  torch::Tensor fused = fused_linear(m.layers(), x, OnednnLinear{0});
  ASSERT_TRUE(fused.defined());
  EXPECT_EQ(fused.sizes(), (std::vector<int64_t>{5, 1, 32}));
  EXPECT_LE(fused_max_diff(fused, m.separate(x)), 1e-5);
  EXPECT_FALSE(fused_linear(m.layers(), x, OnednnLinear{}).defined()) << "oneDNN off: the layers run one by one";
}

TEST(FusedLinear, ReadsTheWeightsAsTheyAreNow) {
  torch::manual_seed(5);
  torch::NoGradGuard no_grad;
  FusedQkv m;
  share_rows(m.layers());
  torch::Tensor x = torch::randn({3, 24});
  torch::Tensor before = fused_linear(m.layers(), x, OnednnLinear{0});
  m.k->weight.copy_(torch::randn({8, 24}));  // weight sync writes in place
  m.q->bias.add_(1.0);                        // as does an optimizer step
  torch::Tensor after = fused_linear(m.layers(), x, OnednnLinear{0});
  EXPECT_GT(fused_max_diff(after, before), 0.1);
  EXPECT_LE(fused_max_diff(after, m.separate(x)), 1e-5);
  m.v->weight.set_data(torch::randn({8, 24}));  // replaced storage: no longer one matrix
  EXPECT_FALSE(fused_linear(m.layers(), x, OnednnLinear{0}).defined());
  m.v->bias.set_data(torch::randn({8}));
  share_rows(m.layers());
  EXPECT_LE(fused_max_diff(fused_linear(m.layers(), x, OnednnLinear{0}), m.separate(x)), 1e-5);
}
#endif  // GRPO_HAS_ONEDNN_LINEAR

TEST(FusedLinear, EachSharedParameterGetsItsOwnGradient) {
  torch::manual_seed(6);
  FusedQkv shared, plain;
  std::vector<std::pair<torch::nn::Linear*, torch::nn::Linear*>> pairs = {{&shared.q, &plain.q}, {&shared.k, &plain.k}, {&shared.v, &plain.v}};
  {
    torch::NoGradGuard no_grad;
    for (auto [s, p] : pairs) {
      (*p)->weight.copy_((*s)->weight);
      (*p)->bias.copy_((*s)->bias);
    }
  }
  share_rows(shared.layers());
  torch::Tensor x = torch::randn({4, 24});
  (shared.separate(x).pow(2).sum()).backward();
  (plain.separate(x).pow(2).sum()).backward();
  for (auto [s, p] : pairs) {
    ASSERT_TRUE((*s)->weight.grad().defined());
    EXPECT_EQ((*s)->weight.grad().sizes(), (*p)->weight.sizes());
    EXPECT_LE(fused_max_diff((*s)->weight.grad(), (*p)->weight.grad()), 1e-5);
    EXPECT_LE(fused_max_diff((*s)->bias.grad(), (*p)->bias.grad()), 1e-5);
  }
}

}  // namespace
}  // namespace grpo::policies::detail
