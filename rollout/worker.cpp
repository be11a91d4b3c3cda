#include "rollout/worker.h"

#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <optional>
#include <thread>

#include "core/device.h"
#include "core/error.h"
#include "core/log.h"
#include "policies/causal_lm.h"
#include "policies/placement.h"
#include "policies/tokenizer.h"
#include "rollout/engine.h"
#include "rollout/from_config.h"
#include "rollout/internal/host_name.h"
#include "rollout/internal/zmq_io.h"
#include "rollout/messages.h"
#include "rollout/weight_staging.h"
#include "rollout/weight_sync.h"

namespace grpo::rollout {

namespace {

using Clock = std::chrono::steady_clock;

struct Setup {
  std::string model_config_json;
  std::string tokenizer_json;
  std::string device = "cpu";
  std::string dtype = "float32";
  EngineOptions engine;
};

struct QueuedRequest {
  int64_t request_id = 0;
  int64_t min_version = 0;
  GroupRequest request;
};

}  // namespace

// Shared between the socket thread and the generation thread; GUARDED_BY(mu).
struct WorkerState {
  std::mutex mu;
  std::condition_variable cv;
  bool stop = false;
  std::optional<Setup> pending_setup;
  std::optional<WeightSet> pending_weights;
  std::deque<QueuedRequest> requests;
  std::deque<WireMessage> outbox;
  int64_t version = -1;
  bool has_engine = false;
};

namespace {

// The generation thread: owns model, tokenizer and engine.
class Generator {
 public:
  Generator(WorkerState& state, const WorkerOptions& options, std::string log)
      : state_(state), options_(options), log_(std::move(log)) {}

  void run() {
    std::unique_lock<std::mutex> lock(state_.mu);
    while (true) {
      state_.cv.wait(lock, [&] { return state_.stop || state_.pending_setup || (state_.pending_weights && engine_) || runnable(); });
      if (state_.stop) return;
      if (state_.pending_setup) {
        Setup setup = std::move(*state_.pending_setup);
        state_.pending_setup.reset();
        lock.unlock();
        std::string error = build(setup);
        lock.lock();
        state_.has_engine = engine_ != nullptr;
        if (!error.empty()) state_.outbox.push_back(WireMessage{msg::kSetupFailed, {{"reason", error}}, {}});
      } else if (state_.pending_weights && engine_) {
        WeightSet set = std::move(*state_.pending_weights);
        state_.pending_weights.reset();
        lock.unlock();
        bool ok = apply(set);
        lock.lock();
        if (ok) {
          state_.version = set.version;
          state_.outbox.push_back(WireMessage{msg::kWeightsApplied, {{"version", set.version}}, {}});
        }
      } else {
        generate(lock);
      }
    }
  }

 private:
  bool runnable() const {
    if (options_.hold_requests || !engine_) return false;
    for (const auto& r : state_.requests)
      if (r.min_version <= state_.version) return true;
    return false;
  }

  // Builds model and engine; returns why it could not ("" when it did).
  std::string build(const Setup& setup) {
    engine_.reset();
    try {
      auto config = policies::ModelConfig::from_json(setup.model_config_json, "setup message");
      model_ = policies::CausalLM::create(config);
      policies::place_model(*model_, device_from_config(setup.device, "rollout.device"), policies::dtype_from_name(setup.dtype));
      model_->eval();
      DecodeFn decode;
      if (!setup.tokenizer_json.empty()) {
        tokenizer_ = std::make_unique<policies::Tokenizer>(policies::Tokenizer::from_json_text(setup.tokenizer_json, "setup message"));
        decode = [tok = tokenizer_.get()](const std::vector<int64_t>& ids) {
          return tok->decode(std::vector<int32_t>(ids.begin(), ids.end()), /*skip_special_tokens=*/true);
        };
      }
      engine_ = std::make_unique<Engine>(model_, setup.engine, decode);
      GRPO_LOG_INFO(log_, "model ready: " << config.model_type << ", " << config.num_hidden_layers << " layers on " << setup.device
                                           << " in " << setup.dtype << ", " << decode_mode_name(setup.engine.decode) << " decode");
    } catch (const std::exception& e) {
      GRPO_LOG_ERROR(log_, "setup rejected: " << e.what());
      return e.what();
    }
    return "";
  }

  bool apply(const WeightSet& set) {
    try {
      apply_weights(*model_, set);
      engine_->set_weight_version(set.version);
      GRPO_LOG_INFO(log_, "applied weights version " << set.version);
      return true;
    } catch (const std::exception& e) {
      GRPO_LOG_ERROR(log_, "weights version " << set.version << " rejected: " << e.what());
      return false;
    }
  }

