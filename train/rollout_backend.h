// rollout_backend.h: where a run's completions come from. Two kinds, one
// interface, chosen by rollout.workers:
//   LocalRollout  (workers = 0): an Engine in the trainer process over the
//                 policy itself; no copy of the weights, nothing to sync.
//   WorkerRollout (workers >= 1): `grpo rollout-worker` processes spawned here
//                 (and remote ones that connect), fed through a WorkerPool;
//                 weights are published by version after every update, and a
//                 local worker that dies is respawned while its requests are
//                 requeued by the pool.
//
//   auto backend = make_rollout_backend(recipe, components);
//   backend->publish(version);
//   std::vector<GroupResult> r = backend->generate(requests);   // in request order
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
  // Completes every request with the newest published weights; results in request order.
  virtual std::vector<rollout::GroupResult> generate(const std::vector<rollout::GroupRequest>& requests) = 0;
  // Local workers respawned after dying so far.
  virtual int64_t respawns() const { return 0; }
  // "in-process engine" or "2 worker processes at ipc://…", for the log.
  virtual std::string describe() const = 0;
};

std::unique_ptr<RolloutBackend> make_rollout_backend(const Recipe& recipe, const TrainComponents& components,
                                                     const std::string& run_path);

}  // namespace grpo::train
