// isolated_runner.h: the real Runner. Each run starts the init program
// (grpo-sandbox-init, sandbox/init/) that builds the isolation and forks the program;
// this side writes ids and cgroups, feeds stdin from a memfd, collects capped
// stdout/stderr, enforces the wall clock and turns what happened into a verdict.
// Thread-safe; one instance serves a whole pool.
#pragma once

#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "sandbox/internal/init_program.h"
#include "sandbox/internal/launch_plan.h"
#include "sandbox/runner.h"

namespace grpo::sandbox {

class IsolatedRunner : public Runner {
 public:
  // `plan` must have a tier (plan.tier non-empty); make_runner checks the refusal.
  IsolatedRunner(SandboxConfig config, SandboxPlan plan);
  Execution run(const Program& program, const Limits& limits) override;
  std::vector<Execution> run_inputs(const Program& program, const std::vector<std::string>& inputs, const Limits& limits,
                                    const std::function<bool(const Execution&, size_t)>& keep_going) override;
  const SandboxPlan& plan() const override { return plan_; }

 private:
  struct File {
    int fd;
    std::string name;
    int mode;
  };
  struct Step {
    std::vector<std::string> argv;  // argv[0] absolute; "{work}" is replaced by the working directory
    std::vector<File> files;
    const Limits* limits = nullptr;
    const std::string* stdin_text = nullptr;
    int out_fd = -1;  // receives {work}/<out_name> after a successful run
    std::string out_name;
  };

  Execution run_step(const Step& step);
  // Compiles C++ `source_fd` into `binary_fd`; kOk or the failed execution (kCompileError, kSandboxError).
  Execution compile(int source_fd, int binary_fd);
  void prepare_root();
  std::vector<internal::Rlimit> rlimits(const Limits& limits) const;
  int acquire_slot();
  void release_slot(int slot);

  SandboxConfig config_;
  SandboxPlan plan_;
  bool namespaces_;
  std::string scratch_;
  std::unique_ptr<internal::InitProgram> init_;
  internal::LaunchPlan base_;  // the parts every run shares
  std::mutex slots_mutex_;
  std::vector<int> slot_fds_;  // GUARDED_BY(slots_mutex_): held slot lock files, -1 when free
};

}  // namespace grpo::sandbox
