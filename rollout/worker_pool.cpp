#include "rollout/worker_pool.h"

#include <zmq.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <map>
#include <memory>

#include "core/error.h"
#include "core/log.h"
#include "rollout/internal/host_name.h"
#include "rollout/internal/zmq_io.h"
#include "rollout/from_config.h"
#include "rollout/messages.h"
#include "rollout/weight_staging.h"

namespace grpo::rollout {

namespace {

using Clock = std::chrono::steady_clock;
constexpr const char* kLog = "rollout pool";

struct Pending {
  int64_t request_id = 0;
  GroupRequest request;
};

// A published version, encoded (tensor bytes, checksums) once by
// publish_weights on its caller's thread, or (shared weights) its
// weights_staged announcement; the I/O thread only sends it.
struct EncodedVersion {
  int64_t version = -1;
  std::vector<std::vector<std::string>> messages;  // chunks: multipart messages, in order
  std::vector<std::string> announcement;           // weights_staged (shared weights), else empty
};

struct Worker {
  std::string identity;
  WorkerInfo info;
  int64_t weights_sent = -1;  // newest version sent to it
  Clock::time_point last_seen;
  std::map<int64_t, Pending> held;  // request_id -> request
};

Clock::duration seconds(double s) { return std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(s)); }

}  // namespace

struct WorkerPool::Impl {
  WorkerPoolOptions options;
  zmq::context_t context;
  zmq::socket_t router{context, zmq::socket_type::router};
  std::unique_ptr<zmq::socket_t> zap;  // CURVE key check (ZAP handler)

  mutable std::mutex mu;
  mutable std::condition_variable changed;
  // GUARDED_BY(mu):
  bool stop = false;
  std::deque<Pending> queue;
  std::deque<GroupResult> results;
  std::map<std::string, Worker> workers;  // by routing identity
  std::shared_ptr<const EncodedVersion> latest_weights;  // sent to every live worker and every later one
  std::shared_ptr<const EncodedVersion> chunked_from_staging;  // I/O thread only: chunks of a staged version, once
  std::unique_ptr<StagingWriter> staging;  // shared weights; made by the first publish_weights
  std::mutex publish_mu;                   // one publish_weights at a time (the staging buffer has one version)
  std::string host = internal::host_name();
  std::vector<std::vector<std::string>> raw_to_broadcast;
  int64_t latest_version = -1;
  int64_t next_request_id = 1;
  PoolSnapshot counters;
  std::thread io;

  void run() {
    std::vector<std::string> parts;
    while (true) {
      std::vector<zmq::pollitem_t> items = {{router.handle(), 0, ZMQ_POLLIN, 0}};
      if (zap) items.push_back({zap->handle(), 0, ZMQ_POLLIN, 0});
      zmq::poll(items.data(), items.size(), std::chrono::milliseconds(10));
      if (zap) while (internal::try_recv_parts(*zap, parts)) answer_zap(parts);
      std::unique_lock<std::mutex> lock(mu);
      if (stop) break;
      lock.unlock();
      while (internal::try_recv_parts(router, parts)) {
        lock.lock();
        handle(parts);
        lock.unlock();
      }
      lock.lock();
      broadcast(lock);
      expire_dead();
      dispatch();
      changed.notify_all();
    }
    std::lock_guard<std::mutex> lock(mu);
    for (auto& [id, w] : workers) internal::send_message(router, WireMessage{msg::kShutdown, nlohmann::json::object(), {}}, &id);
  }

  // ZAP (ZeroMQ RFC 27): frames version, request id, domain, address,
  // identity, mechanism, then for CURVE the client's 32-byte public key.
  void answer_zap(const std::vector<std::string>& req) {
    bool ok = false;
    std::string key_z85;
    if (req.size() >= 7 && req[5] == "CURVE" && req[6].size() == 32) {
      char z85[41] = {0};
      zmq_z85_encode(z85, reinterpret_cast<const uint8_t*>(req[6].data()), 32);
      key_z85 = z85;
      ok = options.authorized_keys.empty() ||
           std::find(options.authorized_keys.begin(), options.authorized_keys.end(), key_z85) != options.authorized_keys.end();
    }
    std::string request_id = req.size() > 1 ? req[1] : "";
    internal::send_parts(*zap, {"1.0", request_id, ok ? "200" : "400", ok ? "OK" : "key not authorized", ok ? key_z85 : "", ""});
    if (!ok) {
      std::lock_guard<std::mutex> lock(mu);
      counters.refused_connections++;
      GRPO_LOG_WARN(kLog, "refused a worker whose CURVE key " << (key_z85.empty() ? "?" : key_z85) << " is not authorized");
    }
  }

