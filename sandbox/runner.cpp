// runner.cpp: the default Runner::run_inputs (one run() per input).
#include "sandbox/runner.h"

namespace grpo::sandbox {

std::vector<Execution> Runner::run_inputs(const Program& program, const std::vector<std::string>& inputs,
                                          const Limits& limits,
                                          const std::function<bool(const Execution&, size_t)>& keep_going) {
  std::vector<Execution> out;
  Program p = program;
  for (size_t i = 0; i < inputs.size(); ++i) {
    p.stdin_text = inputs[i];
    out.push_back(run(p, limits));
    if (out.back().verdict == Verdict::kSandboxError || out.back().verdict == Verdict::kCompileError) break;
    if (keep_going && !keep_going(out.back(), i)) break;
  }
  return out;
}

}  // namespace grpo::sandbox
