// Tests of the reward pool: weighted totals with every component kept, and a
// failing or timed-out reward scoring 0 with an error while the rest go on.
#include <gtest/gtest.h>

#include <future>

#include "core/error.h"
#include "rewards/reward_pool.h"

namespace grpo::rewards {
namespace {

class ConstantReward : public Reward {
 public:
  explicit ConstantReward(double v) : v_(v) {}
  RewardResult score(const Sample&) const override { return RewardResult::of(v_); }

 private:
  double v_;
};

class LengthOfCompletion : public Reward {
 public:
  RewardResult score(const Sample& s) const override { return RewardResult::of(static_cast<double>(s.completion.size())); }
};

class ThrowingReward : public Reward {
 public:
  RewardResult score(const Sample& s) const override {
    if (s.completion == "boom") throw std::runtime_error("kaboom");
    if (s.completion == "nan") return RewardResult::of(std::nan(""));
    if (s.completion == "none") return RewardResult::none();
    return RewardResult::of(1.0);
  }
};

// Blocks on "hang" until the test releases it (after the pool has given up).
class HangingReward : public Reward {
 public:
  explicit HangingReward(std::shared_future<void> release) : release_(std::move(release)) {}
  RewardResult score(const Sample& s) const override {
    if (s.completion == "hang") release_.wait();
    return RewardResult::of(1.0);
  }

 private:
  std::shared_future<void> release_;
};

std::vector<Sample> samples_of(std::vector<std::string> completions) {
  std::vector<Sample> out;
  for (auto& c : completions) {
    Sample s;
    s.completion = c;
    out.push_back(s);
  }
  return out;
}

RewardComponent component(std::string name, double weight, std::shared_ptr<const Reward> r, double timeout_s = 30) {
  return RewardComponent{std::move(name), weight, timeout_s, std::move(r)};
}

TEST(RewardPoolTest, WeightedTotalKeepsEveryComponent) {
  std::vector<RewardComponent> comps;
  comps.push_back(component("const", 0.5, std::make_shared<ConstantReward>(2.0)));
  comps.push_back(component("len", 2.0, std::make_shared<LengthOfCompletion>()));
  RewardPool pool(std::move(comps), 2);
  auto out = pool.score(samples_of({"ab", "abcd", ""}));
  ASSERT_EQ(out.size(), 3u);
  EXPECT_EQ(pool.names(), (std::vector<std::string>{"const", "len"}));
  EXPECT_DOUBLE_EQ(out[0].total, 0.5 * 2 + 2 * 2);
  EXPECT_DOUBLE_EQ(out[1].total, 0.5 * 2 + 2 * 4);
  EXPECT_DOUBLE_EQ(out[2].components[1].score, 0.0);
  EXPECT_DOUBLE_EQ(out[2].components[0].score, 2.0);
}

TEST(RewardPoolTest, ThrowingAndNonFiniteScoreZeroWithError) {
  std::vector<RewardComponent> comps;
  comps.push_back(component("flaky", 1.0, std::make_shared<ThrowingReward>()));
  comps.push_back(component("one", 1.0, std::make_shared<ConstantReward>(1.0)));
  RewardPool pool(std::move(comps), 2);
  auto out = pool.score(samples_of({"ok", "boom", "nan", "none"}));
  EXPECT_DOUBLE_EQ(out[0].total, 2.0);
  EXPECT_DOUBLE_EQ(out[1].total, 1.0);
  EXPECT_NE(out[1].components[0].error.find("kaboom"), std::string::npos);
  EXPECT_EQ(out[2].components[0].error, "non-finite score");
  EXPECT_DOUBLE_EQ(out[2].total, 1.0);
  EXPECT_FALSE(out[3].components[0].has_score);
  EXPECT_TRUE(out[3].components[0].error.empty());
  EXPECT_DOUBLE_EQ(out[3].total, 1.0);
  EXPECT_EQ(pool.error_counts(), (std::vector<int64_t>{2, 0}));
}

TEST(RewardPoolTest, TimedOutSampleScoresZeroAndLateResultIsDropped) {
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  std::vector<RewardComponent> comps;
  comps.push_back(component("hang", 1.0, std::make_shared<HangingReward>(released), /*timeout_s=*/0.2));
  RewardPool pool(std::move(comps), 2);
  auto out = pool.score(samples_of({"fine", "hang", "fine"}));
  EXPECT_DOUBLE_EQ(out[0].total, 1.0);
  EXPECT_DOUBLE_EQ(out[1].total, 0.0);
  EXPECT_EQ(out[1].components[0].error, "timeout after 0.2 s");
  EXPECT_DOUBLE_EQ(out[2].total, 1.0);
  EXPECT_EQ(pool.stuck_threads(), 1);
  // The next call still works on the remaining thread.
  auto again = pool.score(samples_of({"fine"}));
  EXPECT_DOUBLE_EQ(again[0].total, 1.0);
  release.set_value();
}

TEST(RewardPoolTest, ExhaustedPoolFailsQueuedTasksInsteadOfWaiting) {
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  std::vector<RewardComponent> comps;
  comps.push_back(component("hang", 1.0, std::make_shared<HangingReward>(released), 0.1));
  RewardPool pool(std::move(comps), 1);
  auto out = pool.score(samples_of({"hang", "fine"}));
  EXPECT_EQ(out[0].components[0].error, "timeout after 0.1 s");
  EXPECT_NE(out[1].components[0].error.find("reward pool exhausted"), std::string::npos) << out[1].components[0].error;
  release.set_value();
}

TEST(RewardPoolTest, AsyncScoringMatchesSync) {
  std::vector<RewardComponent> comps;
  comps.push_back(component("len", 1.0, std::make_shared<LengthOfCompletion>()));
  RewardPool pool(std::move(comps), 2);
  auto fut = pool.score_async(samples_of({"abc"}));
  EXPECT_DOUBLE_EQ(fut.get()[0].total, 3.0);
}

TEST(RewardPoolTest, BuildsFromSpecsAndRejectsDuplicateNames) {
  RewardSpec math;
  math.type = "math";
  RewardSpec format;
  format.type = "format";
  format.weight = 0.5;
  RewardPool pool({math, format}, 1);
  Sample s;
  s.completion = "<think>x</think><answer>\\boxed{3}</answer>";
  s.row = {{"answer", "3"}};
  auto out = pool.score({s});
  EXPECT_DOUBLE_EQ(out[0].total, 1.5);
  EXPECT_THROW(RewardPool({math, math}, 1), ConfigError);
}

}  // namespace
}  // namespace grpo::rewards
