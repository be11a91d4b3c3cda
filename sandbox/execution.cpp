// execution.cpp: verdict names and the JSON form of an Execution.
#include "sandbox/execution.h"

namespace grpo::sandbox {

const char* verdict_name(Verdict v) {
  switch (v) {
    case Verdict::kOk: return "ok";
    case Verdict::kWrongAnswer: return "wrong_answer";
    case Verdict::kTimeLimit: return "time_limit";
    case Verdict::kMemoryLimit: return "memory_limit";
    case Verdict::kOutputLimit: return "output_limit";
    case Verdict::kRuntimeError: return "runtime_error";
    case Verdict::kBlocked: return "blocked";
    case Verdict::kCompileError: return "compile_error";
    case Verdict::kSandboxError: return "sandbox_error";
  }
  return "sandbox_error";
}

// Outputs may be binary: invalid UTF-8 is replaced so the JSON stays valid.
static nlohmann::json text(const std::string& s) {
  return nlohmann::json::parse(nlohmann::json(s).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
}

nlohmann::json Execution::to_json() const {
  return {{"verdict", verdict_name(verdict)},
          {"exit_code", exit_code},
          {"signal", signal},
          {"stdout", text(stdout_text)},
          {"stderr", text(stderr_text)},
          {"stdout_truncated", stdout_truncated},
          {"stderr_truncated", stderr_truncated},
          {"cpu_ms", cpu_ms},
          {"wall_ms", wall_ms},
          {"peak_memory_kb", peak_memory_kb},
          {"detail", detail}};
}

}  // namespace grpo::sandbox
