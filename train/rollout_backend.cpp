#include "train/rollout_backend.h"

#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <fstream>
#include <map>
#include <mutex>
#include <optional>
#include <sstream>

#include "core/error.h"
#include "core/file_text.h"
#include "core/log.h"
#include "core/thread_pool.h"
#include "rollout/engine.h"
#include "rollout/from_config.h"
#include "rollout/worker_pool.h"

extern char** environ;

namespace grpo::train {
namespace {

rollout::DecodeFn decoder_of(const policies::Tokenizer& tokenizer) {
  return [&tokenizer](const std::vector<int64_t>& ids) {
    return tokenizer.decode(std::vector<int32_t>(ids.begin(), ids.end()), /*skip_special_tokens=*/true);
  };
}

class LocalRollout : public RolloutBackend {
 public:
  // detached: generate from a frozen copy of each published version (async
  // mode, where the learner changes the policy while a batch generates).
  LocalRollout(const Recipe& recipe, const TrainComponents& c, bool detached)
      : policy_(c.policy), options_(rollout::engine_options_from(recipe.rollout)), decode_(decoder_of(*c.tokenizer)), detached_(detached) {}

  void publish(int64_t version) override {
    std::lock_guard<std::mutex> lock(mu_);
    if (!detached_) {
      live_version_ = version;
      return;
    }
    torch::NoGradGuard no_grad;
    auto copy = policy_->clone_model();
    copy->eval();
    frozen_[version] = std::move(copy);
  }

  std::vector<rollout::GroupResult> generate(const std::vector<rollout::GroupRequest>& requests, int64_t version,
                                             const rollout::GroupDoneFn& on_group_done) override {
    // The learner trains the same module: generation must not record autograd
    // graphs, and must not count MoE expert loads as training loads.
    torch::NoGradGuard no_grad;
    std::shared_ptr<policies::CausalLM> model = model_for(version);
    bool was_training = model->is_training();
    rollout::Engine engine(model, options_, decode_);
    engine.set_weight_version(version);
    auto out = engine.generate(requests, rollout::GenerateHooks{nullptr, on_group_done});
    if (was_training) model->train();
    return out;
  }
  std::string describe() const override { return detached_ ? "in-process engine on frozen weight copies" : "in-process engine"; }

 private:
  std::shared_ptr<policies::CausalLM> model_for(int64_t version) {
    std::lock_guard<std::mutex> lock(mu_);
    if (!detached_) {
      if (version != live_version_)
        throw Error("rollout: version " + std::to_string(version) + " requested, the live policy is version " + std::to_string(live_version_));
      return policy_;
    }
    auto it = frozen_.find(version);
    if (it == frozen_.end()) throw Error("rollout: weights version " + std::to_string(version) + " was never published");
    // Batches are launched with non-decreasing versions: older copies are done with.
    frozen_.erase(frozen_.begin(), it);
    return it->second;
  }

  std::shared_ptr<policies::CausalLM> policy_;
  rollout::EngineOptions options_;
  rollout::DecodeFn decode_;
  bool detached_;
  std::mutex mu_;
  int64_t live_version_ = -1;
  std::map<int64_t, std::shared_ptr<policies::CausalLM>> frozen_;
};

class WorkerRollout : public RolloutBackend {
 public:
  WorkerRollout(const Recipe& recipe, const TrainComponents& c, const std::string& run_path)
      : policy_(c.policy), workers_(recipe.rollout.workers), bf16_on_wire_(recipe.rollout.weight_wire_dtype == "bf16") {
    pool_ = std::make_unique<rollout::WorkerPool>(
        rollout::pool_options_from(recipe.rollout, recipe.model, c.policy->config().to_json(), read_file_or_empty(c.tokenizer->source())));
    // Local workers share the cores: no LibTorch pool larger than its share.
    threads_per_worker_ = std::max(1, available_cores() / workers_);
    for (int i = 0; i < workers_; ++i) pids_.push_back(spawn_worker(i));
  }

  ~WorkerRollout() override {
    pool_.reset();  // tells the workers to shut down
    for (pid_t pid : pids_) {
      int status = 0;
      // A worker that ignores shutdown for 5 s is killed: never leave orphans.
      for (int i = 0; i < 50 && waitpid(pid, &status, WNOHANG) == 0; ++i) usleep(100000);
      if (waitpid(pid, &status, WNOHANG) == 0) {
        kill(pid, SIGKILL);
        waitpid(pid, &status, 0);
      }
    }
  }

