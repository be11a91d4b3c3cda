// onednn_linear: oneDNN's product equals ATen's linear, reads the weight as
// it is at each call (never a stale copy), and covers only large weights.
// LibTorch 1.13 has no oneDNN linear op: there only the refusal is tested.
#include <gtest/gtest.h>

#include <string>

#include "core/error.h"
#include "core/torch_compat.h"
#include "policies/onednn_linear.h"
#include "tests/policies/test_models.h"

namespace grpo::policies::detail {
namespace {

using policies::testing::max_abs_diff;

// The torch wheel's LibTorch 2.x is built with oneDNN; Debian's 1.13 lacks
// the op, and a direct call says so (the engine checks availability first).
TEST(OnednnLinear, AvailableExactlyWhereTheLibTorchHasTheOp) {
  EXPECT_EQ(onednn_linear_available(), GRPO_HAS_ONEDNN_LINEAR != 0) << "LibTorch " << compat::torch_version();
  if (onednn_linear_available()) return;
  try {
    onednn_linear(torch::ones({2, 4}), torch::ones({3, 4}), {});
    FAIL() << "onednn_linear ran without the op";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("mkldnn::_linear_pointwise"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find(compat::torch_version()), std::string::npos) << e.what();
  }
}

#if GRPO_HAS_ONEDNN_LINEAR
TEST(OnednnLinear, MatchesAtenLinear) {
  ASSERT_TRUE(onednn_linear_available()) << "the torch wheel's LibTorch is built with oneDNN";
  torch::manual_seed(1);
  torch::NoGradGuard no_grad;
  torch::nn::Linear layer(torch::nn::LinearOptions(64, 48).bias(true));
  for (int64_t rows : {1, 7, 64, 300}) {
    torch::Tensor x = torch::randn({rows, 1, 64});
    torch::Tensor y = linear(layer, x, OnednnLinear{0});
    EXPECT_EQ(y.sizes(), (std::vector<int64_t>{rows, 1, 48}));
    EXPECT_LE(max_abs_diff(y, layer(x)), 1e-5) << rows << " rows";
  }
  // A non-contiguous input (the attention output's transpose) and no bias.
  torch::Tensor w = torch::randn({32, 64});
  torch::Tensor xt = torch::randn({64, 5}).t();
  EXPECT_LE(max_abs_diff(onednn_linear(xt, w, {}), torch::matmul(xt, w.t())), 1e-4);
}

TEST(OnednnLinear, ReadsTheWeightAsItIsNow) {
  ASSERT_TRUE(onednn_linear_available());
  torch::manual_seed(2);
  torch::NoGradGuard no_grad;
  torch::nn::Linear layer(torch::nn::LinearOptions(32, 16).bias(false));
  torch::Tensor x = torch::randn({4, 32});
  torch::Tensor before = onednn_linear(x, layer->weight, {});
  layer->weight.copy_(torch::randn({16, 32}));  // in place, as weight sync and the optimizer do
  torch::Tensor after_copy = onednn_linear(x, layer->weight, {});
  EXPECT_GT(max_abs_diff(after_copy, before), 0.1);
  EXPECT_LE(max_abs_diff(after_copy, layer(x)), 1e-5);
  layer->weight.set_data(torch::randn({16, 32}));  // replaced storage
  EXPECT_LE(max_abs_diff(onednn_linear(x, layer->weight, {}), layer(x)), 1e-5);
}

#endif  // GRPO_HAS_ONEDNN_LINEAR

TEST(OnednnLinear, CoversOnlyWeightsFromTheThreshold) {
  torch::Tensor small = torch::zeros({48, 64}), large = torch::zeros({128, 512});  // 3072 and 65536 elements
  EXPECT_FALSE(OnednnLinear{}.covers(large));  // off by default
  EXPECT_FALSE(OnednnLinear{65536}.covers(small));
  EXPECT_TRUE(OnednnLinear{65536}.covers(large));
  EXPECT_TRUE(OnednnLinear{0}.covers(small));
  torch::NoGradGuard no_grad;
  torch::nn::Linear layer(torch::nn::LinearOptions(64, 48).bias(false));
  torch::Tensor x = torch::randn({3, 64});
  EXPECT_TRUE(torch::equal(linear(layer, x, OnednnLinear{65536}), layer(x)));  // ATen's own product, bit for bit
}

}  // namespace
}  // namespace grpo::policies::detail
