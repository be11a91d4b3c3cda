// code_tests.h: judging a program against test cases, the logic behind the
// `code` reward: stdin/stdout cases (APPS, CodeContests) compared outside the
// sandbox, or assertion snippets appended to the program (HumanEval, MBPP).
//
//   CodeTestReport r = run_io_tests(runner, {Language::kPython, source}, cases, options);
//   double reward = r.fraction();   // or r.all_passed() ? 1 : 0
//
// Thread-safe when the runner is (IsolatedRunner is).
#pragma once

#include <string>
#include <vector>

#include "sandbox/output_compare.h"
#include "sandbox/runner.h"

namespace grpo::sandbox {

struct IoCase {
  std::string input;
  std::string output;
};

struct CodeTestOptions {
  Limits limits;
  CompareOptions compare;
  bool stop_on_first_failure = false;  // the rest count as failed
};

// How one test case went: kOk, kWrongAnswer, or the run's own verdict.
struct CaseOutcome {
  Verdict verdict = Verdict::kSandboxError;
  std::string detail;
};

struct CodeTestReport {
  size_t total = 0;
  size_t passed = 0;
  std::vector<CaseOutcome> cases;  // the cases that ran, in order
  bool sandbox_error = false;      // the sandbox failed: the score says nothing about the program
  std::string sandbox_detail;

  double fraction() const { return total == 0 ? 0.0 : static_cast<double>(passed) / static_cast<double>(total); }
  bool all_passed() const { return total > 0 && passed == total; }
};

// Runs the program once per case and compares its stdout with the expected output.
CodeTestReport run_io_tests(Runner& runner, const Program& program, const std::vector<IoCase>& cases,
                            const CodeTestOptions& options);

// Runs program + "\n" + snippet for each snippet (assert statements, a HumanEval
// check(...) call); a case passes when the run exits 0.
CodeTestReport run_assert_tests(Runner& runner, const Program& program, const std::vector<std::string>& snippets,
                                const CodeTestOptions& options);

}  // namespace grpo::sandbox
