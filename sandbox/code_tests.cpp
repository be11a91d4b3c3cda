// code_tests.cpp: stdin/stdout and assertion test runs.
#include "sandbox/code_tests.h"

namespace grpo::sandbox {
namespace {

void record_sandbox_error(CodeTestReport& r, const Execution& e) {
  r.sandbox_error = true;
  r.sandbox_detail = e.detail;
}

}  // namespace

CodeTestReport run_io_tests(Runner& runner, const Program& program, const std::vector<IoCase>& cases,
                            const CodeTestOptions& options) {
  CodeTestReport report;
  report.total = cases.size();
  std::vector<std::string> inputs;
  for (const IoCase& c : cases) inputs.push_back(c.input);
  auto judge = [&](const Execution& e, size_t i) {
    CaseOutcome outcome{e.verdict, e.detail};
    if (e.verdict == Verdict::kOk) {
      CompareResult cmp = compare_output(e.stdout_text, cases[i].output, options.compare);
      if (cmp.match) ++report.passed;
      else outcome = {Verdict::kWrongAnswer, cmp.reason};
    }
    if (e.verdict == Verdict::kSandboxError) record_sandbox_error(report, e);
    report.cases.push_back(outcome);
    return !(options.stop_on_first_failure && outcome.verdict != Verdict::kOk);
  };
  std::vector<Execution> runs = runner.run_inputs(program, inputs, options.limits, judge);
  // A compile error (or sandbox error before any case) comes back alone, unjudged.
  if (report.cases.empty() && !runs.empty()) {
    report.cases.push_back({runs.front().verdict, runs.front().detail});
    if (runs.front().verdict == Verdict::kSandboxError) record_sandbox_error(report, runs.front());
  }
  return report;
}

CodeTestReport run_assert_tests(Runner& runner, const Program& program, const std::vector<std::string>& snippets,
                                const CodeTestOptions& options) {
  CodeTestReport report;
  report.total = snippets.size();
  for (const std::string& snippet : snippets) {
    Program p = program;
    p.source += "\n\n" + snippet + "\n";
    Execution e = runner.run(p, options.limits);
    CaseOutcome outcome{e.verdict, e.detail};
    if (e.verdict == Verdict::kOk) ++report.passed;
    if (e.verdict == Verdict::kRuntimeError && e.stderr_text.find("AssertionError") != std::string::npos)
      outcome = {Verdict::kWrongAnswer, "assertion failed"};
    report.cases.push_back(outcome);
    if (e.verdict == Verdict::kSandboxError) {
      record_sandbox_error(report, e);
      break;
    }
    if (options.stop_on_first_failure && e.verdict != Verdict::kOk) break;
  }
  return report;
}

}  // namespace grpo::sandbox
