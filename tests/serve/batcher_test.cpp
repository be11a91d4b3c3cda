// The batcher runs every waiting job in one engine call, returns each job its
// own results (equal to generating it alone), streams tokens that add up to
// the final completion, and survives a batch the engine rejects.
#include "serve/batcher.h"

#include <gtest/gtest.h>

#include "core/error.h"
#include "policies/causal_lm.h"

namespace grpo::serve {
namespace {

std::shared_ptr<policies::CausalLM> tiny_model() {
  auto model = policies::CausalLM::create(policies::ModelConfig::preset("qwen2", "tiny"), /*seed=*/3);
  model->eval();
  return model;
}

rollout::GroupRequest request(std::vector<int64_t> prompt, int n, int max_new, double temperature = 0.0) {
  rollout::GroupRequest r;
  r.prompt_ids = std::move(prompt);
  r.n = n;
  r.params.temperature = temperature;
  r.params.max_new_tokens = max_new;
  r.params.seed = 17;
  return r;
}

TEST(BatcherTest, WaitingJobsShareOneEngineCallAndGetTheirOwnResults) {
  auto model = tiny_model();
  rollout::Engine engine(model, {});
  std::vector<std::vector<rollout::GroupRequest>> work = {
      {request({5, 6, 7}, 1, 6)}, {request({9, 1}, 2, 4), request({3}, 1, 5)}, {request({8, 8, 8, 8}, 3, 7, /*temperature=*/0.9)}};
  Batcher batcher(engine, /*start=*/false);
  std::vector<std::shared_ptr<Job>> jobs;
  for (const auto& groups : work) {
    jobs.push_back(std::make_shared<Job>(groups));
    batcher.submit(jobs.back());
  }
  batcher.start();
  for (size_t i = 0; i < jobs.size(); ++i) {
    auto results = jobs[i]->wait_result();
    rollout::Engine alone_engine(model, {});
    auto alone = alone_engine.generate(work[i]);
    ASSERT_EQ(results.size(), alone.size());
    for (size_t g = 0; g < alone.size(); ++g) {
      ASSERT_EQ(results[g].completions.size(), alone[g].completions.size());
      for (size_t j = 0; j < alone[g].completions.size(); ++j)
        EXPECT_EQ(results[g].completions[j].ids, alone[g].completions[j].ids) << "job " << i << " group " << g << " completion " << j;
    }
  }
  BatcherStats stats = batcher.stats();
  EXPECT_EQ(stats.batches, 1);
  EXPECT_EQ(stats.max_batch_jobs, 3);
  EXPECT_EQ(stats.jobs, 3);
}

TEST(BatcherTest, StreamedTokensAddUpToEachFinalCompletion) {
  rollout::Engine engine(tiny_model(), {});
  Batcher batcher(engine);
  auto job = std::make_shared<Job>(std::vector<rollout::GroupRequest>{request({4, 2}, 2, 6, 1.0)}, /*stream=*/true);
  batcher.submit(job);
  std::vector<std::vector<int64_t>> streamed(2);
  std::vector<int> finished(2, 0);
  for (auto events = job->next_events(); !events.empty(); events = job->next_events()) {
    for (const JobEvent& e : events) {
      ASSERT_EQ(finished[e.index], 0) << "an event after the completion finished";
      if (e.finished) {
        finished[e.index]++;
        // Without stop strings the final ids are the streamed ones plus the token that ended it.
        streamed[e.index].push_back(e.finished->ids.back());
        EXPECT_EQ(streamed[e.index], e.finished->ids);
      } else {
        streamed[e.index].push_back(e.token);
      }
    }
  }
  EXPECT_EQ(finished, (std::vector<int>{1, 1}));
  auto results = job->wait_result();
  EXPECT_EQ(results[0].completions[1].ids, streamed[1]);
}

TEST(BatcherTest, ARejectedBatchFailsItsJobsAndTheNextBatchRuns) {
  rollout::EngineOptions small;
  small.kv_budget_tokens = 16;  // holds one sequence of 16 tokens at most
  rollout::Engine engine(tiny_model(), small);
  Batcher batcher(engine);
  auto too_long = std::make_shared<Job>(std::vector<rollout::GroupRequest>{request({1, 2, 3}, 1, 20)});
  batcher.submit(too_long);
  try {
    too_long->wait_result();
    FAIL() << "the engine accepted a sequence beyond its KV budget";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("kv_budget_tokens"), std::string::npos) << e.what();
  }
  auto fine = std::make_shared<Job>(std::vector<rollout::GroupRequest>{request({1, 2, 3}, 1, 4)});
  batcher.submit(fine);
  EXPECT_EQ(fine->wait_result()[0].completions[0].ids.size(), 4u);
}

}  // namespace
}  // namespace grpo::serve
