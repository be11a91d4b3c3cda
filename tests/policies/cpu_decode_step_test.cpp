// The decode step as one parallel region (policies/cpu_decode_step.h): the
// same logits and cache, bit for bit, as the layer-by-layer forward with the
// same products, for Qwen2 (q/k/v bias, tied head), Llama (untied) and Llama
// with every bias, on one and two threads, rows in any slots at any lengths;
// where it applies; errors that name the bad row.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "core/error.h"
#include "core/torch_compat.h"
#include "policies/causal_lm.h"
#include "policies/few_rows_linear.h"
#include "tests/policies/test_models.h"
#include "tests/support/intra_op_threads.h"

namespace grpo::policies {
namespace {

ModelConfig llama_with_every_bias() {
  ModelConfig c = testing::tiny_llama();
  c.attention_bias = true;
  c.mlp_bias = true;
  return c;
}

// A model in the engine's settings: eval, every product through the engine's kernels.
std::shared_ptr<CausalLM> engine_model(const ModelConfig& config) {
  auto model = CausalLM::create(config, 5);
  model->eval();
  model->set_onednn_linear(0);
  if (config.attention_bias || config.mlp_bias) {  // nonzero biases, so that a dropped one shows
    torch::NoGradGuard no_grad;
    for (auto& p : model->named_parameters())
      if (p.key().size() > 5 && p.key().compare(p.key().size() - 5, 5, ".bias") == 0) p.value().normal_(0, 0.1);
  }
  return model;
}

#if GRPO_HAS_ONEDNN_LINEAR
TEST(CpuDecodeStep, LogitsAndCacheEqualTheLayerPathBitForBit) {
  torch::NoGradGuard no_grad;
  for (const ModelConfig& config : {testing::tiny_qwen2(), testing::tiny_llama(), llama_with_every_bias()}) {
    for (int threads : {1, 2}) {
      const grpo::testing::IntraOpThreads scoped(threads);
      const std::string where = config.model_type + (config.mlp_bias ? " with biases" : "") + ", " + std::to_string(threads) + " threads";
      auto model = engine_model(config);
      KvCache fused(config, 8, 32), layers(config, 8, 32);
      // Three rows in slots out of order, prompts of 3, 5 and 2 tokens (right-padded).
      const std::vector<int64_t> slots = {5, 0, 3};
      torch::manual_seed(7);
      torch::Tensor prompt = torch::randint(0, config.vocab_size, {3, 5}, torch::kLong);
      torch::Tensor mask = torch::tensor({1, 1, 1, 0, 0, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0}, torch::kLong).view({3, 5});
      model->forward(prompt, {}, &fused, mask, slots);
      model->forward(prompt, {}, &layers, mask, slots);
      ASSERT_TRUE(model->fuses_cpu_decode(fused, 3)) << where;
      const torch::Tensor ones = torch::ones({3, 1}, torch::kLong);  // a mask sends the step through the layers
      for (int step = 0; step < 4; ++step) {
        torch::Tensor tokens = torch::randint(0, config.vocab_size, {3, 1}, torch::kLong);
        torch::Tensor a = model->forward(tokens, {}, &fused, {}, slots);
        torch::Tensor b = model->forward(tokens, {}, &layers, ones, slots);
        ASSERT_EQ(a.sizes(), b.sizes()) << where;
        EXPECT_TRUE(torch::equal(a, b)) << where << ", step " << step << ": max difference " << testing::max_abs_diff(a, b);
      }
      EXPECT_EQ(fused.lengths(), layers.lengths()) << where;
      EXPECT_EQ(fused.length(5), 7);
      EXPECT_EQ(fused.length(3), 6);
      for (int64_t l = 0; l < config.num_hidden_layers; ++l)
        EXPECT_TRUE(torch::equal(fused.a(l), layers.a(l)) && torch::equal(fused.b(l), layers.b(l))) << where << ", layer " << l;
    }
  }
}

TEST(CpuDecodeStep, GreedyDecodeOfSixtyFourRowsEqualsTheFullForward) {
  torch::NoGradGuard no_grad;
  const grpo::testing::IntraOpThreads two(2);
  const ModelConfig config = testing::tiny_qwen2();
  auto model = engine_model(config);
  const int64_t B = 64, P = 4, T = 9;
  torch::manual_seed(9);
  torch::Tensor tokens = torch::randint(0, config.vocab_size, {B, T}, torch::kLong);
  KvCache cache(config, B, 16);
  model->forward(tokens.narrow(1, 0, P), {}, &cache);
  ASSERT_TRUE(model->fuses_cpu_decode(cache, B));
  model->set_onednn_linear(-1);
  torch::Tensor full = model->forward(tokens, {});  // ATen's products, no cache
  model->set_onednn_linear(0);
  for (int64_t t = P; t < T; ++t)
    EXPECT_LE(testing::max_abs_diff(model->forward(tokens.narrow(1, t, 1), {}, &cache), full.narrow(1, t, 1)), 1e-4) << "position " << t;
}

TEST(CpuDecodeStep, AppliesOnlyWhereItsKernelsDo) {
  torch::NoGradGuard no_grad;
  const ModelConfig qwen = testing::tiny_qwen2();
  auto model = engine_model(qwen);
  KvCache cache(qwen, detail::kFewRowsMax + 1, 8);
  EXPECT_TRUE(model->fuses_cpu_decode(cache, 1));
  EXPECT_TRUE(model->fuses_cpu_decode(cache, detail::kFewRowsMax));
  EXPECT_FALSE(model->fuses_cpu_decode(cache, detail::kFewRowsMax + 1)) << "more rows go to oneDNN's products";
  model->set_onednn_linear(64 * 64 + 1);
  EXPECT_FALSE(model->fuses_cpu_decode(cache, 4)) << "some products through ATen's linear";
  model->set_onednn_linear(-1);
  EXPECT_FALSE(model->fuses_cpu_decode(cache, 4)) << "ATen's linear throughout";
  model->set_onednn_linear(0);
  model->train();
  EXPECT_FALSE(model->fuses_cpu_decode(cache, 4)) << "training mode";
  model->eval();
  KvCache bf16(qwen, 4, 8, torch::kCPU, torch::kBFloat16);
  EXPECT_FALSE(model->fuses_cpu_decode(bf16, 4)) << "a bf16 cache";
  const ModelConfig deepseek = testing::tiny_deepseek();
  auto mla = engine_model(deepseek);
  KvCache mla_cache(deepseek, 4, 8);
  EXPECT_FALSE(mla->fuses_cpu_decode(mla_cache, 4)) << "MLA and MoE layers";
}

TEST(CpuDecodeStep, BadRowsAreRefusedByName) {
  torch::NoGradGuard no_grad;
  const ModelConfig config = testing::tiny_qwen2();
  auto model = engine_model(config);
  KvCache cache(config, 4, 8);
  ASSERT_TRUE(model->fuses_cpu_decode(cache, 2));
  try {
    model->forward(torch::tensor(std::vector<int64_t>{3, config.vocab_size}, torch::kLong).view({2, 1}), {}, &cache, {}, {0, 1});
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("token id 512 of row 1"), std::string::npos) << e.what();
  }
  try {
    model->forward(torch::tensor(std::vector<int64_t>{3, 4}, torch::kLong).view({2, 1}), {}, &cache, {}, {2, 2});
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("slot 2 is given to two rows"), std::string::npos) << e.what();
  }
  EXPECT_EQ(cache.lengths(), std::vector<int64_t>(4, 0)) << "nothing appended by a refused step";
}
#else
// LibTorch 1.13 has no oneDNN linear op, so the engine keeps ATen's products and the layers.
TEST(CpuDecodeStep, DoesNotApplyWithoutTheEnginesProducts) {
  torch::NoGradGuard no_grad;
  auto model = engine_model(testing::tiny_qwen2());
  KvCache cache(testing::tiny_qwen2(), 4, 8);
  EXPECT_FALSE(model->fuses_cpu_decode(cache, 4));
}
#endif

}  // namespace
}  // namespace grpo::policies