  void handle(const std::vector<std::string>& parts) {
    if (parts.empty()) return;
    const std::string& identity = parts[0];
    std::string peer = "worker " + (workers.count(identity) ? workers[identity].info.name : identity);
    try {
      WireMessage m = decode_message({parts.begin() + 1, parts.end()}, peer);
      on_message(identity, peer, m);
    } catch (const ProtocolError& e) {
      counters.rejected_messages++;
      GRPO_LOG_WARN(kLog, e.what());
    }
  }

  void on_message(const std::string& identity, const std::string& peer, const WireMessage& m) {
    if (m.type == msg::kHello) return on_hello(identity, m);
    auto it = workers.find(identity);
    if (it == workers.end()) throw ProtocolError(peer, m.type, "unknown worker (dropped as dead, or no hello); ignored");
    Worker& w = it->second;
    w.last_seen = Clock::now();
    if (m.type == msg::kHeartbeat) {
      w.info.version = msg::get<int64_t>(m.fields, "version", peer, m.type);
      w.info.rejected_by_worker = m.fields.value("rejected", int64_t{0});
    } else if (m.type == msg::kWeightsApplied) {
      w.info.version = msg::get<int64_t>(m.fields, "version", peer, m.type);
      w.info.applied_versions.push_back(w.info.version);
    } else if (m.type == msg::kResult) {
      on_result(w, peer, m);
    } else if (m.type == msg::kSetupFailed) {
      w.info.setup_error = msg::get<std::string>(m.fields, "reason", peer, m.type);
      GRPO_LOG_ERROR(kLog, peer << " cannot build the model: " << w.info.setup_error);
      requeue(w, "cannot build the model");
    } else if (m.type == msg::kWeightsUnstaged) {
      GRPO_LOG_WARN(kLog, peer << " cannot read the shared weights buffer (" << m.fields.value("reason", std::string("?"))
                               << "); it gets chunks from now on");
      w.info.shared_weights = false;
      w.weights_sent = -1;  // the next broadcast sends the newest version as chunks
    } else {
      throw ProtocolError(peer, m.type, "unknown message type");
    }
  }

  void on_hello(const std::string& identity, const WireMessage& m) {
    std::string name = msg::get<std::string>(m.fields, "worker", identity, m.type);
    auto old = workers.find(identity);
    if (old != workers.end()) requeue(old->second, "said hello again");
    Worker w;
    w.identity = identity;
    w.info.name = name;
    w.info.pid = msg::get<int64_t>(m.fields, "pid", name, m.type);
    w.info.credits = std::clamp(msg::get<int>(m.fields, "credits", name, m.type), 1, 1024);
    w.info.shared_weights = options.shared_weights && m.fields.value("host", std::string()) == host;
    w.last_seen = Clock::now();
    WireMessage setup{msg::kSetup,
                      {{"model_config", options.model_config_json},
                       {"max_slots", options.engine.max_slots},
                       {"kv_budget_tokens", options.engine.kv_budget_tokens},
                       {"device", options.device},
                       {"dtype", options.dtype},
                       {"decode", decode_mode_name(options.engine.decode)}},
                      {}};
    if (!options.tokenizer_json.empty()) setup.frames.push_back(options.tokenizer_json);
    internal::send_message(router, setup, &identity);
    workers[identity] = std::move(w);  // the next broadcast (this loop turn) sends it the newest weights
    GRPO_LOG_INFO(kLog, "worker " << name << " joined (" << workers.size() << " live)");
  }

  void on_result(Worker& w, const std::string& peer, const WireMessage& m) {
    int64_t request_id = msg::get<int64_t>(m.fields, "request_id", peer, m.type);
    auto held = w.held.find(request_id);
    if (held == w.held.end()) throw ProtocolError(peer, m.type, "result for request " + std::to_string(request_id) + " it does not hold");
    if (m.fields.contains("error")) {
      counters.failed_requests++;
      GRPO_LOG_ERROR(kLog, peer << " failed request " << held->second.request.id << ": " << m.fields["error"].dump());
    } else {
      GroupResult r = msg::result_from_json(msg::get<nlohmann::json>(m.fields, "result", peer, m.type), peer);
      r.id = held->second.request.id;
      results.push_back(std::move(r));
    }
    w.held.erase(held);
  }

  void requeue(Worker& w, const std::string& why) {
    if (w.held.empty()) return;
    GRPO_LOG_WARN(kLog, "worker " << w.info.name << " " << why << ": requeueing its " << w.held.size() << " requests");
    for (auto it = w.held.rbegin(); it != w.held.rend(); ++it) queue.push_front(std::move(it->second));
    counters.requeued += static_cast<int64_t>(w.held.size());
    w.held.clear();
  }

