// reward_pool.cpp: see reward_pool.h for the time-limit design.
#include "rewards/reward_pool.h"

#include <chrono>
#include <cmath>
#include <condition_variable>
#include <mutex>
#include <set>

#include "core/error.h"
#include "core/log.h"
#include "rewards/reward_registry.h"

namespace grpo::rewards {

namespace {

using Clock = std::chrono::steady_clock;

// How often a waiter re-checks a task that is still queued (whether every
// thread has meanwhile been lost to abandoned tasks). Not a synchronisation
// device: progress is signalled through the condition variable.
constexpr auto kQueuedRecheck = std::chrono::milliseconds(50);

std::string format_seconds(double s) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", s);
  return buf;
}

}  // namespace

// The state one component's tasks of one score() call share with the waiter.
// Held by shared_ptr so that abandoned tasks may outlive the call.
struct RewardPool::Call {
  enum class Phase { kQueued, kRunning, kDone, kAbandoned };
  struct Task {
    Phase phase = Phase::kQueued;
    Clock::time_point started;
    std::vector<RewardResult> results;
  };
  std::mutex mutex;
  std::condition_variable changed;
  std::vector<Task> tasks;                     // GUARDED_BY(mutex)
  std::vector<Sample> samples;                 // owned copy: tasks may outlive the caller's vector
  std::shared_ptr<const Reward> reward;
  std::string name;
  bool batched = false;
};

RewardPool::RewardPool(const std::vector<RewardSpec>& specs, size_t threads)
    : RewardPool([&] {
        std::vector<RewardComponent> out;
        std::set<std::string> seen;
        for (const RewardSpec& spec : specs) {
          RewardComponent c;
          c.name = spec.name.empty() ? spec.type : spec.name;
          if (!seen.insert(c.name).second)
            throw ConfigError("", "rewards[" + c.name + "].name",
                              "two rewards are named '" + c.name + "'; give each a distinct \"name\"");
          c.weight = spec.weight;
          c.timeout_s = spec.timeout_s;
          c.reward = RewardRegistry::instance().create(spec);
          out.push_back(std::move(c));
        }
        return out;
      }(),
                 threads) {}

RewardPool::RewardPool(std::vector<RewardComponent> components, size_t threads)
    : components_(std::move(components)),
      errors_(new std::atomic<int64_t>[components_.size()]),
      stuck_(std::make_shared<std::atomic<int>>(0)),
      pool_(threads) {
  for (size_t k = 0; k < components_.size(); ++k) errors_[k] = 0;
}

RewardPool::~RewardPool() = default;

std::vector<std::string> RewardPool::names() const {
  std::vector<std::string> out;
  for (const auto& c : components_) out.push_back(c.name);
  return out;
}

std::vector<int64_t> RewardPool::error_counts() const {
  std::vector<int64_t> out;
  for (size_t k = 0; k < components_.size(); ++k) out.push_back(errors_[k].load());
  return out;
}

std::vector<ScoredSample> RewardPool::score(const std::vector<Sample>& samples) {
  std::vector<ScoredSample> out(samples.size());
  for (auto& s : out) s.components.resize(components_.size());
  // Every component's tasks are queued before any is awaited, so they all run in parallel.
  std::vector<std::shared_ptr<Call>> calls;
  for (size_t k = 0; k < components_.size(); ++k) calls.push_back(submit_component(k, samples));
  for (size_t k = 0; k < components_.size(); ++k) collect_component(k, *calls[k], out);
  for (auto& s : out) {
    for (size_t k = 0; k < components_.size(); ++k) {
      const RewardResult& r = s.components[k];
      if (r.has_score) s.total += components_[k].weight * r.score;
    }
  }
  return out;
}

std::future<std::vector<ScoredSample>> RewardPool::score_async(std::vector<Sample> samples) {
  return std::async(std::launch::async, [this, samples = std::move(samples)] { return score(samples); });
}

