// worker_pool.h: the orchestrator's side of the rollout workers (used by
// `grpo train`): binds a socket, lets workers in, sends them the model setup
// and the newest weights, spreads group requests over them by credits, and
// collects results.
//
//   WorkerPoolOptions o;
//   o.bind = "tcp://127.0.0.1:*";  o.model_config_json = config.to_json();
//   WorkerPool pool(o);                        // workers: grpo rollout-worker --connect pool.endpoint()
//   pool.publish_weights(1, published_tensors(*model, /*bf16_on_wire=*/false));
//   pool.submit(request);                      // any number; dispatched as credits allow
//   std::vector<GroupResult> r = pool.collect(/*count=*/n, /*timeout_s=*/600);
//
// With options.shared_weights a version is copied into a shared staging
// buffer by publish_weights and announced to local workers by a small
// message; chunks are encoded (from the buffer, on the I/O thread) only for
// workers that need them.
//
// Guarantees: a request is dispatched with min_version = the newest version
// published so far, so no worker answers it with older weights; a worker that
// joins late receives the newest version only; a worker silent for longer than
// heartbeat_timeout_s is dropped and its requests go back to the front of the
// queue; a worker that reports it cannot build the model (setup_failed)
// gets no requests (its reason is in the snapshot); a result from anyone but
// the worker that holds the request is ignored. Malformed messages are rejected, logged and counted.
// Binding beyond loopback requires CURVE keys (server_keys).
//
// Thread-safe: public methods may be called from any thread; one internal
// thread owns the sockets.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "rollout/curve_keys.h"
#include "rollout/engine.h"
#include "rollout/generation_types.h"
#include "rollout/weight_sync.h"

namespace grpo::rollout {

struct WorkerPoolOptions {
  // Where workers connect: ipc://PATH, tcp://127.0.0.1:PORT ("*" = any free port).
  std::string bind = "tcp://127.0.0.1:*";
  // Sent to every worker on arrival: the model architecture (config.json
  // text), the tokenizer.json text (empty: completions have no text) and the engine sizes.
  std::string model_config_json;
  std::string tokenizer_json;
  EngineOptions engine;
  // Where workers place the model and in which dtype (core/device.h,
  // policies/placement.h names); sent with the setup.
  std::string device = "cpu";
  std::string dtype = "float32";
  // rollout.weight_sync = shared: versions go through a shared staging buffer
  // (rollout/weight_staging.h) to the workers on this machine (their hello
  // names this host); the others, and any that cannot map it, get chunks.
  bool shared_weights = false;
  // A worker silent this long is considered dead and its requests requeued.
  double heartbeat_timeout_s = 10.0;
  // Weight messages carry at most this many bytes of tensor data each.
  int64_t chunk_bytes = 4 << 20;
  // CURVE server key pair; required when `bind` is not loopback.
  CurveKeyPair server_keys;
  // With server_keys: public keys (Z85) of workers let in; empty = any worker
  // that knows the server's public key.
  std::vector<std::string> authorized_keys;
};

// What the pool knows about one connected worker.
struct WorkerInfo {
  std::string name;
  int64_t pid = 0;
  int credits = 0;
  int64_t version = -1;                   // weights in use, from its last message
  std::vector<int64_t> applied_versions;  // every version it reported applying, in order
  int64_t outstanding = 0;                // requests it holds
  int64_t rejected_by_worker = 0;         // malformed messages it reported dropping
  bool shared_weights = false;            // receives versions through the shared staging buffer
  int64_t versions_shared = 0;            // versions announced to it through the buffer
  int64_t versions_chunked = 0;           // versions sent to it as chunks
  std::string setup_error;                // why it could not build the model ("" = it could); it gets no requests
};

struct PoolSnapshot {
  std::vector<WorkerInfo> workers;  // live ones
  int64_t queued = 0;               // submitted, not yet dispatched
  int64_t requeued = 0;             // requests taken back from dead workers
  int64_t dead_workers = 0;
  int64_t rejected_messages = 0;    // malformed / unexpected messages received
  int64_t refused_connections = 0;  // CURVE handshakes refused by the key check
  int64_t failed_requests = 0;      // results that carried an error
};

class WorkerPool {
 public:
  explicit WorkerPool(WorkerPoolOptions options);
  // Tells every live worker to shut down, then stops.
  ~WorkerPool();
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  // The bound endpoint, with the port filled in.
  const std::string& endpoint() const { return endpoint_; }

  // Makes `version` the newest: sent to every live worker now and to every
  // later one. The caller pays only for serialising it (tensor bytes and
  // checksums), or with shared_weights for one copy into the staging buffer;
  // the pool's I/O thread sends it without holding the lock.
  void publish_weights(int64_t version, const NamedTensors& tensors);
  // Queues a group request; its result carries request.id.
  void submit(GroupRequest request);
  // Next finished result, or nullopt after timeout_s.
  std::optional<GroupResult> next_result(double timeout_s);
  // Exactly `count` results; throws grpo::Error naming how many arrived after timeout_s.
  std::vector<GroupResult> collect(size_t count, double timeout_s);

  PoolSnapshot snapshot() const;
  // Blocks until pred(snapshot) holds (true) or timeout_s passes (false).
  bool wait_for(const std::function<bool(const PoolSnapshot&)>& pred, double timeout_s) const;

  // Tests: sends raw frames to every live worker, bypassing the encoder.
  void send_raw_to_workers(const std::vector<std::string>& parts);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  std::string endpoint_;
};

}  // namespace grpo::rollout