  // Runs every request whose version is here, in one engine call.
  void generate(std::unique_lock<std::mutex>& lock) {
    std::vector<QueuedRequest> batch;
    std::deque<QueuedRequest> rest;
    for (auto& r : state_.requests) {
      if (r.min_version <= state_.version) batch.push_back(std::move(r));
      else rest.push_back(std::move(r));
    }
    state_.requests = std::move(rest);
    lock.unlock();
    std::vector<GroupRequest> requests;
    for (auto& q : batch) requests.push_back(q.request);
    // Each group's result goes out the moment it finishes, so the
    // orchestrator can score it while the rest of the batch decodes.
    std::vector<bool> sent(batch.size(), false);
    auto send = [&](size_t i, const GroupResult& result) {
      std::lock_guard<std::mutex> guard(state_.mu);
      state_.outbox.push_back(WireMessage{msg::kResult, {{"request_id", batch[i].request_id}, {"result", msg::result_to_json(result)}}, {}});
      sent[i] = true;
    };
    std::vector<WireMessage> failed;
    try {
      engine_->generate(requests, GenerateHooks{nullptr, send});
    } catch (const std::exception& e) {
      GRPO_LOG_ERROR(log_, "generation failed: " << e.what());
      for (size_t i = 0; i < batch.size(); ++i)
        if (!sent[i]) failed.push_back(WireMessage{msg::kResult, {{"request_id", batch[i].request_id}, {"error", e.what()}}, {}});
    }
    lock.lock();
    for (auto& m : failed) state_.outbox.push_back(std::move(m));
  }

  WorkerState& state_;
  const WorkerOptions& options_;
  std::string log_;
  std::shared_ptr<policies::CausalLM> model_;
  std::unique_ptr<policies::Tokenizer> tokenizer_;
  std::unique_ptr<Engine> engine_;
};

// The socket thread's message handling.
class Connection {
 public:
  Connection(WorkerState& state, const WorkerOptions& options, std::string log)
      : state_(state), options_(options), log_(std::move(log)), assembler_("orchestrator"), socket_(context_, zmq::socket_type::dealer) {
    socket_.set(zmq::sockopt::linger, 0);
    socket_.set(zmq::sockopt::routing_id, options_.name);
    if (!options_.server_public_key.empty()) {
      if (options_.keys.secret_key.empty()) throw Error("CURVE: the worker needs its own key pair (--key FILE) besides the server key");
      socket_.set(zmq::sockopt::curve_serverkey, options_.server_public_key);
      socket_.set(zmq::sockopt::curve_publickey, options_.keys.public_key);
      socket_.set(zmq::sockopt::curve_secretkey, options_.keys.secret_key);
    }
    try {
      socket_.connect(options_.connect);
    } catch (const zmq::error_t& e) {
      throw Error("rollout-worker: cannot connect to " + options_.connect + ": " + e.what());
    }
  }

  void serve() {
    internal::send_message(socket_, WireMessage{msg::kHello,
                                                {{"worker", options_.name}, {"pid", getpid()}, {"credits", options_.credits}, {"host", options_.host}},
                                                {}});
    auto next_heartbeat = Clock::now();
    std::vector<std::string> parts;
    while (!stopped()) {
      zmq::pollitem_t items[] = {{socket_.handle(), 0, ZMQ_POLLIN, 0}};
      zmq::poll(items, 1, std::chrono::milliseconds(20));
      while (!stopped() && internal::try_recv_parts(socket_, parts)) handle(parts);
      flush_outbox();
      if (Clock::now() >= next_heartbeat) {
        heartbeat();
        next_heartbeat = Clock::now() + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(options_.heartbeat_interval_s));
      }
    }
  }

 private:
  bool stopped() {
    std::lock_guard<std::mutex> lock(state_.mu);
    return state_.stop;
  }

  void handle(const std::vector<std::string>& parts) {
    try {
      dispatch(decode_message(parts, "orchestrator"));
    } catch (const ProtocolError& e) {
      ++rejected_;
      GRPO_LOG_WARN(log_, e.what() << " (" << rejected_ << " rejected so far)");
    } catch (const std::exception& e) {
      ++rejected_;
      GRPO_LOG_WARN(log_, "rejected message: " << e.what());
    }
  }

