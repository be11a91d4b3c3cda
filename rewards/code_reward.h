// code_reward.h: the `code` reward: extract the program from the completion,
// run it in the sandbox against the row's tests, score the fraction passed
// (or 1/0 all-or-nothing).
//
// Program: the last fenced block of the language (```python / ```cpp), else the
// last untagged fenced block, else (source = auto/answer) the <answer> section.
// Tests (format = auto picks by the row's keys):
//   io:     row.input_output / row.tests = {"inputs": [...], "outputs": [...]} (APPS,
//           also as a JSON string), or [{"input":..., "output":...}], or
//           {"input": [...], "output": [...]} (CodeContests public/private tests)
//   assert: row.test_list = ["assert f(1) == 2", ...] (MBPP, each one test; with
//           row.test_setup_code / test_imports prepended), or row.test + row.entry_point
//           (HumanEval: `check(<entry_point>)` appended, one test)
// Params: language (python|cpp), source (auto|fenced|answer), format (auto|io|assert),
// tests_field, mode (fraction|all_or_nothing), stop_on_first_failure,
// float_tolerance (0 = exact), tokens, cpu_ms, wall_ms, memory_mb, tier,
// accept_weaker, workers. A sandbox failure is a RewardResult error, never a 0 for the program.
// Thread-safe.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "rewards/reward.h"
#include "rewards/reward_spec.h"
#include "sandbox/code_tests.h"
#include "sandbox/pool.h"
#include "sandbox/runner.h"

namespace grpo::rewards {

// The program in `completion` for `language`, or nullopt when there is none.
std::optional<std::string> extract_program(const std::string& completion, sandbox::Language language,
                                           const std::string& source = "auto");

struct CodeRewardOptions {
  sandbox::Language language = sandbox::Language::kPython;
  std::string source = "auto";
  std::string format = "auto";
  std::string tests_field;  // "" = by format: input_output, tests, public_tests / test_list, test
  bool all_or_nothing = false;
  sandbox::CodeTestOptions tests;
  sandbox::SandboxConfig sandbox;
};

class CodeReward : public Reward {
 public:
  explicit CodeReward(const RewardSpec& spec);
  // With a given runner (tests use a fake or a shared one); the runner must outlive the reward.
  CodeReward(CodeRewardOptions options, sandbox::Runner& runner);

  RewardResult score(const Sample& sample) const override;
  std::vector<RewardResult> score_batch(const std::vector<Sample>& samples) const override;
  bool prefers_batch() const override { return true; }

 private:
  CodeRewardOptions options_;
  std::unique_ptr<sandbox::Runner> owned_runner_;
  sandbox::Runner* runner_;
  std::unique_ptr<sandbox::SandboxPool> pool_;
};

}  // namespace grpo::rewards
