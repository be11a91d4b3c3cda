// reward_pool.h: scores batches of samples with every reward of a recipe, in
// a thread pool, and forms the weighted total. Every component is kept (for
// metrics and the run store). A reward that throws, returns a non-finite
// score, or exceeds its time limit scores 0 for that sample and the result
// carries the error; the pool never throws for a reward's failure.
//
//   RewardPool pool(recipe.rewards);              // builds each reward from the registry
//   std::vector<ScoredSample> out = pool.score(samples);
//   out[i].total, out[i].components[k].score     // k indexes pool.names()
//   auto later = pool.score_async(samples);      // overlap with generation
//
// How the time limit works (no signals, no killing threads): each reward call
// (one sample, or one batch for rewards that prefer batches) runs as a task on
// the pool. The waiter measures RewardSpec::timeout_s from the moment the task
// starts running; when it passes, the sample(s) score 0 with error "timeout
// after N s" and the task is abandoned: it keeps its thread until it returns
// by itself, and its late result is discarded. A C++ thread cannot be killed,
// so a reward that never returns holds a thread forever; once every thread is
// held by an abandoned task, queued tasks fail at once with "reward pool
// exhausted" instead of waiting. Rewards that run untrusted or slow work
// (command, code) enforce their own limits on their child processes so that
// their threads do come back. The destructor waits for running tasks.
//
// Thread-safe: score() may be called from several threads.
#pragma once

#include <atomic>
#include <future>
#include <memory>
#include <string>
#include <vector>

#include "core/thread_pool.h"
#include "rewards/reward.h"
#include "rewards/reward_spec.h"

namespace grpo::rewards {

// One reward of the pool, with its place in the total.
struct RewardComponent {
  std::string name;        // column name in metrics; unique within a pool
  double weight = 1.0;     // factor in the total
  double timeout_s = 30.0; // time limit per task (see above)
  std::shared_ptr<const Reward> reward;
};

// The grade of one sample by every component.
struct ScoredSample {
  double total = 0.0;                      // sum of weight * score (no-score counts 0)
  std::vector<RewardResult> components;    // same order as RewardPool::names()
};

class RewardPool {
 public:
  // threads == 0: one per available core.
  explicit RewardPool(const std::vector<RewardSpec>& specs, size_t threads = 0);
  explicit RewardPool(std::vector<RewardComponent> components, size_t threads = 0);
  ~RewardPool();

  // Grades every sample with every component; blocks until all are graded or timed out.
  std::vector<ScoredSample> score(const std::vector<Sample>& samples);
  // The same on a helper thread; `samples` is copied.
  std::future<std::vector<ScoredSample>> score_async(std::vector<Sample> samples);

  std::vector<std::string> names() const;
  const std::vector<RewardComponent>& components() const { return components_; }
  // Failed results (throw, timeout, bad score) seen per component since construction.
  std::vector<int64_t> error_counts() const;
  // Tasks that timed out and still hold a thread.
  int stuck_threads() const { return stuck_->load(); }

 private:
  struct Call;
  std::shared_ptr<Call> submit_component(size_t k, const std::vector<Sample>& samples);
  void collect_component(size_t k, Call& call, std::vector<ScoredSample>& out);

  std::vector<RewardComponent> components_;
  std::unique_ptr<std::atomic<int64_t>[]> errors_;
  std::shared_ptr<std::atomic<int>> stuck_;  // shared with tasks that outlive a call
  ThreadPool pool_;
};

}  // namespace grpo::rewards
