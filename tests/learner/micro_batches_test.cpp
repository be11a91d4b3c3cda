// Token-budget micro-batching: every sequence once, budget respected, padding minimal.
#include "learner/micro_batches.h"

#include <algorithm>
#include <random>

#include <gtest/gtest.h>

namespace grpo::learner {
namespace {

TEST(MicroBatchesTest, HeaderExample) {
  auto plan = plan_micro_batches({12, 40, 7, 39}, 96, true);
  std::vector<std::vector<int64_t>> want = {{1, 3}, {0, 2}};
  EXPECT_EQ(plan, want);
  EXPECT_EQ(padded_tokens({12, 40, 7, 39}, plan), 80 + 24);
}

TEST(MicroBatchesTest, EverySequenceOnceAndBudgetKept) {
  std::mt19937 rng(7);
  std::uniform_int_distribution<int64_t> len(1, 300);
  std::vector<int64_t> lengths(200);
  for (auto& l : lengths) l = len(rng);
  const int64_t budget = 1024;
  auto plan = plan_micro_batches(lengths, budget, true);
  std::vector<int64_t> seen;
  for (const auto& mb : plan) {
    int64_t longest = 0;
    for (int64_t i : mb) longest = std::max(longest, lengths[i]);
    EXPECT_LE(longest * static_cast<int64_t>(mb.size()), budget);
    seen.insert(seen.end(), mb.begin(), mb.end());
  }
  std::sort(seen.begin(), seen.end());
  for (int64_t i = 0; i < 200; ++i) EXPECT_EQ(seen[i], i);
  // Sorting keeps padding well under unsorted packing of the same budget.
  int64_t real = 0;
  for (auto l : lengths) real += l;
  const double sorted_waste = 1.0 - double(real) / double(padded_tokens(lengths, plan));
  const double unsorted_waste = 1.0 - double(real) / double(padded_tokens(lengths, plan_micro_batches(lengths, budget, false)));
  EXPECT_LT(sorted_waste, 0.05);
  EXPECT_LT(sorted_waste, unsorted_waste);
}

TEST(MicroBatchesTest, OverlongSequenceGetsItsOwnMicroBatch) {
  auto plan = plan_micro_batches({5000, 10, 10}, 100, true);
  ASSERT_EQ(plan.size(), 2u);
  EXPECT_EQ(plan[0], std::vector<int64_t>{0});
  EXPECT_EQ(plan[1], (std::vector<int64_t>{1, 2}));
}

}  // namespace
}  // namespace grpo::learner
