// Packing completions into padded [B, T] micro-batches.
#include "learner/sequence_batch.h"

#include <cmath>

#include <gtest/gtest.h>

namespace grpo::learner {
namespace {

std::vector<TrainSequence> two_sequences() {
  TrainSequence a;
  a.tokens = {7, 8, 1, 2, 3};  // prompt 7 8, completion 1 2 3
  a.prompt_len = 2;
  a.rollout_logprobs = {-0.1f, -0.2f, -0.3f};
  a.advantage = 1.5;
  TrainSequence b;
  b.tokens = {9, 4};  // prompt 9, completion 4
  b.prompt_len = 1;
  b.truncated = true;
  b.advantage = -0.5;
  return {a, b};
}

TEST(SequenceBatchTest, LayoutShiftsTargetsAndMasksCompletions) {
  auto batch = two_sequences();
  PackedBatch p = pack_sequences(batch, {1, 0}, /*pad_id=*/0, /*mask_truncated=*/false);
  ASSERT_EQ(p.inputs.sizes(), (std::vector<int64_t>{2, 4}));
  EXPECT_TRUE(torch::equal(p.inputs[1], torch::tensor({7, 8, 1, 2}, torch::kLong)));
  EXPECT_TRUE(torch::equal(p.targets[1], torch::tensor({8, 1, 2, 3}, torch::kLong)));
  EXPECT_TRUE(torch::equal(p.loss_mask[1], torch::tensor({0.f, 1.f, 1.f, 1.f})));
  EXPECT_TRUE(torch::equal(p.inputs[0], torch::tensor({9, 0, 0, 0}, torch::kLong)));
  EXPECT_TRUE(torch::equal(p.loss_mask[0], torch::tensor({1.f, 0.f, 0.f, 0.f})));
  EXPECT_TRUE(torch::equal(p.attention_mask[0], torch::tensor({1.f, 0.f, 0.f, 0.f})));
  EXPECT_FLOAT_EQ(p.advantages[1].item<float>(), 1.5f);
  EXPECT_FLOAT_EQ(p.rollout_logprobs[1][1].item<float>(), -0.1f);
  EXPECT_TRUE(std::isnan(p.rollout_logprobs[0][0].item<float>()));  // b has no rollout log-probs
}

TEST(SequenceBatchTest, MaskTruncatedZeroesTheWholeCompletion) {
  auto batch = two_sequences();
  PackedBatch p = pack_sequences(batch, {0, 1}, 0, /*mask_truncated=*/true);
  EXPECT_EQ(p.loss_mask[1].sum().item<float>(), 0.f);
  EXPECT_EQ(p.loss_mask[0].sum().item<float>(), 3.f);
}

TEST(SequenceBatchTest, UnpackAndPackAreInverse) {
  auto batch = two_sequences();
  PackedBatch p = pack_sequences(batch, {0, 1}, 0, false);
  torch::Tensor values = torch::arange(8, torch::kFloat).reshape({2, 4});
  auto per_row = unpack_completions(values, batch, {0, 1});
  EXPECT_TRUE(torch::equal(per_row[0], torch::tensor({1.f, 2.f, 3.f})));
  EXPECT_TRUE(torch::equal(per_row[1], torch::tensor({4.f})));
  torch::Tensor back = pack_completions(per_row, batch, {0, 1}, 4);
  EXPECT_TRUE(torch::equal(back * p.loss_mask, values * p.loss_mask));
}

}  // namespace
}  // namespace grpo::learner