  void publish(int64_t version) override {
    torch::NoGradGuard no_grad;
    pool_->publish_weights(version, rollout::published_tensors(*policy_, bf16_on_wire_));
  }

  // The pool dispatches with the newest published version as the minimum, so
  // every result is from `version` or newer.
  std::vector<rollout::GroupResult> generate(const std::vector<rollout::GroupRequest>& requests, int64_t /*version*/,
                                             const rollout::GroupDoneFn& on_group_done) override {
    respawn_dead_workers();
    std::map<int64_t, size_t> index_of;
    for (size_t i = 0; i < requests.size(); ++i) {
      if (!index_of.emplace(requests[i].id, i).second)
        throw Error("rollout: request id " + std::to_string(requests[i].id) + " used twice in one batch");
      pool_->submit(requests[i]);
    }
    // Results arrive in completion order; callers want request order.
    std::vector<std::optional<rollout::GroupResult>> ordered(requests.size());
    size_t got = 0;
    while (got < requests.size()) {
      auto r = pool_->next_result(/*timeout_s=*/1.0);
      respawn_dead_workers();
      if (!r) {
        fail_if_no_worker_can_generate();
        continue;
      }
      auto it = index_of.find(r->id);
      if (it == index_of.end() || ordered[it->second])
        throw Error("rollout: unexpected result for request " + std::to_string(r->id) + " (not pending in this batch)");
      if (on_group_done) on_group_done(it->second, *r);
      ordered[it->second] = std::move(*r);
      ++got;
    }
    std::vector<rollout::GroupResult> out;
    for (auto& r : ordered) out.push_back(std::move(*r));
    return out;
  }

  int64_t respawns() const override { return respawns_; }
  std::string describe() const override {
    return std::to_string(workers_) + " worker process(es) at " + pool_->endpoint();
  }

 private:
  pid_t spawn_worker(int index) {
    std::string name = "w" + std::to_string(index);
    std::vector<std::string> args = {"/proc/self/exe", "rollout-worker", "--connect", pool_->endpoint(), "--name", name,
                                     "--threads", std::to_string(threads_per_worker_)};
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    pid_t pid = 0;
    if (posix_spawn(&pid, "/proc/self/exe", nullptr, nullptr, argv.data(), environ) != 0)
      throw Error("cannot start rollout worker " + name + ": posix_spawn failed");
    GRPO_LOG_INFO("train", "started rollout worker " << name << " (pid " << pid << ")");
    return pid;
  }

  // Local workers that all failed to build the model (a device this machine
  // lacks, say) would leave the run waiting forever: stop it with their reason.
  void fail_if_no_worker_can_generate() {
    auto s = pool_->snapshot();
    if (s.workers.empty()) return;
    for (const auto& w : s.workers)
      if (w.setup_error.empty()) return;
    throw Error("rollout: no worker can build the model (" + s.workers.front().name + ": " + s.workers.front().setup_error +
                "); check rollout.device and rollout.dtype");
  }

  void respawn_dead_workers() {
    for (size_t i = 0; i < pids_.size(); ++i) {
      int status = 0;
      if (waitpid(pids_[i], &status, WNOHANG) != pids_[i]) continue;
      GRPO_LOG_WARN("train", "rollout worker w" << i << " (pid " << pids_[i] << ") died ("
                                               << (WIFSIGNALED(status) ? "signal " + std::to_string(WTERMSIG(status))
                                                                       : "exit " + std::to_string(WEXITSTATUS(status)))
                                               << "); its requests are requeued and it is restarted");
      pids_[i] = spawn_worker(static_cast<int>(i));
      ++respawns_;
    }
  }

  std::shared_ptr<policies::CausalLM> policy_;
  int workers_;
  bool bf16_on_wire_;  // rollout.weight_wire_dtype = bf16
  int threads_per_worker_ = 1;
  std::unique_ptr<rollout::WorkerPool> pool_;
  std::vector<pid_t> pids_;
  std::atomic<int64_t> respawns_{0};  // read by the trainer thread, counted by the pipeline thread
};

}  // namespace

std::unique_ptr<RolloutBackend> make_rollout_backend(const Recipe& recipe, const TrainComponents& components,
                                                     const std::string& run_path) {
  if (recipe.rollout.workers == 0) return std::make_unique<LocalRollout>(recipe, components, recipe.rollout.mode == "async");
  return std::make_unique<WorkerRollout>(recipe, components, run_path);
}

}  // namespace grpo::train
