// Group-relative advantages against grpo-reference.md's check and hand-computed values.
#include "learner/advantages.h"

#include <cmath>
#include <limits>

#include <gtest/gtest.h>

#include "core/error.h"

namespace grpo::learner {
namespace {

TEST(AdvantagesTest, GroupScalingMatchesReferenceCheck) {
  // grpo-reference.md: G=4, rewards [1,0,0,0] -> mu 0.25, sigma 0.5 (Bessel).
  auto a = compute_advantages({1, 0, 0, 0}, 4, {});
  ASSERT_EQ(a.values.size(), 4u);
  EXPECT_NEAR(a.values[0], 0.75 / 0.5001, 1e-12);
  EXPECT_NEAR(a.values[0], 1.4997, 1e-4);
  for (int i = 1; i < 4; ++i) EXPECT_NEAR(a.values[i], -0.4999, 1e-4);
  EXPECT_EQ(a.frac_reward_zero_std, 0.0);
}

TEST(AdvantagesTest, ZeroStdGroupGivesExactlyZero) {
  auto a = compute_advantages({0.1, 0.1, 0.1, 1, 0, 1}, 3, {});
  for (int i = 0; i < 3; ++i) EXPECT_EQ(a.values[i], 0.0);
  EXPECT_NEAR(a.frac_reward_zero_std, 0.5, 1e-12);
  // Second group: mean 2/3, std sqrt(1/3).
  const double sigma = std::sqrt(1.0 / 3.0);
  EXPECT_NEAR(a.values[3], (1 - 2.0 / 3) / (sigma + 1e-4), 1e-12);
  EXPECT_NEAR(a.values[4], (0 - 2.0 / 3) / (sigma + 1e-4), 1e-12);
}

TEST(AdvantagesTest, NoneScalingIsCentredOnly) {
  AdvantageOptions o;
  o.scale_rewards = "none";
  auto a = compute_advantages({3, 1, 2, 2}, 2, o);
  EXPECT_DOUBLE_EQ(a.values[0], 1.0);
  EXPECT_DOUBLE_EQ(a.values[1], -1.0);
  EXPECT_EQ(a.values[2], 0.0);
  EXPECT_EQ(a.values[3], 0.0);
}

TEST(AdvantagesTest, BatchScalingUsesWholeBatchStd) {
  AdvantageOptions o;
  o.scale_rewards = "batch";
  auto a = compute_advantages({1, 0, 4, 2}, 2, o);
  // batch mean 1.75; squared deviations 0.5625+3.0625+5.0625+0.0625 = 8.75; var 8.75/3
  const double sigma = std::sqrt(8.75 / 3.0);
  EXPECT_NEAR(a.values[0], 0.5 / (sigma + 1e-4), 1e-12);
  EXPECT_NEAR(a.values[2], 1.0 / (sigma + 1e-4), 1e-12);
}

TEST(AdvantagesTest, LeaveOneOutBaselineExcludesSelf) {
  AdvantageOptions o;
  o.scale_rewards = "none";
  o.leave_one_out = true;
  auto a = compute_advantages({1, 0, 0, 0}, 4, o);
  EXPECT_DOUBLE_EQ(a.values[0], 1.0);         // baseline mean(0,0,0)
  EXPECT_DOUBLE_EQ(a.values[1], -1.0 / 3.0);  // baseline mean(1,0,0)
}

TEST(AdvantagesTest, UnscorableSampleIsExcludedAndGetsZero) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  AdvantageOptions o;
  o.scale_rewards = "none";
  auto a = compute_advantages({1, 0, nan, 0}, 4, o);
  EXPECT_EQ(a.values[2], 0.0);
  EXPECT_NEAR(a.values[0], 1 - 1.0 / 3, 1e-12);  // mean over the three scored
  EXPECT_EQ(a.num_unscorable, 1);
}

TEST(AdvantagesTest, RejectsPartialGroupsAndUnknownScaling) {
  EXPECT_THROW(compute_advantages({1, 0, 0}, 2, {}), Error);
  AdvantageOptions o;
  o.scale_rewards = "sequence";
  EXPECT_THROW(compute_advantages({1, 0}, 2, o), Error);
}

}  // namespace
}  // namespace grpo::learner
