// rollout_pipeline.h: generation batches run one after another on a
// background thread, in launch order, each with the weights version it was
// launched with, while the trainer thread does other work (trains on an
// earlier batch in async mode). With overlap_rewards every group goes to the
// reward pool the moment its generation ends, so scoring hides behind the
// generation of the other groups; without it the whole batch is scored once
// generation is over. The scores are the same either way: every sample is
// graded by the same rewards, only the calls are grouped differently.
//
//   RolloutPipeline pipe(*backend, *rewards, /*overlap_rewards=*/true);
//   auto ticket = pipe.launch(requests, version, group_samples);   // returns at once
//   ...                                                            // e.g. a learner update
//   ScoredBatch b = pipe.wait(ticket);   // results, samples, scores in request order
//
// Launch and wait from one thread (the trainer's). The destructor lets the
// running batch finish and drops the queued ones.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "rewards/reward_pool.h"
#include "rollout/generation_types.h"
#include "train/rollout_backend.h"

namespace grpo::train {

// The reward samples of one finished group (`group` indexes the batch's requests).
using GroupSamplesFn = std::function<std::vector<rewards::Sample>(size_t group, const rollout::GroupResult& result)>;

// One generated and scored batch, as the trainer thread receives it.
struct ScoredBatch {
  std::vector<rollout::GroupResult> results;  // request order
  std::vector<rewards::Sample> samples;       // one per completion, groups contiguous, request order
  std::vector<rewards::ScoredSample> scored;  // same order as samples
  double generate_s = 0;     // wall time of the generation itself (on the pipeline thread)
  double wait_generate_s = 0; // trainer blocked until generation ended
  double wait_reward_s = 0;   // trainer blocked on scores after that (what overlap did not hide)
};

class RolloutPipeline {
 public:
  RolloutPipeline(RolloutBackend& backend, rewards::RewardPool& rewards, bool overlap_rewards);
  ~RolloutPipeline();
  RolloutPipeline(const RolloutPipeline&) = delete;
  RolloutPipeline& operator=(const RolloutPipeline&) = delete;

  struct Batch;
  using Ticket = std::shared_ptr<Batch>;

  // Queues a batch to generate with weights `version`; versions must not decrease from launch to launch.
  Ticket launch(std::vector<rollout::GroupRequest> requests, int64_t version, GroupSamplesFn group_samples);
  // Blocks until the batch is generated and scored; rethrows a generation error.
  ScoredBatch wait(const Ticket& ticket);

 private:
  void run();

  RolloutBackend& backend_;
  rewards::RewardPool& rewards_;
  bool overlap_rewards_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Ticket> queue_;
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace grpo::train
