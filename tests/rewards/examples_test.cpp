// The three custom rewards of examples/custom-reward work as their README says:
// the Python command reward, the C plug-in and the one-line C++ registration
// (my_cpp_reward.cpp is compiled into this test binary).
#include <gtest/gtest.h>

#include "rewards/reward_registry.h"
#include "tests/rewards/answer_sample.h"
#include "tests/rewards/rewards_test_env.h"

namespace grpo::rewards {
namespace {

using test::answer_sample;

TEST(CustomRewardExamplesTest, PythonCommandReward) {
  RewardSpec spec;
  spec.type = "command";
  spec.command = {test::python(), test::source_dir() + "/examples/custom-reward/my_reward.py"};
  auto reward = RewardRegistry::instance().create(spec);
  auto r = reward->score_batch({answer_sample("<think>t</think><answer>4</answer>", "4"),
                                answer_sample("<think>t</think><answer>5</answer>", "4"), answer_sample("no tags", "4")});
  EXPECT_EQ(r[0].score, 1.5);  // correct and concise
  EXPECT_EQ(r[1].score, 0.0);
  EXPECT_EQ(r[2].score, 0.0);
  for (const auto& x : r) EXPECT_TRUE(x.error.empty()) << x.error;
}

TEST(CustomRewardExamplesTest, CPlugin) {
  RewardSpec spec;
  spec.type = "plugin";
  spec.library = GRPO_REWARDS_EXAMPLE_PLUGIN;
  spec.params = {{"word", "hence"}};
  auto reward = RewardRegistry::instance().create(spec);
  EXPECT_EQ(reward->score(answer_sample("hence 4", "4")).score, 1.0);
  EXPECT_EQ(reward->score(answer_sample("therefore 4", "4")).score, 0.0);
}

TEST(CustomRewardExamplesTest, OneLineCppRegistration) {
  RewardSpec spec;
  spec.type = "starts_with_think";
  auto reward = RewardRegistry::instance().create(spec);
  EXPECT_EQ(reward->score(answer_sample("<think>x</think>", "")).score, 1.0);
  EXPECT_EQ(reward->score(answer_sample("x <think>", "")).score, 0.0);
}

}  // namespace
}  // namespace grpo::rewards
