// command_reward.h: a reward computed by an external, persistent process
// (usually a Python script). The process is started once and kept; each batch
// is written to its stdin as JSON lines, one sample per line:
//
//   {"id": 0, "prompt": "...", "completion": "...", "completion_tokens": 12,
//    "finish_reason": "stop", "row": {"answer": "42", ...}}
//
// and it answers one JSON line per sample, in any order:
//
//   {"id": 0, "score": 1.0}      or      {"id": 0, "error": "why it cannot score"}
//
// Recipe: {"type": "command", "command": ["python3", "examples/custom-reward/my_reward.py"]}
// Params: timeout_s (per batch; default 0.8 x the reward's timeout_s so that
// this fires before the pool's limit). On timeout the process is killed; when
// it crashes or writes a line that is not such an object, the unanswered
// samples of the batch score 0 with an error naming the cause, and a fresh
// process is started for the next batch. stderr is passed through (use it for
// debug prints: stdout carries only answers). The environment gets
// PYTHONUNBUFFERED=1 so that a Python print reaches us without flush=True.
// Thread-safe: one batch at a time talks to the process (a mutex).
#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "rewards/reward.h"
#include "rewards/reward_spec.h"

namespace grpo::rewards {

namespace internal {
class ChildProcess;
}

class CommandReward : public Reward {
 public:
  CommandReward(std::vector<std::string> command, double timeout_s);
  explicit CommandReward(const RewardSpec& spec);
  ~CommandReward() override;

  RewardResult score(const Sample& sample) const override;
  std::vector<RewardResult> score_batch(const std::vector<Sample>& samples) const override;
  bool prefers_batch() const override { return true; }

  // Processes started so far (1 after the first batch; more after crashes).
  int starts() const;

 private:
  std::vector<RewardResult> run_batch(const std::vector<Sample>& samples) const;

  std::vector<std::string> command_;
  double timeout_s_ = 24.0;
  mutable std::mutex mutex_;
  mutable std::unique_ptr<internal::ChildProcess> child_;  // GUARDED_BY(mutex_)
  mutable int starts_ = 0;                                 // GUARDED_BY(mutex_)
};

}  // namespace grpo::rewards
