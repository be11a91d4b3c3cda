#include "core/thread_pool.h"

#include <gtest/gtest.h>

#include <atomic>
#include <stdexcept>

namespace grpo {
namespace {

TEST(ThreadPoolTest, RunsEveryTaskAndReturnsResults) {
  ThreadPool pool(3);
  std::vector<std::future<int>> results;
  for (int i = 0; i < 100; ++i) results.push_back(pool.submit([i] { return i * i; }));
  for (int i = 0; i < 100; ++i) EXPECT_EQ(results[i].get(), i * i);
}

TEST(ThreadPoolTest, ExceptionsReachTheCaller) {
  ThreadPool pool(1);
  auto f = pool.submit([]() -> int { throw std::runtime_error("boom"); });
  EXPECT_THROW(f.get(), std::runtime_error);
}

TEST(ThreadPoolTest, DestructorFinishesQueuedTasks) {
  std::atomic<int> done{0};
  {
    ThreadPool pool(2);
    for (int i = 0; i < 50; ++i) pool.submit([&done] { done++; });
  }
  EXPECT_EQ(done.load(), 50);
}

TEST(ThreadPoolTest, ZeroMeansAvailableCores) {
  ThreadPool pool(0);
  EXPECT_EQ(static_cast<int>(pool.size()), available_cores());
}

}  // namespace
}  // namespace grpo
