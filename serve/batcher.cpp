#include "serve/batcher.h"

#include <algorithm>
#include <utility>

#include "core/error.h"

namespace grpo::serve {

std::vector<rollout::GroupResult> Job::wait_result() {
  std::unique_lock<std::mutex> lock(mutex_);
  changed_.wait(lock, [&] { return done_; });
  if (!error_.empty()) throw Error(error_);
  return results_;
}

std::vector<JobEvent> Job::next_events() {
  std::unique_lock<std::mutex> lock(mutex_);
  changed_.wait(lock, [&] { return done_ || !events_.empty(); });
  if (!error_.empty()) throw Error(error_);
  return std::exchange(events_, {});
}

void Job::add_event(JobEvent event) {
  if (!stream_) return;
  std::lock_guard<std::mutex> lock(mutex_);
  events_.push_back(std::move(event));
  changed_.notify_all();
}

void Job::complete(std::vector<rollout::GroupResult> results) {
  std::lock_guard<std::mutex> lock(mutex_);
  results_ = std::move(results);
  done_ = true;
  changed_.notify_all();
}

void Job::fail(const std::string& message) {
  std::lock_guard<std::mutex> lock(mutex_);
  error_ = message.empty() ? "generation failed" : message;
  done_ = true;
  changed_.notify_all();
}

Batcher::Batcher(rollout::Engine& engine, bool start) : engine_(engine) {
  if (start) this->start();
}

Batcher::~Batcher() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  queued_.notify_all();
  if (thread_.joinable()) thread_.join();
  for (auto& job : queue_) job->fail("the server is shutting down");
}

void Batcher::start() {
  if (!thread_.joinable()) thread_ = std::thread([this] { loop(); });
}

void Batcher::submit(std::shared_ptr<Job> job) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (stopping_) {
      job->fail("the server is shutting down");
      return;
    }
    queue_.push_back(std::move(job));
  }
  queued_.notify_one();
}

BatcherStats Batcher::stats() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return stats_;
}

void Batcher::loop() {
  for (;;) {
    std::vector<std::shared_ptr<Job>> jobs;
    {
      std::unique_lock<std::mutex> lock(mutex_);
      queued_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
      if (stopping_) return;
      jobs.assign(queue_.begin(), queue_.end());  // everyone waiting joins this batch
      queue_.clear();
    }
    run_batch(jobs);
    std::lock_guard<std::mutex> lock(mutex_);
    stats_.batches++;
    stats_.jobs += static_cast<int64_t>(jobs.size());
    stats_.max_batch_jobs = std::max<int64_t>(stats_.max_batch_jobs, static_cast<int64_t>(jobs.size()));
  }
}

// Flattens the jobs' groups into one generate call and routes progress and
// results back to each job.
void Batcher::run_batch(std::vector<std::shared_ptr<Job>>& jobs) {
  std::vector<rollout::GroupRequest> requests;
  std::vector<std::pair<Job*, size_t>> owner;  // request index -> (job, group in job)
  for (auto& job : jobs) {
    for (size_t g = 0; g < job->groups().size(); ++g) {
      requests.push_back(job->groups()[g]);
      requests.back().id = static_cast<int64_t>(owner.size());
      owner.emplace_back(job.get(), g);
    }
  }
  auto on_progress = [&](const rollout::CompletionProgress& p) {
    auto [job, group] = owner[p.request];
    JobEvent e{group, p.index, p.token, std::nullopt};
    if (p.finished) e.finished = *p.finished;
    job->add_event(std::move(e));
  };
  try {
    std::vector<rollout::GroupResult> results = engine_.generate(requests, rollout::GenerateHooks{on_progress, nullptr});
    size_t at = 0;
    for (auto& job : jobs) {
      std::vector<rollout::GroupResult> mine(results.begin() + static_cast<std::ptrdiff_t>(at),
                                             results.begin() + static_cast<std::ptrdiff_t>(at + job->groups().size()));
      at += job->groups().size();
      job->complete(std::move(mine));
    }
  } catch (const std::exception& e) {
    // One bad batch fails its jobs, never the server.
    for (auto& job : jobs) job->fail(e.what());
  }
}

}  // namespace grpo::serve
