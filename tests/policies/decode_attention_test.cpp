// decode_attention (policies/decode_attention.h): the new key and value land
// at each row's position of its slot, and the output equals softmax attention
// (float64 reference) over that slot's keys, after apply_rope's rotation when
// given angles, reading q/k/v views of one product in place: rows of unequal length in slots
// that are not consecutive, 1, 3, 4 and 8 query heads per kv head, head dims
// the AVX2 kernel takes (multiples of 16) and one it leaves to the portable
// loops (12).
#include "policies/decode_attention.h"

#include <gtest/gtest.h>

#include <cmath>

#include "core/error.h"
#include "policies/model_layers.h"

namespace grpo::policies::detail {
namespace {

// SDPA per row over its own keys, kv head h / G for query head h (repeat_kv order).
torch::Tensor decode_attention_reference(const torch::Tensor& q, const torch::Tensor& k_cache, const torch::Tensor& v_cache,
                                         const std::vector<int64_t>& slots, const std::vector<int64_t>& lens, double scale) {
  const int64_t B = q.size(0), H = q.size(1), KV = k_cache.size(1), G = H / KV;
  std::vector<torch::Tensor> rows;
  for (int64_t b = 0; b < B; ++b) {
    auto k = k_cache[slots[b]].narrow(1, 0, lens[b]).repeat_interleave(G, 0);  // [H, n, hd]
    auto v = v_cache[slots[b]].narrow(1, 0, lens[b]).repeat_interleave(G, 0);
    auto p = (torch::matmul(q[b].unsqueeze(1).to(torch::kDouble), k.transpose(1, 2).to(torch::kDouble)) * scale).softmax(-1);
    rows.push_back(torch::matmul(p, v.to(torch::kDouble)).squeeze(1));  // [H, hd]
  }
  return torch::stack(rows).to(torch::kFloat);
}

void expect_decode_attention_matches(int64_t heads, int64_t kv_heads, int64_t head_dim) {
  torch::manual_seed(heads * 100 + head_dim);
  const int64_t S = 7, L = 40;
  auto k_cache = torch::randn({S, kv_heads, L, head_dim});
  auto v_cache = torch::randn({S, kv_heads, L, head_dim});
  auto k_before = k_cache.clone(), v_before = v_cache.clone();
  std::vector<int64_t> slots = {5, 0, 3, 6}, starts = {0, 39, 16, 28};  // not consecutive; 1 to max_len keys
  auto q = torch::randn({4, heads, head_dim}) * 2;
  auto k_new = torch::randn({4, kv_heads, head_dim}), v_new = torch::randn({4, kv_heads, head_dim});
  const double scale = 1.0 / std::sqrt(static_cast<double>(head_dim));
  auto out = decode_attention(q, k_new, v_new, k_cache, v_cache, slots, starts, scale);
  for (int64_t b = 0; b < 4; ++b) {
    k_before[slots[b]].select(1, starts[b]).copy_(k_new[b]);
    v_before[slots[b]].select(1, starts[b]).copy_(v_new[b]);
  }
  EXPECT_TRUE(torch::equal(k_cache, k_before)) << "only the new keys were written, where they belong";
  EXPECT_TRUE(torch::equal(v_cache, v_before));
  std::vector<int64_t> lens;
  for (int64_t s : starts) lens.push_back(s + 1);
  auto expected = decode_attention_reference(q, k_cache, v_cache, slots, lens, scale);
  ASSERT_EQ(out.sizes(), expected.sizes());
  EXPECT_LE((out - expected).abs().max().item<double>(), 1e-5) << heads << " heads, " << kv_heads << " kv heads, dim " << head_dim;
}

TEST(DecodeAttention, GroupedHeadsMatchSdpaPerRow) { expect_decode_attention_matches(8, 2, 64); }
TEST(DecodeAttention, OneQueryHeadPerKvHeadAndDimTail) { expect_decode_attention_matches(3, 3, 12); }
// The AVX2 kernel takes heads in groups of up to 4: 3 per kv head, and 8 (two groups).
TEST(DecodeAttention, ThreeHeadsPerKvHead) { expect_decode_attention_matches(6, 2, 64); }
TEST(DecodeAttention, EightHeadsPerKvHeadWideHeads) { expect_decode_attention_matches(16, 2, 128); }
TEST(DecodeAttention, OneHeadPerKvHeadNarrowHeads) { expect_decode_attention_matches(4, 4, 16); }

TEST(DecodeAttention, RotatesQueryAndNewKeyAsApplyRopeAndReadsRowsInPlace) {
  torch::manual_seed(11);
  const int64_t B = 4, H = 8, KV = 2, hd = 64, S = 6, L = 20;
  auto qkv = torch::randn({B, 1, (H + 2 * KV) * hd});  // one product's output, as GQA's fused q/k/v
  auto q = qkv.narrow(-1, 0, H * hd).view({B, H, hd});
  auto k = qkv.narrow(-1, H * hd, KV * hd).view({B, KV, hd});
  auto v = qkv.narrow(-1, (H + KV) * hd, KV * hd).view({B, KV, hd});
  ASSERT_FALSE(q.is_contiguous());
  auto angles = torch::randn({B, hd / 2}) * 3;
  auto cos = angles.cos(), sin = angles.sin();
  auto k_cache = torch::randn({S, KV, L, hd}), v_cache = torch::randn({S, KV, L, hd});
  auto k_ref = k_cache.clone(), v_ref = v_cache.clone();
  std::vector<int64_t> slots = {4, 1, 0, 5}, starts = {7, 0, 19, 12};
  auto out = decode_attention(q, k, v, k_cache, v_cache, slots, starts, 0.125, cos, sin);
  auto rope = [&](const torch::Tensor& x) {  // apply_rope on [B, heads, 1, hd] with [B, 1, 1, hd / 2] angles
    return apply_rope(x.unsqueeze(2), cos.view({B, 1, 1, hd / 2}), sin.view({B, 1, 1, hd / 2}), false).squeeze(2).contiguous();
  };
  auto expected = decode_attention(rope(q), rope(k), v.contiguous(), k_ref, v_ref, slots, starts, 0.125);
  EXPECT_LE((out - expected).abs().max().item<double>(), 1e-5);
  EXPECT_LE((k_cache - k_ref).abs().max().item<double>(), 1e-6) << "the new keys are cached rotated";
  EXPECT_TRUE(torch::equal(v_cache, v_ref));
  EXPECT_THROW(decode_attention(q, k, v, k_cache, v_cache, slots, starts, 0.125, cos, {}), Error);
  EXPECT_THROW(decode_attention(q, k, v, k_cache, v_cache, slots, starts, 0.125, cos.narrow(1, 0, 8), sin.narrow(1, 0, 8)), Error);
}

TEST(DecodeAttention, RejectsRowsOutsideTheCache) {
  auto k_cache = torch::zeros({2, 1, 8, 4}), v_cache = torch::zeros({2, 1, 8, 4});
  auto q = torch::zeros({1, 1, 4}), kv = torch::zeros({1, 1, 4});
  EXPECT_THROW(decode_attention(q, kv, kv, k_cache, v_cache, {2}, {3}, 1.0), Error);  // no slot 2
  EXPECT_THROW(decode_attention(q, kv, kv, k_cache, v_cache, {1}, {8}, 1.0), Error);  // the slot is full
  auto q2 = torch::zeros({2, 1, 4}), kv2 = torch::zeros({2, 1, 4});
  EXPECT_THROW(decode_attention(q2, kv2, kv2, k_cache, v_cache, {1, 1}, {0, 0}, 1.0), Error);  // one slot, two rows
  EXPECT_FALSE(decode_attention_applies(q.to(torch::kDouble), k_cache, v_cache));
}

}  // namespace
}  // namespace grpo::policies::detail
