// execution.h: what one sandboxed run produced: a verdict, how the program
// ended, its (capped) outputs and what it used. A value, never an exception:
// a crashing or hostile program is a normal outcome here.
#pragma once

#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

namespace grpo::sandbox {

// How a run ended. kWrongAnswer is only set by callers that compare outputs
// (output_compare.h, code_tests.h); the runner itself never knows the answer.
enum class Verdict {
  kOk,            // exited with status 0 within every limit
  kWrongAnswer,   // ran fine, output differs from the expected one
  kTimeLimit,     // CPU or wall-clock limit
  kMemoryLimit,   // memory cgroup OOM, or the language runtime's out-of-memory error
  kOutputLimit,   // stdout over its cap, or a file over RLIMIT_FSIZE
  kRuntimeError,  // non-zero exit or a crash signal
  kBlocked,       // killed by the policy (a forbidden system call: SIGSYS from seccomp)
  kCompileError,  // the C++ compile step failed
  kSandboxError,  // the sandbox itself failed; says nothing about the program
};

// "ok", "wrong_answer", "time_limit", ..., "sandbox_error".
const char* verdict_name(Verdict v);

// Result of one run. stdout/stderr hold at most the caps of Limits.
struct Execution {
  Verdict verdict = Verdict::kSandboxError;
  int exit_code = -1;     // exit status when the program exited, else -1
  int signal = 0;         // terminating signal when it was killed, else 0
  std::string stdout_text;
  std::string stderr_text;
  bool stdout_truncated = false;
  bool stderr_truncated = false;
  int64_t cpu_ms = 0;         // user + system time of the tree's reaped processes
  int64_t wall_ms = 0;        // launch to exit, sandbox set-up included
  int64_t peak_memory_kb = 0; // cgroup peak where available, else the largest process's max RSS
  std::string detail;         // why, in words: "wall clock 1000 ms", "seccomp: blocked system call", ...

  bool ok() const { return verdict == Verdict::kOk; }
  nlohmann::json to_json() const;
};

}  // namespace grpo::sandbox
