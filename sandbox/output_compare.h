// output_compare.h: judges a program's stdout against the expected output,
// outside the sandbox (expected outputs never enter it).
//
// Lines are compared one by one after dropping trailing whitespace (and \r)
// of each line and trailing empty lines of both texts; a missing or extra
// line is a mismatch; comparison is case-sensitive. Options: a float
// tolerance (only when a test asks for one) and a token mode that ignores
// how whitespace splits the output into lines (CodeContests-style checkers).
#pragma once

#include <optional>
#include <string>

namespace grpo::sandbox {

struct CompareOptions {
  // Tokens that both parse as numbers match when |a - b| <= tol * max(1, |b|).
  std::optional<double> float_tolerance;
  // Compare whitespace-separated tokens of the whole output, ignoring line breaks.
  bool tokens = false;
};

struct CompareResult {
  bool match = false;
  std::string reason;  // first difference, e.g. "line 2: expected '3', got '4'"
};

CompareResult compare_output(const std::string& actual, const std::string& expected, const CompareOptions& options = {});

}  // namespace grpo::sandbox