  void expire_dead() {
    auto now = Clock::now();
    for (auto it = workers.begin(); it != workers.end();) {
      if (now - it->second.last_seen > seconds(options.heartbeat_timeout_s)) {
        requeue(it->second, "missed its heartbeats for " + std::to_string(options.heartbeat_timeout_s) + " s");
        counters.dead_workers++;
        it = workers.erase(it);
      } else {
        ++it;
      }
    }
  }

  // Hands queued requests to workers with free credits, least loaded first.
  void dispatch() {
    while (!queue.empty()) {
      Worker* best = nullptr;
      for (auto& [id, w] : workers)
        if (w.info.setup_error.empty() && static_cast<int>(w.held.size()) < w.info.credits &&
            (!best || w.held.size() < best->held.size()))
          best = &w;
      if (!best) return;
      Pending p = std::move(queue.front());
      queue.pop_front();
      internal::send_message(router,
                             WireMessage{msg::kGenerate,
                                         {{"request_id", p.request_id}, {"min_version", latest_version}, {"request", msg::request_to_json(p.request)}},
                                         {}},
                             &best->identity);
      best->held[p.request_id] = std::move(p);
    }
  }

  // Sends the newest weights to the live workers that lack them, and the raw
  // test messages to all. The sends happen with `lock` (on mu) released, so
  // publish_weights and the other threads never wait for a weight transfer.
  void broadcast(std::unique_lock<std::mutex>& lock) {
    std::shared_ptr<const EncodedVersion> weights = latest_weights;
    std::vector<std::string> announce, chunks, all;
    for (auto& [id, w] : workers) {
      all.push_back(id);
      if (weights && w.weights_sent < weights->version) {
        bool shared = w.info.shared_weights && !weights->announcement.empty();
        (shared ? announce : chunks).push_back(id);
        (shared ? w.info.versions_shared : w.info.versions_chunked)++;
        w.weights_sent = weights->version;
      }
    }
    std::vector<std::vector<std::string>> raw = std::move(raw_to_broadcast);
    raw_to_broadcast.clear();
    if (announce.empty() && chunks.empty() && raw.empty()) return;
    lock.unlock();  // only this thread touches the socket
    for (const auto& id : announce) internal::send_parts(router, weights->announcement, &id);
    std::shared_ptr<const EncodedVersion> chunked = chunks.empty() ? nullptr : chunked_version(weights);
    for (const auto& id : chunks)
      for (const auto& parts : chunked->messages) internal::send_parts(router, parts, &id);
    for (const auto& parts : raw)
      for (const auto& id : all) internal::send_parts(router, parts, &id);
    lock.lock();
    // A snapshot of the buffer may hold a version newer than `weights`.
    if (chunked)
      for (const auto& id : chunks)
        if (workers.count(id)) workers[id].weights_sent = std::max(workers[id].weights_sent, chunked->version);
  }

  // `weights` as chunks: encoded by publish_weights, or (shared weights) from
  // a snapshot of the staging buffer, encoded once per version on this thread.
  std::shared_ptr<const EncodedVersion> chunked_version(const std::shared_ptr<const EncodedVersion>& weights) {
    if (weights->announcement.empty()) return weights;
    if (chunked_from_staging && chunked_from_staging->version >= weights->version) return chunked_from_staging;
    WeightSet set = staging->snapshot();
    auto encoded = std::make_shared<EncodedVersion>();
    encoded->version = set.version;
    for (const WireMessage& m : weight_messages(set.version, set.tensors, options.chunk_bytes))
      encoded->messages.push_back(encode_message(m));
    chunked_from_staging = encoded;
    return encoded;
  }

  PoolSnapshot snapshot() const {
    PoolSnapshot s = counters;
    s.queued = static_cast<int64_t>(queue.size());
    for (const auto& [id, w] : workers) {
      WorkerInfo info = w.info;
      info.outstanding = static_cast<int64_t>(w.held.size());
      s.workers.push_back(info);
    }
    return s;
  }
};

