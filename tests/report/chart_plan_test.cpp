// Which charts a set of metric names produces (report/chart_plan.h rules).
#include "report/chart_plan.h"

#include <gtest/gtest.h>

#include <set>

#include "tests/report/fake_run.h"

namespace grpo::report {
namespace {

const Chart* find_chart(const std::vector<Section>& plan, const std::string& title) {
  for (const Section& s : plan)
    for (const Chart& c : s.charts)
      if (c.title == title) return &c;
  return nullptr;
}

std::vector<std::string> labels(const Chart& c) {
  std::vector<std::string> out;
  for (const Series& s : c.series) out.push_back(s.label);
  return out;
}

TEST(ChartPlanTest, WellKnownSectionsComeFirstThenTheRestAlphabetically) {
  auto plan = plan_charts({"zeta/x", "kl/mean", "alpha/y", "reward/mean", "optim/lr"});
  std::vector<std::string> keys;
  for (const Section& s : plan) keys.push_back(s.key);
  EXPECT_EQ(keys, (std::vector<std::string>{"reward", "kl", "optim", "alpha", "zeta"}));
  EXPECT_EQ(plan[0].title, "Reward");
}

TEST(ChartPlanTest, StatisticsOfOneMetricShareAChartWithAStdBand) {
  auto plan = plan_charts({"reward/max", "reward/mean", "reward/min", "reward/std"});
  ASSERT_EQ(plan.size(), 1u);
  ASSERT_EQ(plan[0].charts.size(), 1u);
  const Chart& c = plan[0].charts[0];
  EXPECT_EQ(c.title, "reward");
  EXPECT_EQ(labels(c), (std::vector<std::string>{"mean", "max", "min"}));
  EXPECT_EQ(c.band_mean, "reward/mean");
  EXPECT_EQ(c.band_std, "reward/std");
}

TEST(ChartPlanTest, ComponentsOverlayWithTheTotal) {
  auto plan = plan_charts({"reward/mean", "reward/accuracy/mean", "reward/accuracy/std", "reward/format/mean"});
  const Chart* overlay = find_chart(plan, "reward/*/mean");
  ASSERT_NE(overlay, nullptr);
  EXPECT_EQ(labels(*overlay), (std::vector<std::string>{"total", "accuracy", "format"}));
  // accuracy has a std too, so it keeps its own chart with a band; format is only in the overlay.
  const Chart* accuracy = find_chart(plan, "reward/accuracy");
  ASSERT_NE(accuracy, nullptr);
  EXPECT_EQ(accuracy->band_std, "reward/accuracy/std");
  EXPECT_EQ(find_chart(plan, "reward/format"), nullptr);
  // reward/mean alone is drawn as the overlay's total only; the overlay comes first.
  EXPECT_EQ(find_chart(plan, "reward"), nullptr);
  EXPECT_EQ(plan[0].charts[0].title, "reward/*/mean");
}

TEST(ChartPlanTest, StepTimeIsOneStackedChartUnderItsTotal) {
  auto plan = plan_charts({"time/rollout", "time/learner", "time/step", "time/learner/forward"});
  const Chart* stacked = find_chart(plan, "time/* (step-time breakdown, s)");
  ASSERT_NE(stacked, nullptr);
  EXPECT_EQ(stacked->kind, ChartKind::kStacked);
  EXPECT_EQ(labels(*stacked), (std::vector<std::string>{"learner", "rollout"}));
  EXPECT_EQ(stacked->total, "time/step");
  EXPECT_NE(find_chart(plan, "time/learner/forward"), nullptr);  // deeper names: ordinary charts
}

TEST(ChartPlanTest, ExpertLoadsBecomeOneHeatmapPerLayerInExpertOrder) {
  std::vector<std::string> names;
  for (int layer = 0; layer < 2; ++layer)
    for (int e = 0; e < 12; ++e)
      names.push_back("moe/layer" + std::to_string(layer) + "/expert" + std::to_string(e) + "/load");
  names.push_back("moe/layer1/bias_abs");
  auto plan = plan_charts(names);
  ASSERT_EQ(plan.size(), 1u);
  const Chart* l1 = find_chart(plan, "moe/layer1/expert*/load");
  ASSERT_NE(l1, nullptr);
  EXPECT_EQ(l1->kind, ChartKind::kHeatmap);
  ASSERT_EQ(l1->series.size(), 12u);
  EXPECT_EQ(l1->series[2].metric, "moe/layer1/expert2/load");  // numeric, not lexicographic, order
  EXPECT_EQ(l1->series[10].label, "expert 10");
  EXPECT_NE(find_chart(plan, "moe/layer1/bias_abs"), nullptr);
  EXPECT_EQ(plan[0].charts.size(), 3u);
}

TEST(ChartPlanTest, EveryMetricOfARealisticRunIsDrawnAndIdsAreUnique) {
  grpo::testing::FakeRunShape shape;
  std::vector<std::string> names;
  for (const auto& [name, value] : grpo::testing::fake_step(1, shape).metrics) names.push_back(name);
  std::set<std::string> drawn, ids;
  size_t charts = 0;
  for (const Section& s : plan_charts(names)) {
    for (const Chart& c : s.charts) {
      ++charts;
      ids.insert(c.id);
      for (const Series& x : c.series) drawn.insert(x.metric);
      for (const std::string& m : {c.band_mean, c.band_std, c.total})
        if (!m.empty()) drawn.insert(m);
    }
  }
  EXPECT_EQ(drawn, std::set<std::string>(names.begin(), names.end()));
  EXPECT_EQ(ids.size(), charts);
}

}  // namespace
}  // namespace grpo::report
