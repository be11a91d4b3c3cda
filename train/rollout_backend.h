// rollout_backend.h: where a run's completions come from. Two kinds, one
// interface, chosen by rollout.workers:
//   LocalRollout  (workers = 0): an Engine in the trainer process over the
//                 policy itself; no copy of the weights, nothing to sync.
//                 In async mode (generation runs while the learner updates
//                 the policy) it generates from a frozen copy per published
//                 version instead, so a batch sees exactly the weights it
//                 was launched with.
//   WorkerRollout (workers >= 1): `grpo rollout-worker` processes spawned here
//                 (and remote ones that connect), fed through a WorkerPool;
//                 weights are published by version after every update, and a
//                 local worker that dies is respawned while its requests are
//                 requeued by the pool.
//
//   auto backend = make_rollout_backend(recipe, components, run_dir);
//   backend->publish(version);
//   std::vector<GroupResult> r = backend->generate(requests, version, on_group_done);   // in request order
//
// publish() is called by the trainer thread while generate() may run on the
// rollout pipeline's thread (train/rollout_pipeline.h); one generate at a time.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "rollout/generation_types.h"
#include "train/components.h"

namespace grpo::train {

class RolloutBackend {
 public:
  virtual ~RolloutBackend() = default;
  // Makes the policy's current weights version `version` for later requests.
  virtual void publish(int64_t version) = 0;
  // Completes every request with published weights `version` (local: exactly
  // that version; workers: that version or a newer one published meanwhile);
  // results in request order. `on_group_done` (may be empty) hears of each
  // group the moment it is complete, on the calling thread.
  virtual std::vector<rollout::GroupResult> generate(const std::vector<rollout::GroupRequest>& requests, int64_t version,
                                                     const rollout::GroupDoneFn& on_group_done) = 0;
  // Local workers respawned after dying so far.
  virtual int64_t respawns() const { return 0; }
  // "in-process engine" or "2 worker processes at ipc://…", for the log.
  virtual std::string describe() const = 0;
};

std::unique_ptr<RolloutBackend> make_rollout_backend(const Recipe& recipe, const TrainComponents& components,
                                                     const std::string& run_path);

}  // namespace grpo::train