  void dispatch(const WireMessage& m) {
    if (m.type == msg::kWeightsStaged) return staged(m);  // copies a version: not under the lock
    std::lock_guard<std::mutex> lock(state_.mu);
    if (m.type == msg::kSetup) {
      Setup s;
      s.model_config_json = msg::get<std::string>(m.fields, "model_config", "orchestrator", m.type);
      s.engine.max_slots = msg::get<int64_t>(m.fields, "max_slots", "orchestrator", m.type);
      s.engine.kv_budget_tokens = msg::get<int64_t>(m.fields, "kv_budget_tokens", "orchestrator", m.type);
      s.device = m.fields.value("device", s.device);
      s.dtype = m.fields.value("dtype", s.dtype);
      try {
        s.engine.decode = decode_mode_from_name(m.fields.value("decode", std::string("eager")));
        device_ = device_from_config(s.device, "rollout.device");
      } catch (const Error& e) {  // e.g. a GPU this machine lacks: the pool must hear of it
        GRPO_LOG_ERROR(log_, "setup rejected: " << e.what());
        state_.outbox.push_back(WireMessage{msg::kSetupFailed, {{"reason", e.what()}}, {}});
        return;
      }
      if (m.frames.size() > 1) throw ProtocolError("orchestrator", m.type, "expected at most one frame (tokenizer.json)");
      if (!m.frames.empty()) s.tokenizer_json = m.frames[0];
      state_.pending_setup = std::move(s);
    } else if (m.type == msg::kWeightsBegin || m.type == msg::kWeightsChunk) {
      if (auto set = assembler_.feed(m)) offer(std::move(*set));
    } else if (m.type == msg::kGenerate) {
      QueuedRequest q;
      q.request_id = msg::get<int64_t>(m.fields, "request_id", "orchestrator", m.type);
      q.min_version = msg::get<int64_t>(m.fields, "min_version", "orchestrator", m.type);
      q.request = msg::request_from_json(msg::get<nlohmann::json>(m.fields, "request", "orchestrator", m.type), "orchestrator");
      state_.requests.push_back(std::move(q));
    } else if (m.type == msg::kShutdown) {
      GRPO_LOG_INFO(log_, "shutdown requested by the orchestrator");
      state_.stop = true;
    } else {
      throw ProtocolError("orchestrator", m.type, "unknown message type");
    }
    state_.cv.notify_all();
  }

  // A newer complete version replaces an unapplied one; an older one is dropped.
  void offer(WeightSet set) {
    int64_t held = state_.pending_weights ? state_.pending_weights->version : state_.version;
    if (set.version > held) state_.pending_weights = std::move(set);
  }

  // weights_staged: copy the version out of the shared buffer; a version
  // overwritten meanwhile is skipped (its successor's message follows). A
  // buffer this process cannot map makes the pool send chunks instead.
  void staged(const WireMessage& m) {
    int64_t version = msg::get<int64_t>(m.fields, "version", "orchestrator", m.type);
    std::optional<WeightSet> set;
    try {
      set = staging_.read(m, device_);
    } catch (const ProtocolError&) {
      throw;
    } catch (const std::exception& e) {
      GRPO_LOG_WARN(log_, "cannot read weights version " << version << " from the shared buffer: " << e.what() << "; asking for chunks");
      std::lock_guard<std::mutex> lock(state_.mu);
      state_.outbox.push_back(WireMessage{msg::kWeightsUnstaged, {{"version", version}, {"reason", e.what()}}, {}});
      return;
    }
    if (!set) {
      GRPO_LOG_DEBUG(log_, "weights version " << version << " was overwritten in the shared buffer before it was read");
      return;
    }
    GRPO_LOG_INFO(log_, "weights version " << version << " read from the shared buffer");
    std::lock_guard<std::mutex> lock(state_.mu);
    offer(std::move(*set));
    state_.cv.notify_all();
  }

  void flush_outbox() {
    std::deque<WireMessage> out;
    {
      std::lock_guard<std::mutex> lock(state_.mu);
      out.swap(state_.outbox);
    }
    for (const auto& m : out) internal::send_message(socket_, m);
  }

  void heartbeat() {
    int64_t version, queued;
    {
      std::lock_guard<std::mutex> lock(state_.mu);
      version = state_.version;
      queued = static_cast<int64_t>(state_.requests.size());
    }
    internal::send_message(socket_, WireMessage{msg::kHeartbeat, {{"version", version}, {"queued", queued}, {"rejected", rejected_}}, {}});
  }

  WorkerState& state_;
  const WorkerOptions& options_;
  std::string log_;
  WeightAssembler assembler_;
  StagingReader staging_;
  torch::Device device_ = torch::kCPU;  // where received versions are placed (the setup's device)
  zmq::context_t context_;
  zmq::socket_t socket_;
  int64_t rejected_ = 0;
};

}  // namespace

RolloutWorker::RolloutWorker(WorkerOptions options) : options_(std::move(options)) {
  if (options_.host.empty()) options_.host = internal::host_name();
  if (options_.name.empty()) options_.name = options_.host + "-" + std::to_string(getpid());
  if (options_.connect.empty()) throw Error("rollout-worker: --connect is required, e.g. tcp://HOST:PORT");
  if (options_.credits < 1) throw Error("rollout-worker: --credits must be >= 1");
}

RolloutWorker::~RolloutWorker() = default;

void RolloutWorker::run() {
  WorkerState state;
  std::string log = "rollout " + options_.name;
  Connection connection(state, options_, log);
  Generator generator(state, options_, log);
  std::thread gen([&] { generator.run(); });
  try {
    connection.serve();
  } catch (...) {
    {
      std::lock_guard<std::mutex> lock(state.mu);
      state.stop = true;
    }
    state.cv.notify_all();
    gen.join();
    throw;
  }
  state.cv.notify_all();
  gen.join();
}

}  // namespace grpo::rollout
