#include "train/step_metrics.h"

#include <gtest/gtest.h>

namespace grpo::train {
namespace {

rollout::Completion completion(size_t tokens, rollout::FinishReason reason) {
  rollout::Completion c;
  c.ids.assign(tokens, 7);
  c.finish_reason = reason;
  return c;
}

rewards::ScoredSample scored(double accuracy, double format, double total) {
  rewards::ScoredSample s;
  s.total = total;
  s.components = {rewards::RewardResult::of(accuracy), rewards::RewardResult::of(format)};
  return s;
}

TEST(StepMetricsTest, RolesPickTheFirstAccuracyAndFormatRewards) {
  MetricRoles r = metric_roles({"length", "format", "countdown", "math"});
  EXPECT_EQ(r.accuracy_component, 2);
  EXPECT_EQ(r.format_component, 1);
  EXPECT_EQ(metric_roles({"length"}).accuracy_component, -1);
}

TEST(StepMetricsTest, RewardAccuracyFormatAndLengths) {
  rollout::GroupResult g;
  g.completions = {completion(4, rollout::FinishReason::kStop), completion(8, rollout::FinishReason::kLength),
                   completion(6, rollout::FinishReason::kStop), completion(2, rollout::FinishReason::kStop)};
  // countdown-style scores: 1 correct, 0.1 well-formed but wrong.
  std::vector<rewards::ScoredSample> s = {scored(1.0, 1, 2.0), scored(0.1, 1, 1.1), scored(0.0, 0, 0.0), scored(1.0, 0, 1.0)};
  auto m = rollout_metrics({g}, s, {"countdown", "format"}, {0, 1});
  EXPECT_DOUBLE_EQ(m["reward/mean"], 1.025);
  EXPECT_DOUBLE_EQ(m["reward/max"], 2.0);
  EXPECT_DOUBLE_EQ(m["accuracy/mean"], 0.5);  // 0.1 is not correct
  EXPECT_DOUBLE_EQ(m["format/rate"], 0.5);
  EXPECT_DOUBLE_EQ(m["reward/countdown/mean"], 0.525);
  EXPECT_DOUBLE_EQ(m["completion/length/mean"], 5.0);
  EXPECT_DOUBLE_EQ(m["completion/length/max"], 8.0);
  EXPECT_DOUBLE_EQ(m["completion/clipped_ratio"], 0.25);
  // Sample std with Bessel's correction of totals {2, 1.1, 0, 1}.
  EXPECT_NEAR(m["reward/std"], 0.818026, 1e-6);
}

TEST(StepMetricsTest, NoScoreStaysOutOfTheComponentMean) {
  rollout::GroupResult g;
  g.completions = {completion(1, rollout::FinishReason::kStop), completion(1, rollout::FinishReason::kStop)};
  rewards::ScoredSample a = scored(1.0, 1, 1.0), b = scored(0.0, 1, 0.0);
  b.components[0] = rewards::RewardResult::none();
  auto m = rollout_metrics({g}, {a, b}, {"math", "format"}, {0, 1});
  EXPECT_DOUBLE_EQ(m["reward/math/mean"], 1.0);
  EXPECT_DOUBLE_EQ(m["reward/mean"], 0.5);
}

}  // namespace
}  // namespace grpo::train
