// runner.h: runs one untrusted program under limits and says how it went.
//
//   auto runner = make_runner(config);               // throws grpo::Error if the sandbox refuses
//   Execution e = runner->run({Language::kPython, "print(input())", "hi\n"}, config.limits);
//   if (e.verdict == Verdict::kOk) use(e.stdout_text);
//
// Implementations: IsolatedRunner (namespace and Landlock tiers, isolated_runner.h);
// tests of callers may fake it. run() is thread-safe: a pool calls it from many threads.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "sandbox/doctor.h"
#include "sandbox/execution.h"
#include "sandbox/limits.h"
#include "sandbox/program.h"
#include "sandbox/sandbox_config.h"

namespace grpo::sandbox {

class Runner {
 public:
  virtual ~Runner() = default;
  // Runs `program` (compiling it first for C++) under `limits`. Never throws for
  // anything the program does; a failure of the sandbox is Verdict::kSandboxError.
  virtual Execution run(const Program& program, const Limits& limits) = 0;
  // Runs `program` once per input, in order (a C++ program is compiled once);
  // stops after the first execution for which keep_going(execution, index) is
  // false. A compile or sandbox failure is returned as the single execution.
  virtual std::vector<Execution> run_inputs(const Program& program, const std::vector<std::string>& inputs,
                                            const Limits& limits,
                                            const std::function<bool(const Execution&, size_t)>& keep_going = nullptr);
  // The tier and layers in use (what `grpo sandbox doctor` prints).
  virtual const SandboxPlan& plan() const = 0;
};

// Probes the kernel, plans the tier and returns the runner. Throws grpo::Error
// with the plan's refusal when a layer is missing and config.accept_weaker is off.
std::unique_ptr<Runner> make_runner(const SandboxConfig& config);

}  // namespace grpo::sandbox