WorkerPool::WorkerPool(WorkerPoolOptions options) : impl_(std::make_unique<Impl>()) {
  Impl& d = *impl_;
  d.options = std::move(options);
  bool curve = !d.options.server_keys.empty();
  if (!is_loopback_endpoint(d.options.bind) && !curve)
    throw Error("rollout pool: binding " + d.options.bind +
                " reaches beyond this machine and needs CURVE keys: set the server key pair (rollout.curve_server_key_file) "
                "or bind tcp://127.0.0.1:PORT / ipc://PATH");
  d.router.set(zmq::sockopt::linger, 0);
  d.router.set(zmq::sockopt::router_mandatory, false);
  if (curve) {
    d.zap = std::make_unique<zmq::socket_t>(d.context, zmq::socket_type::rep);
    d.zap->bind("inproc://zeromq.zap.01");
    d.router.set(zmq::sockopt::zap_domain, "grpo");
    d.router.set(zmq::sockopt::curve_server, 1);
    d.router.set(zmq::sockopt::curve_secretkey, d.options.server_keys.secret_key);
  }
  try {
    d.router.bind(d.options.bind);
  } catch (const zmq::error_t& e) {
    throw Error("rollout pool: cannot bind " + d.options.bind + ": " + e.what());
  }
  endpoint_ = d.router.get(zmq::sockopt::last_endpoint);
  d.io = std::thread([&d] { d.run(); });
}

WorkerPool::~WorkerPool() {
  {
    std::lock_guard<std::mutex> lock(impl_->mu);
    impl_->stop = true;
  }
  impl_->io.join();
}

void WorkerPool::publish_weights(int64_t version, const NamedTensors& tensors) {
  std::lock_guard<std::mutex> publishing(impl_->publish_mu);
  {
    std::lock_guard<std::mutex> lock(impl_->mu);
    if (version <= impl_->latest_version)
      throw Error("publish_weights: version " + std::to_string(version) + " is not newer than " + std::to_string(impl_->latest_version));
  }
  // Serialisation (or the copy into the staging buffer) is the caller's only
  // cost: the sends are the I/O thread's.
  auto encoded = std::make_shared<EncodedVersion>();
  encoded->version = version;
  if (impl_->options.shared_weights) {
    if (!impl_->staging) {  // only this thread writes it; the I/O thread reads it once a version names it
      impl_->staging = std::make_unique<StagingWriter>(tensors);
      GRPO_LOG_INFO(kLog, "weights go to workers on this machine through a shared staging buffer of "
                              << impl_->staging->bytes() / (1 << 20) << " MiB on " << (tensors.empty() ? std::string("cpu") : tensors.front().second.device().str()));
    }
    impl_->staging->write(version, tensors);
    encoded->announcement = encode_message(impl_->staging->announcement(version));
  } else {
    for (const WireMessage& m : weight_messages(version, tensors, impl_->options.chunk_bytes))
      encoded->messages.push_back(encode_message(m));
  }
  std::lock_guard<std::mutex> lock(impl_->mu);
  impl_->latest_version = version;
  impl_->latest_weights = std::move(encoded);
}

void WorkerPool::submit(GroupRequest request) {
  std::lock_guard<std::mutex> lock(impl_->mu);
  impl_->queue.push_back(Pending{impl_->next_request_id++, std::move(request)});
}

std::optional<GroupResult> WorkerPool::next_result(double timeout_s) {
  std::unique_lock<std::mutex> lock(impl_->mu);
  if (!impl_->changed.wait_for(lock, std::chrono::duration<double>(timeout_s), [&] { return !impl_->results.empty(); }))
    return std::nullopt;
  GroupResult r = std::move(impl_->results.front());
  impl_->results.pop_front();
  return r;
}

std::vector<GroupResult> WorkerPool::collect(size_t count, double timeout_s) {
  std::vector<GroupResult> out;
  auto deadline = Clock::now() + seconds(timeout_s);
  while (out.size() < count) {
    double left = std::chrono::duration<double>(deadline - Clock::now()).count();
    auto r = left > 0 ? next_result(left) : std::nullopt;
    if (!r) {
      auto s = snapshot();
      throw Error("rollout pool: " + std::to_string(out.size()) + " of " + std::to_string(count) + " results after " +
                  std::to_string(timeout_s) + " s (" + std::to_string(s.workers.size()) + " live workers, " +
                  std::to_string(s.queued) + " queued); start workers with `grpo rollout-worker --connect " + endpoint_ + "`");
    }
    out.push_back(std::move(*r));
  }
  return out;
}

PoolSnapshot WorkerPool::snapshot() const {
  std::lock_guard<std::mutex> lock(impl_->mu);
  return impl_->snapshot();
}

bool WorkerPool::wait_for(const std::function<bool(const PoolSnapshot&)>& pred, double timeout_s) const {
  std::unique_lock<std::mutex> lock(impl_->mu);
  return impl_->changed.wait_for(lock, std::chrono::duration<double>(timeout_s), [&] { return pred(impl_->snapshot()); });
}

void WorkerPool::send_raw_to_workers(const std::vector<std::string>& parts) {
  std::lock_guard<std::mutex> lock(impl_->mu);
  impl_->raw_to_broadcast.push_back(parts);
}

}  // namespace grpo::rollout
