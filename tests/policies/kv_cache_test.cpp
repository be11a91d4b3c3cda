// Inference path: prefill + decode through the KV cache equals the full
// forward, step by step, for MLA (absorbed) and GQA; absorbed == naive MLA;
// forked slots continue like their source.
#include <gtest/gtest.h>

#include "core/error.h"
#include "core/torch_compat.h"
#include "policies/causal_lm.h"
#include "tests/policies/test_models.h"

namespace grpo::policies {
namespace {

using policies::testing::max_abs_diff;

// Returns the logits of every decode step [B, T - P, V].
torch::Tensor expect_decode_matches_full(const ModelConfig& config, bool onednn = false) {
  auto model = CausalLM::create(config, 11);
  model->eval();
  model->set_onednn_linear(onednn ? 0 : -1);  // 0: the tiny test weights go through oneDNN too
  torch::NoGradGuard no_grad;
  torch::manual_seed(3);
  const int64_t B = 2, P = 5, T = 12;
  torch::Tensor tokens = torch::randint(0, config.vocab_size, {B, T}, torch::kLong);
  torch::Tensor full = model->forward(tokens, {});
  KvCache cache(config, /*max_slots=*/4, /*max_len=*/32);
  std::vector<int64_t> slots = {3, 1};  // rows need not map to slots 0..B-1
  torch::Tensor pre = model->forward(tokens.narrow(1, 0, P), {}, &cache, {}, slots);
  EXPECT_LE(max_abs_diff(pre, full.narrow(1, 0, P)), 1e-4);
  EXPECT_EQ(cache.length(3), P);
  std::vector<torch::Tensor> steps;
  for (int64_t t = P; t < T; ++t) {
    steps.push_back(model->forward(tokens.narrow(1, t, 1), {}, &cache, {}, slots));
    EXPECT_LE(max_abs_diff(steps.back(), full.narrow(1, t, 1)), 1e-4) << "step " << t;
  }
  EXPECT_EQ(cache.length(1), T);
  EXPECT_EQ(cache.length(0), 0);
  return torch::cat(steps, 1);
}

TEST(KvCache, MlaDecodeEqualsFullForward) { expect_decode_matches_full(testing::tiny_deepseek()); }
TEST(KvCache, MlaWithoutQLoraDecodeEqualsFullForward) { expect_decode_matches_full(testing::tiny_deepseek(false)); }
TEST(KvCache, GqaDecodeEqualsFullForward) { expect_decode_matches_full(testing::tiny_qwen2()); }
TEST(KvCache, LlamaDecodeEqualsFullForward) { expect_decode_matches_full(testing::tiny_llama()); }
#if GRPO_HAS_ONEDNN_LINEAR
TEST(KvCache, OnednnLinearDecodeEqualsFullForward) {
  ASSERT_TRUE(detail::onednn_linear_available());
  for (const ModelConfig& config : {testing::tiny_qwen2(), testing::tiny_deepseek()}) {
    torch::Tensor aten = expect_decode_matches_full(config);
    torch::Tensor onednn = expect_decode_matches_full(config, /*onednn=*/true);
    // Another GEMM library rounds differently somewhere: proof that the decode took the oneDNN path.
    EXPECT_FALSE(torch::equal(aten, onednn)) << config.model_type;
  }
}
#else
// LibTorch 1.13 has no oneDNN linear op: asking for it keeps ATen's products, bit for bit.
TEST(KvCache, OnednnLinearRequestKeepsAtenLinearWithoutTheOp) {
  ASSERT_FALSE(detail::onednn_linear_available());
  torch::Tensor aten = expect_decode_matches_full(testing::tiny_qwen2());
  EXPECT_TRUE(torch::equal(aten, expect_decode_matches_full(testing::tiny_qwen2(), /*onednn=*/true)));
}
#endif

TEST(KvCache, AbsorbedMlaEqualsNaiveMla) {
  ModelConfig c = testing::tiny_deepseek();
  auto model = CausalLM::create(c, 5);
  model->eval();
  torch::NoGradGuard no_grad;
  torch::Tensor tokens = torch::randint(0, c.vocab_size, {2, 9}, torch::kLong);
  KvCache absorbed(c, 2, 16), naive(c, 2, 16);
  torch::Tensor a = model->forward(tokens, {}, &absorbed);
  model->set_mla_absorbed(false);
  torch::Tensor n = model->forward(tokens, {}, &naive);
  EXPECT_LE(max_abs_diff(a, n), 1e-4);
  EXPECT_GT(a.std().item<double>(), 0.01);
  // The cache holds only the latent and the rope key: 32 + 8 values per token per layer.
  EXPECT_EQ(absorbed.bytes_per_token(), (32 + 8) * 4 * c.num_hidden_layers);
  EXPECT_TRUE(torch::equal(absorbed.a(0).narrow(1, 0, 9), naive.a(0).narrow(1, 0, 9)));
}

// Two prompts of 7 and 4 tokens, right-padded into one prefill of the
// packed slots 0 and 1 (the cache is then read in place), then decode steps
// where the rows have different lengths: every step equals the full forward
// of that row's sequence. last_logits gives each row's last real position.
void expect_right_padded_prefill_then_ragged_decode(const ModelConfig& c) {
  auto model = CausalLM::create(c, 2);
  model->eval();
  torch::NoGradGuard no_grad;
  torch::Tensor a = torch::randint(0, c.vocab_size, {1, 7}, torch::kLong);
  torch::Tensor b = torch::randint(0, c.vocab_size, {1, 4}, torch::kLong);
  torch::Tensor batch = torch::zeros({2, 7}, torch::kLong);
  batch[0].copy_(a[0]);
  batch[1].narrow(0, 0, 4).copy_(b[0]);
  torch::Tensor mask = torch::zeros({2, 7}, torch::kLong);
  mask[0].fill_(1);
  mask[1].narrow(0, 0, 4).fill_(1);
  KvCache cache(c, 2, 16);
  torch::Tensor pre = model->forward(batch, {}, &cache, mask);
  EXPECT_EQ(cache.length(0), 7);
  EXPECT_EQ(cache.length(1), 4);
  torch::Tensor ref_b = model->forward(b, {});
  EXPECT_LE(max_abs_diff(pre[1].narrow(0, 0, 4), ref_b[0]), 1e-4);
  KvCache again(c, 2, 16);
  torch::Tensor last = model->last_logits(batch, {}, &again, mask);  // [2,V]
  EXPECT_LE(max_abs_diff(last[0], model->forward(a, {})[0][6]), 1e-4);
  EXPECT_LE(max_abs_diff(last[1], ref_b[0][3]), 1e-4);
  // Next tokens continue at positions 7 and 4.
  torch::Tensor seq_a = a, seq_b = b;
  for (int step = 0; step < 3; ++step) {
    torch::Tensor nxt = torch::randint(0, c.vocab_size, {2, 1}, torch::kLong);
    torch::Tensor out = model->forward(nxt, {}, &cache);
    seq_a = torch::cat({seq_a, nxt[0].view({1, 1})}, 1);
    seq_b = torch::cat({seq_b, nxt[1].view({1, 1})}, 1);
    EXPECT_LE(max_abs_diff(out[0][0], model->forward(seq_a, {})[0][-1]), 1e-4) << "step " << step;
    EXPECT_LE(max_abs_diff(out[1][0], model->forward(seq_b, {})[0][-1]), 1e-4) << "step " << step;
  }
}

TEST(KvCache, MlaRightPaddedPrefillThenRaggedDecode) {
  expect_right_padded_prefill_then_ragged_decode(testing::tiny_deepseek());
}
TEST(KvCache, GqaRightPaddedPrefillThenRaggedDecode) {
  expect_right_padded_prefill_then_ragged_decode(testing::tiny_qwen2());
}

TEST(KvCache, ForkedSlotsContinueLikeTheSource) {
  ModelConfig c = testing::tiny_qwen2();
  auto model = CausalLM::create(c, 4);
  model->eval();
  torch::NoGradGuard no_grad;
  torch::Tensor prompt = torch::randint(0, c.vocab_size, {1, 6}, torch::kLong);
  KvCache cache(c, 4, 16);
  model->forward(prompt, {}, &cache, {}, {0});
  for (int64_t s = 1; s < 4; ++s) cache.copy_slot(0, s, 6);
  torch::Tensor next = torch::tensor({{5}, {6}, {7}, {8}}, torch::kLong);
  torch::Tensor step = model->forward(next, {}, &cache, {}, {0, 1, 2, 3});
  for (int64_t s = 0; s < 4; ++s) {
    torch::Tensor ref = model->forward(torch::cat({prompt, next[s].view({1, 1})}, 1), {});
    EXPECT_LE(max_abs_diff(step[s][0], ref[0][6]), 1e-4) << "slot " << s;
  }
  EXPECT_THROW(cache.copy_slot(0, 1, 99), grpo::Error);
  KvCache small(c, 1, 4);
  EXPECT_THROW(model->forward(prompt, {}, &small), grpo::Error);
}

}  // namespace
}  // namespace grpo::policies
