// worker.h: a rollout worker process: connects to the orchestrator's
// WorkerPool, receives the model setup and versioned weights, runs group
// requests through an Engine and sends results back. `grpo rollout-worker`.
//
//   WorkerOptions o;  o.connect = "tcp://10.0.0.5:5555";
//   RolloutWorker(o).run();   // returns when the pool says shutdown
//
// The setup names the device and dtype the model is placed on and the decode
// mode. Two threads: the socket thread (handles every message, assembles weight
// versions or copies them out of the shared staging buffer, heartbeats, sends results) and the generation thread (applies a
// complete weight version between engine calls, runs requests whose
// min_version it has). A malformed or unexpected message is logged and
// dropped; the worker keeps serving. Credits: the worker announces how many
// group requests it may hold; the pool never sends more.
#pragma once

#include <string>

#include "rollout/curve_keys.h"

namespace grpo::rollout {

struct WorkerOptions {
  std::string connect;              // orchestrator endpoint (tcp://HOST:PORT or ipc://PATH)
  std::string name;                 // shown in logs; default "<host>-<pid>"
  std::string host;                 // machine name told to the pool (shared weights are for its own machine); default: this one
  int credits = 4;                  // group requests held at once (run together in one engine call)
  double heartbeat_interval_s = 0.5;
  // CURVE: the server's public key plus this worker's key pair (both needed
  // when the pool binds with CURVE); empty = plain TCP (loopback only).
  std::string server_public_key;
  CurveKeyPair keys;
  // Tests only: accept requests but never run them (a worker stuck mid-request).
  bool hold_requests = false;
};

class RolloutWorker {
 public:
  explicit RolloutWorker(WorkerOptions options);
  ~RolloutWorker();
  // Serves until shutdown. Throws grpo::Error on a bad endpoint or keys.
  void run();

 private:
  WorkerOptions options_;
};

}  // namespace grpo::rollout
