// parallel_phases: every item of every phase once, each phase after the whole
// previous one (the barrier), on both threads, chunks of at least the grain,
// serial when nested, an error ends the run after its phase and is rethrown.
#include <gtest/gtest.h>

#include <ATen/Parallel.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <mutex>
#include <set>
#include <stdexcept>
#include <thread>
#include <utility>
#include <vector>

#include "core/parallel_for.h"
#include "core/parallel_phases.h"
#include "tests/support/intra_op_threads.h"

namespace grpo {
namespace {

// Two intra-op threads for each test.
class ParallelPhasesTest : public ::testing::Test {
  testing::IntraOpThreads two_{2};
};

TEST_F(ParallelPhasesTest, EachPhaseSeesEveryItemOfThePreviousOneDone) {
  constexpr int64_t n = 64;
  std::vector<std::atomic<int>> a(n), b(n), c(n);
  std::vector<ParallelPhase> phases;
  // The first half of the first phase is slow: without a barrier the thread
  // with the fast half would read those items before they are written.
  phases.push_back({n, 1, [&](int64_t begin, int64_t end) {
                      for (int64_t i = begin; i < end; ++i) {
                        if (i < n / 2) std::this_thread::sleep_for(std::chrono::microseconds(200));
                        a[i] += static_cast<int>(i) + 1;
                      }
                    }});
  phases.push_back({n, 1, [&](int64_t begin, int64_t end) {
                      for (int64_t i = begin; i < end; ++i) b[i] += a[n - 1 - i] * 2;
                    }});
  phases.push_back({n, 1, [&](int64_t begin, int64_t end) {
                      for (int64_t i = begin; i < end; ++i) c[i] += b[n - 1 - i] + 1;
                    }});
  for (int rep = 0; rep < 3; ++rep) {
    for (int64_t i = 0; i < n; ++i) a[i] = b[i] = c[i] = 0;
    parallel_phases(phases);
    for (int64_t i = 0; i < n; ++i) {
      EXPECT_EQ(a[i], i + 1) << "item " << i << " run " << a[i] / (i + 1) << " times";
      EXPECT_EQ(b[i], 2 * (n - i)) << i;
      EXPECT_EQ(c[i], 2 * (i + 1) + 1) << i;
    }
  }
}

TEST_F(ParallelPhasesTest, BothThreadsTakeChunksOfAtLeastTheGrain) {
  std::set<std::thread::id> ids;
  std::set<int> numbers;
  std::vector<std::pair<int64_t, int64_t>> ranges;
  std::mutex m;
  std::vector<ParallelPhase> phases = {{1000, 30, [&](int64_t begin, int64_t end) {
                                          std::this_thread::sleep_for(std::chrono::microseconds(500));
                                          std::lock_guard<std::mutex> lock(m);
                                          ids.insert(std::this_thread::get_id());
                                          numbers.insert(at::get_thread_num());
                                          ranges.emplace_back(begin, end);
                                        }}};
  parallel_phases(phases);
  EXPECT_EQ(ids.size(), 2u);
  EXPECT_EQ(numbers, (std::set<int>{0, 1}));
  std::sort(ranges.begin(), ranges.end());
  int64_t next = 0;
  for (size_t r = 0; r < ranges.size(); ++r) {
    EXPECT_EQ(ranges[r].first, next);
    if (r + 1 < ranges.size()) EXPECT_GE(ranges[r].second - ranges[r].first, 30);
    next = ranges[r].second;
  }
  EXPECT_EQ(next, 1000);
  EXPECT_GT(ranges.size(), 2u) << "more chunks than threads, so a slow thread hands over its last ones";
}

TEST_F(ParallelPhasesTest, InsideAParallelRegionOrOnOneThreadTheCallerRunsEverything) {
  std::mutex m;
  int items = 0;
  parallel_for(0, 2, 1, [&](int64_t, int64_t) {
    const std::thread::id outer = std::this_thread::get_id();
    std::vector<ParallelPhase> phases(2, ParallelPhase{50, 1, [&](int64_t begin, int64_t end) {
                                                         std::lock_guard<std::mutex> lock(m);
                                                         EXPECT_EQ(std::this_thread::get_id(), outer);
                                                         items += static_cast<int>(end - begin);
                                                       }});
    parallel_phases(phases);
  });
  EXPECT_EQ(items, 200);
  const testing::IntraOpThreads one(1);
  std::set<std::thread::id> ids;
  parallel_phases({{100, 1, [&](int64_t, int64_t) { ids.insert(std::this_thread::get_id()); }}});
  EXPECT_EQ(ids, std::set<std::thread::id>{std::this_thread::get_id()});
}

TEST_F(ParallelPhasesTest, AnErrorEndsTheRunAfterItsPhaseAndIsRethrown) {
  std::atomic<int> first{0}, third{0};
  std::vector<ParallelPhase> phases = {
      {100, 1, [&](int64_t begin, int64_t end) { first += static_cast<int>(end - begin); }},
      {100, 1,
       [&](int64_t begin, int64_t end) {
         if (begin <= 42 && 42 < end) throw std::runtime_error("item 42 failed");
       }},
      {100, 1, [&](int64_t begin, int64_t end) { third += static_cast<int>(end - begin); }},
  };
  try {
    parallel_phases(phases);
    FAIL() << "no error";
  } catch (const std::runtime_error& e) {
    EXPECT_EQ(std::string(e.what()), "item 42 failed");
  }
  EXPECT_EQ(first, 100);
  EXPECT_EQ(third, 0);
}

}  // namespace
}  // namespace grpo
