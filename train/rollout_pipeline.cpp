#include "train/rollout_pipeline.h"

#include <chrono>
#include <exception>
#include <future>

#include "core/wall_clock.h"

namespace grpo::train {
namespace {

using Clock = std::chrono::steady_clock;

}  // namespace

// A launched batch; the pipeline thread fills it, the trainer thread reads it after `done`.
struct RolloutPipeline::Batch {
  std::vector<rollout::GroupRequest> requests;
  int64_t version = 0;
  GroupSamplesFn group_samples;
  std::vector<rollout::GroupResult> results;
  std::vector<std::vector<rewards::Sample>> samples;                          // per group
  std::vector<std::future<std::vector<rewards::ScoredSample>>> scores;        // per group, with overlap
  double generate_s = 0;
  std::exception_ptr error;
  bool done = false;  // GUARDED_BY(mu_)
};

RolloutPipeline::RolloutPipeline(RolloutBackend& backend, rewards::RewardPool& rewards, bool overlap_rewards)
    : backend_(backend), rewards_(rewards), overlap_rewards_(overlap_rewards), thread_([this] { run(); }) {}

RolloutPipeline::~RolloutPipeline() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

RolloutPipeline::Ticket RolloutPipeline::launch(std::vector<rollout::GroupRequest> requests, int64_t version,
                                                GroupSamplesFn group_samples) {
  auto b = std::make_shared<Batch>();
  b->requests = std::move(requests);
  b->version = version;
  b->group_samples = std::move(group_samples);
  {
    std::lock_guard<std::mutex> lock(mu_);
    queue_.push_back(b);
  }
  cv_.notify_all();
  return b;
}

void RolloutPipeline::run() {
  std::unique_lock<std::mutex> lock(mu_);
  while (true) {
    cv_.wait(lock, [&] { return stop_ || !queue_.empty(); });
    if (stop_) return;
    Ticket b = queue_.front();
    queue_.pop_front();
    lock.unlock();
    auto t0 = Clock::now();
    try {
      b->samples.resize(b->requests.size());
      b->scores.resize(b->requests.size());
      auto on_group_done = [&](size_t g, const rollout::GroupResult& r) {
        b->samples[g] = b->group_samples(g, r);
        if (overlap_rewards_) b->scores[g] = rewards_.score_async(b->samples[g]);
      };
      b->results = backend_.generate(b->requests, b->version, on_group_done);
    } catch (...) {
      b->error = std::current_exception();
    }
    b->generate_s = seconds_since(t0);
    lock.lock();
    b->done = true;
    cv_.notify_all();
  }
}

ScoredBatch RolloutPipeline::wait(const Ticket& b) {
  ScoredBatch out;
  auto t0 = Clock::now();
  {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [&] { return b->done; });
  }
  out.wait_generate_s = seconds_since(t0);
  if (b->error) std::rethrow_exception(b->error);
  t0 = Clock::now();
  out.results = std::move(b->results);
  out.generate_s = b->generate_s;
  for (const auto& group : b->samples) out.samples.insert(out.samples.end(), group.begin(), group.end());
  if (overlap_rewards_) {
    for (auto& f : b->scores) {
      auto part = f.get();
      out.scored.insert(out.scored.end(), part.begin(), part.end());
    }
  } else {
    out.scored = rewards_.score(out.samples);
  }
  out.wait_reward_s = seconds_since(t0);
  return out;
}

}  // namespace grpo::train