std::shared_ptr<RewardPool::Call> RewardPool::submit_component(size_t k, const std::vector<Sample>& samples) {
  const RewardComponent& comp = components_[k];
  auto call = std::make_shared<Call>();
  call->samples = samples;
  call->reward = comp.reward;
  call->name = comp.name;
  call->batched = comp.reward->prefers_batch();
  const bool batched = call->batched;
  const size_t n_tasks = samples.empty() ? 0 : (batched ? 1 : samples.size());
  call->tasks.resize(n_tasks);

  for (size_t t = 0; t < n_tasks; ++t) {
    std::shared_ptr<std::atomic<int>> stuck = stuck_;
    // The future is dropped: results travel through `call`, which outlives abandoned tasks.
    (void)pool_.submit([call, t, batched, stuck] {
      {
        std::lock_guard<std::mutex> lock(call->mutex);
        if (call->tasks[t].phase == Call::Phase::kAbandoned) return;
        call->tasks[t].phase = Call::Phase::kRunning;
        call->tasks[t].started = Clock::now();
      }
      call->changed.notify_all();
      std::vector<RewardResult> results;
      try {
        if (batched) {
          results = call->reward->score_batch(call->samples);
          if (results.size() != call->samples.size())
            results.assign(call->samples.size(),
                           RewardResult::failed("score_batch returned " + std::to_string(results.size()) +
                                                " results for " + std::to_string(call->samples.size()) + " samples"));
        } else {
          results.push_back(call->reward->score(call->samples[t]));
        }
      } catch (const std::exception& e) {
        results.assign(batched ? call->samples.size() : 1, RewardResult::failed(std::string("threw: ") + e.what()));
      } catch (...) {
        results.assign(batched ? call->samples.size() : 1, RewardResult::failed("threw a non-std exception"));
      }
      std::lock_guard<std::mutex> lock(call->mutex);
      if (call->tasks[t].phase == Call::Phase::kAbandoned) {
        --*stuck;  // the late result is dropped; this thread is usable again
        return;
      }
      call->tasks[t].results = std::move(results);
      call->tasks[t].phase = Call::Phase::kDone;
      call->changed.notify_all();
    });
  }
  return call;
}

void RewardPool::collect_component(size_t k, Call& call_ref, std::vector<ScoredSample>& out) {
  const RewardComponent& comp = components_[k];
  Call* call = &call_ref;
  const bool batched = call->batched;
  const size_t n_tasks = call->tasks.size();
  const std::vector<Sample>& samples = call->samples;

  const auto limit = std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(comp.timeout_s));
  std::unique_lock<std::mutex> lock(call->mutex);
  for (size_t t = 0; t < n_tasks; ++t) {
    Call::Task& task = call->tasks[t];
    std::string failure;
    while (task.phase != Call::Phase::kDone) {
      if (task.phase == Call::Phase::kRunning) {
        if (Clock::now() >= task.started + limit) {
          failure = "timeout after " + format_seconds(comp.timeout_s) + " s";
          ++*stuck_;
          break;
        }
        call->changed.wait_until(lock, task.started + limit);
      } else if (stuck_->load() >= static_cast<int>(pool_.size())) {
        failure = "reward pool exhausted: all " + std::to_string(pool_.size()) +
                  " threads are held by timed-out rewards that have not returned";
        break;
      } else {
        call->changed.wait_for(lock, kQueuedRecheck);
      }
    }
    const size_t first = batched ? 0 : t;
    const size_t count = batched ? samples.size() : 1;
    if (!failure.empty()) {
      task.phase = Call::Phase::kAbandoned;
      for (size_t i = first; i < first + count; ++i) out[i].components[k] = RewardResult::failed(failure);
    } else {
      for (size_t i = 0; i < count; ++i) out[first + i].components[k] = std::move(task.results[i]);
    }
    for (size_t i = first; i < first + count; ++i) {
      RewardResult& r = out[i].components[k];
      if (r.error.empty() && !std::isfinite(r.score)) r = RewardResult::failed("non-finite score");
      if (!r.error.empty()) {
        r.score = 0.0;
        ++errors_[k];
        GRPO_LOG_DEBUG("rewards", "reward '" << comp.name << "' failed on sample " << i << ": " << r.error);
      }
    }
  }
  lock.unlock();
  if (errors_[k].load() > 0)
    GRPO_LOG_WARN_ONCE("rewards", "reward '" << comp.name << "' failed on some samples (scored 0); see the run's reward errors");
}

}  // namespace grpo::rewards
