#include "rollout/weight_sync.h"

#include <gtest/gtest.h>

#include "core/error.h"
#include "core/wire_message.h"
#include "policies/causal_lm.h"

namespace grpo::rollout {
namespace {

NamedTensors sample_tensors() {
  torch::manual_seed(0);
  return {{"a", torch::randn({100, 30})}, {"empty", torch::zeros({0})}, {"b", torch::randint(0, 9, {7}, torch::kInt64)},
          {"c", torch::randn({5000}).to(torch::kBFloat16)}};
}

TEST(WeightSyncTest, ChunkedVersionIsReassembledExactly) {
  auto tensors = sample_tensors();
  auto messages = weight_messages(4, tensors, /*chunk_bytes=*/1000);
  ASSERT_GT(messages.size(), 10u);
  WeightAssembler assembler("test");
  std::optional<WeightSet> set;
  for (size_t i = 0; i < messages.size(); ++i) {
    // Every message passes through the wire encoding, as on a socket.
    auto m = decode_message(encode_message(messages[i]), "test");
    set = assembler.feed(m);
    if (i + 1 < messages.size()) {
      EXPECT_FALSE(set) << "a partial version must not be returned";
    }
  }
  ASSERT_TRUE(set);
  EXPECT_EQ(set->version, 4);
  ASSERT_EQ(set->tensors.size(), tensors.size());
  for (size_t i = 0; i < tensors.size(); ++i) {
    EXPECT_EQ(set->tensors[i].first, tensors[i].first);
    EXPECT_TRUE(torch::equal(set->tensors[i].second, tensors[i].second)) << tensors[i].first;
  }
}

TEST(WeightSyncTest, NewerVersionReplacesAnIncompleteOne) {
  auto v1 = weight_messages(1, sample_tensors(), 1000);
  auto v2 = weight_messages(2, sample_tensors(), 1000);
  WeightAssembler assembler("test");
  for (size_t i = 0; i + 1 < v1.size(); ++i) assembler.feed(v1[i]);  // v1 lacks its last chunk
  std::optional<WeightSet> set;
  for (const auto& m : v2) set = assembler.feed(m);
  ASSERT_TRUE(set);
  EXPECT_EQ(set->version, 2);
  EXPECT_THROW(assembler.feed(v1.back()), ProtocolError) << "a chunk of an abandoned version";
  EXPECT_THROW(assembler.feed(v1.front()), ProtocolError) << "an older version than the one held";
}

TEST(WeightSyncTest, DuplicateAndOutOfRangeChunksAreRejected) {
  auto v = weight_messages(1, sample_tensors(), 1000);
  WeightAssembler assembler("test");
  assembler.feed(v[0]);
  assembler.feed(v[1]);
  EXPECT_THROW(assembler.feed(v[1]), ProtocolError);
  auto bad = v[2];
  bad.fields["pieces"][0]["offset"] = 1 << 30;
  EXPECT_THROW(assembler.feed(bad), ProtocolError);
  std::optional<WeightSet> set;
  for (size_t i = 2; i < v.size(); ++i) set = assembler.feed(v[i]);
  EXPECT_TRUE(set) << "the rejected chunk changed nothing; the good copy completes the version";
}

TEST(WeightSyncTest, ChunkWithoutBeginIsRejected) {
  auto v = weight_messages(1, sample_tensors(), 1000);
  WeightAssembler assembler("test");
  EXPECT_THROW(assembler.feed(v[1]), ProtocolError);
  EXPECT_EQ(assembler.newest_complete(), -1);
}

TEST(WeightSyncTest, ApplyCopiesIntoTheModelOrChangesNothing) {
  auto config = policies::ModelConfig::preset("qwen2", "tiny");
  auto target = policies::CausalLM::create(config, 1);
  auto source = policies::CausalLM::create(config, 2);
  WeightSet set{7, source->checkpoint_tensors()};
  auto wrong = set;
  wrong.tensors.back().second = torch::zeros({1});  // mis-shaped last tensor: nothing may be copied
  auto before = target->checkpoint_tensors().front().second.clone();  // copied first if apply were not all-or-nothing
  EXPECT_THROW(apply_weights(*target, wrong), Error);
  EXPECT_TRUE(torch::equal(target->checkpoint_tensors().front().second, before));
  apply_weights(*target, set);
  auto got = target->checkpoint_tensors();
  for (size_t i = 0; i < got.size(); ++i) EXPECT_TRUE(torch::equal(got[i].second, set.tensors[i].second)) << got[i].first;
}

int64_t payload_bytes(const std::vector<WireMessage>& messages) {
  int64_t n = 0;
  for (const auto& m : messages)
    for (const auto& f : m.frames) n += static_cast<int64_t>(f.size());
  return n;
}

// rollout.weight_wire_dtype = bf16: half the bytes of an fp32 model, and the
// receiver ends up with exactly the bf16-rounded weights in its own fp32.
TEST(WeightSyncTest, Bf16WireHalvesThePayloadAndLeavesTheRoundedWeights) {
  auto config = policies::ModelConfig::preset("qwen2", "tiny");
  auto source = policies::CausalLM::create(config, 2);
  auto target = policies::CausalLM::create(config, 1);
  auto plain = weight_messages(5, published_tensors(*source, false), 64 << 10);
  auto bf16 = weight_messages(5, published_tensors(*source, true), 64 << 10);
  EXPECT_EQ(2 * payload_bytes(bf16), payload_bytes(plain));

  WeightAssembler assembler("test");
  std::optional<WeightSet> set;
  for (const auto& m : bf16) set = assembler.feed(decode_message(encode_message(m), "test"));
  ASSERT_TRUE(set);
  apply_weights(*target, *set);
  auto want = source->checkpoint_tensors();
  auto got = target->checkpoint_tensors();
  ASSERT_EQ(got.size(), want.size());
  bool any_rounded = false;
  for (size_t i = 0; i < got.size(); ++i) {
    ASSERT_EQ(got[i].second.scalar_type(), torch::kFloat32) << got[i].first;
    torch::Tensor rounded = want[i].second.to(torch::kBFloat16).to(torch::kFloat32);
    EXPECT_TRUE(torch::equal(got[i].second, rounded)) << got[i].first;
    any_rounded = any_rounded || !torch::equal(rounded, want[i].second);
  }
  EXPECT_TRUE(any_rounded) << "bf16 rounding changed nothing: the comparison would be vacuous";
}

TEST(WeightSyncTest, ApplyRejectsANonFloatingDtypeForAFloatingParameter) {
  auto config = policies::ModelConfig::preset("qwen2", "tiny");
  auto target = policies::CausalLM::create(config, 1);
  WeightSet set{3, target->checkpoint_tensors()};
  set.tensors.front().second = set.tensors.front().second.to(torch::kInt64);
  try {
    apply_weights(*target, set);
    FAIL() << "an int64 tensor was copied into a float parameter";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("dtype"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace grpo::rollout
