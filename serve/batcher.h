// batcher.h: runs the server's requests through one rollout::Engine, many at
// a time. HTTP threads submit Jobs; one batching thread takes every job that
// is waiting, generates them together in one Engine::generate call (one
// decode batch, continuous batching inside it) and hands tokens back to each
// job as they are made.
//
//   Batcher batcher(engine);                       // starts the batching thread
//   auto job = std::make_shared<Job>(groups, /*stream=*/false);
//   batcher.submit(job);
//   std::vector<rollout::GroupResult> out = job->wait_result();   // or next_events() to stream
//
// DEVIATION: a request that arrives while a batch is generating waits for the
// next batch (vLLM admits new requests at every decode step). The engine
// sizes its KV cache per generate call, which is what makes that the simple
// choice; under steady load the batches stay full because finished clients'
// next requests all join the following one.
//
// Thread-safety: submit() and the Job methods may be called from any thread.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "rollout/engine.h"

namespace grpo::serve {

// Something that happened to one completion of a job, for streaming.
struct JobEvent {
  size_t group = 0;                                // which of the job's groups
  int index = 0;                                   // completion index in the group
  int64_t token = -1;                              // a new token (when finished is empty)
  std::optional<rollout::Completion> finished;     // the completion's final cut
};

// One HTTP request's generation work and its outcome. Shared (shared_ptr)
// between the HTTP thread and the batching thread.
class Job {
 public:
  // stream: keep per-token events for next_events(); otherwise only the result.
  explicit Job(std::vector<rollout::GroupRequest> groups, bool stream = false) : groups_(std::move(groups)), stream_(stream) {}

  const std::vector<rollout::GroupRequest>& groups() const { return groups_; }

  // --- HTTP thread
  // Blocks until the job is done; its results in group order. Throws
  // grpo::Error with the engine's message when generation failed.
  std::vector<rollout::GroupResult> wait_result();
  // Blocks until there are events or the job is done; returns them (empty
  // when done and all were taken). Throws like wait_result on failure.
  std::vector<JobEvent> next_events();

  // --- batching thread
  void add_event(JobEvent event);
  void complete(std::vector<rollout::GroupResult> results);
  void fail(const std::string& message);

 private:
  std::vector<rollout::GroupRequest> groups_;
  bool stream_;
  std::mutex mutex_;
  std::condition_variable changed_;
  std::vector<JobEvent> events_;        // GUARDED_BY(mutex_)
  std::vector<rollout::GroupResult> results_;
  bool done_ = false;
  std::string error_;
};

// Counters for tests and the benchmark.
struct BatcherStats {
  int64_t batches = 0;          // Engine::generate calls
  int64_t jobs = 0;             // jobs completed or failed
  int64_t max_batch_jobs = 0;   // most jobs generated together
};

class Batcher {
 public:
  // Borrows engine (must outlive the batcher; no one else may use it). With
  // start = false the thread starts at start(), so tests can queue first.
  explicit Batcher(rollout::Engine& engine, bool start = true);
  // Finishes the running batch, fails the jobs still queued, joins the thread.
  ~Batcher();
  Batcher(const Batcher&) = delete;
  Batcher& operator=(const Batcher&) = delete;

  void start();
  void submit(std::shared_ptr<Job> job);
  BatcherStats stats() const;

 private:
  void loop();
  void run_batch(std::vector<std::shared_ptr<Job>>& jobs);

  rollout::Engine& engine_;
  mutable std::mutex mutex_;
  std::condition_variable queued_;
  std::deque<std::shared_ptr<Job>> queue_;  // GUARDED_BY(mutex_)
  bool stopping_ = false;                   // GUARDED_BY(mutex_)
  BatcherStats stats_;                      // GUARDED_BY(mutex_)
  std::thread thread_;
};

}  // namespace grpo::serve
