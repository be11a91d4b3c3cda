// RolloutPipeline with a scripted backend: batches run in launch order with
// the version they were launched with, groups reported out of order are
// scored as they finish and come back in request order, scores equal those
// of scoring the batch after generation, generation errors reach wait().
#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "core/error.h"
#include "train/rollout_pipeline.h"

namespace grpo::train {
namespace {

// Completes group i with G texts "x" * (i + j); reports groups last to first.
class ScriptedBackend : public RolloutBackend {
 public:
  void publish(int64_t) override {}
  std::vector<rollout::GroupResult> generate(const std::vector<rollout::GroupRequest>& requests, int64_t version,
                                             const rollout::GroupDoneFn& on_group_done) override {
    versions.push_back(version);
    if (fail) throw Error("scripted failure");
    std::vector<rollout::GroupResult> out(requests.size());
    for (size_t k = requests.size(); k-- > 0;) {
      out[k].id = requests[k].id;
      out[k].weight_version = version;
      for (int j = 0; j < requests[k].n; ++j) {
        rollout::Completion c;
        c.text = std::string(static_cast<size_t>(requests[k].id + j), 'x');
        out[k].completions.push_back(c);
      }
      if (on_group_done) on_group_done(k, out[k]);
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    return out;
  }
  std::string describe() const override { return "scripted"; }

  std::vector<int64_t> versions;
  bool fail = false;
};

// Length of the completion plus the prompt's number, so a mix-up of samples shows.
class PromptAndLengthReward : public rewards::Reward {
 public:
  rewards::RewardResult score(const rewards::Sample& s) const override {
    return rewards::RewardResult::of(static_cast<double>(s.completion.size()) + 100.0 * std::stod(s.prompt));
  }
};

std::vector<rollout::GroupRequest> requests(int groups, int n) {
  std::vector<rollout::GroupRequest> out(static_cast<size_t>(groups));
  for (int i = 0; i < groups; ++i) {
    out[static_cast<size_t>(i)].id = i;
    out[static_cast<size_t>(i)].n = n;
  }
  return out;
}

GroupSamplesFn samples_fn() {
  return [](size_t g, const rollout::GroupResult& r) {
    std::vector<rewards::Sample> out;
    for (const auto& c : r.completions) {
      rewards::Sample s;
      s.prompt = std::to_string(g);
      s.completion = c.text;
      out.push_back(s);
    }
    return out;
  };
}

std::unique_ptr<rewards::RewardPool> pool() {
  return std::make_unique<rewards::RewardPool>(
      std::vector<rewards::RewardComponent>{{"len", 1.0, 30.0, std::make_shared<PromptAndLengthReward>()}}, 2);
}

std::vector<double> totals(const ScoredBatch& b) {
  std::vector<double> out;
  for (const auto& s : b.scored) out.push_back(s.total);
  return out;
}

TEST(RolloutPipelineTest, OverlappedScoresEqualScoresAfterGenerationInRequestOrder) {
  ScriptedBackend backend;
  auto rewards_a = pool();
  auto rewards_b = pool();
  RolloutPipeline overlapped(backend, *rewards_a, /*overlap_rewards=*/true);
  RolloutPipeline after(backend, *rewards_b, /*overlap_rewards=*/false);
  ScoredBatch a = overlapped.wait(overlapped.launch(requests(5, 3), 7, samples_fn()));
  ScoredBatch b = after.wait(after.launch(requests(5, 3), 7, samples_fn()));
  ASSERT_EQ(a.scored.size(), 15u);
  EXPECT_EQ(totals(a), totals(b));
  for (size_t g = 0; g < 5; ++g) {
    EXPECT_EQ(a.results[g].id, static_cast<int64_t>(g));
    for (size_t j = 0; j < 3; ++j) {
      EXPECT_EQ(a.samples[g * 3 + j].prompt, std::to_string(g));
      EXPECT_DOUBLE_EQ(a.scored[g * 3 + j].total, 100.0 * g + g + j);
    }
  }
}

TEST(RolloutPipelineTest, BatchesRunInLaunchOrderWithTheirVersions) {
  ScriptedBackend backend;
  auto rewards = pool();
  RolloutPipeline pipe(backend, *rewards, true);
  auto t1 = pipe.launch(requests(2, 2), 3, samples_fn());
  auto t2 = pipe.launch(requests(2, 2), 3, samples_fn());
  auto t3 = pipe.launch(requests(2, 2), 5, samples_fn());
  EXPECT_EQ(pipe.wait(t3).results[0].weight_version, 5);
  EXPECT_EQ(pipe.wait(t1).results[1].weight_version, 3);
  EXPECT_EQ(pipe.wait(t2).scored.size(), 4u);
  EXPECT_EQ(backend.versions, (std::vector<int64_t>{3, 3, 5}));
}

TEST(RolloutPipelineTest, GenerationErrorReachesWait) {
  ScriptedBackend backend;
  backend.fail = true;
  auto rewards = pool();
  RolloutPipeline pipe(backend, *rewards, true);
  auto t = pipe.launch(requests(2, 2), 0, samples_fn());
  EXPECT_THROW(pipe.wait(t), Error);
}

}  // namespace
}  // namespace grpo::train
