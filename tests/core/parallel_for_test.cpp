// parallel_for: every index once, in ranges of at least the grain, on more
// than one of LibTorch's threads (at::parallel_for compiled in this project
// ran all of them on the caller), serial when nested, errors rethrown.
#include <gtest/gtest.h>

#include <ATen/Parallel.h>

#include <algorithm>
#include <mutex>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "core/parallel_for.h"
#include "tests/support/intra_op_threads.h"

namespace grpo {
namespace {

// Two intra-op threads for each test.
class ParallelForTest : public ::testing::Test {
  testing::IntraOpThreads two_{2};
};

TEST_F(ParallelForTest, CoversEveryIndexOnceInRangesOfAtLeastTheGrain) {
  for (auto [n, grain] : std::vector<std::pair<int64_t, int64_t>>{{1, 1}, {2, 1}, {7, 3}, {100, 1}, {1000, 64}, {1001, 1000}}) {
    std::vector<int> hits(n, 0);
    std::vector<std::pair<int64_t, int64_t>> ranges;
    std::mutex m;
    parallel_for(5, 5 + n, grain, [&](int64_t b, int64_t e) {
      std::lock_guard<std::mutex> lock(m);
      ranges.emplace_back(b, e);
      for (int64_t i = b; i < e; ++i) ++hits[i - 5];
    });
    EXPECT_EQ(std::count(hits.begin(), hits.end(), 1), n) << n << " items, grain " << grain;
    std::sort(ranges.begin(), ranges.end());
    for (size_t r = 0; r + 1 < ranges.size(); ++r) EXPECT_GE(ranges[r].second - ranges[r].first, grain);
    EXPECT_LE(static_cast<int64_t>(ranges.size()), std::max<int64_t>(1, std::min<int64_t>(2, n / std::max<int64_t>(grain, 1))));
  }
}

TEST_F(ParallelForTest, RunsOnTwoThreadsWithTheirThreadNumbers) {
  std::set<std::thread::id> ids;
  std::set<int> numbers;
  std::mutex m;
  parallel_for(0, 1000, 1, [&](int64_t, int64_t) {
    std::lock_guard<std::mutex> lock(m);
    ids.insert(std::this_thread::get_id());
    numbers.insert(at::get_thread_num());
  });
  EXPECT_EQ(ids.size(), 2u);
  EXPECT_EQ(numbers, (std::set<int>{0, 1}));
}

TEST_F(ParallelForTest, SmallRangesAndNestedCallsRunOnTheCallingThread) {
  std::vector<std::thread::id> small;
  parallel_for(0, 10, 10, [&](int64_t b, int64_t e) {
    EXPECT_EQ(b, 0);
    EXPECT_EQ(e, 10);
    small.push_back(std::this_thread::get_id());
  });
  EXPECT_EQ(small, std::vector<std::thread::id>{std::this_thread::get_id()});
  std::mutex m;
  int inner_calls = 0;
  parallel_for(0, 2, 1, [&](int64_t, int64_t) {
    const std::thread::id outer = std::this_thread::get_id();
    parallel_for(0, 100, 1, [&](int64_t b, int64_t e) {
      std::lock_guard<std::mutex> lock(m);
      EXPECT_EQ(std::this_thread::get_id(), outer);
      EXPECT_EQ(e - b, 100);
      ++inner_calls;
    });
  });
  EXPECT_EQ(inner_calls, 2);
}

TEST_F(ParallelForTest, RethrowsTheFirstErrorToTheCaller) {
  try {
    parallel_for(0, 100, 1, [](int64_t b, int64_t) {
      if (b > 0) throw std::runtime_error("range from " + std::to_string(b));
    });
    FAIL() << "no error";
  } catch (const std::runtime_error& e) {
    EXPECT_EQ(std::string(e.what()), "range from 50");
  }
}

}  // namespace
}  // namespace grpo
