// math_answer.h: a parsed answer (a number or expression, a set, a tuple, an
// interval, an equation, or plain text) and the equivalence of two of them.
//
//   MathAnswer gold = parse_answer("\\frac{1}{2}");
//   MathAnswer pred = parse_answer("0.5");
//   bool ok = equivalent(gold, pred, {});      // true
//
// Rules (Math-Verify's where in doubt; departures marked DEVIATION in the .cpp
// and listed in docs/math-grading.md):
// - numbers: exact GMP rationals when both sides are exact and written without
//   decimals; with a decimal on either side, |a-b| <= rel_tol * max(1,|a|,|b|);
//   irrational closed forms (roots, pi) compare in doubles to 1e-9 relative;
// - percentages: "50%" matches 50 and 0.5;
// - expressions with variables: equal values at several pseudo-random points
//   of both signs over the variables of either side (fixed seed; points where
//   either side is undefined are skipped; at least three must remain);
// - sets: order-free, same size; tuples: ordered; intervals: same ends and
//   brackets, and an open interval equals the pair "(a, b)";
// - equations: "x = 3" against "3" compares the right-hand side;
// - a set of several elements (also a hedge "3 or 4") never equals a scalar;
// - anything unparsable compares as normalised text.
// Pure functions: thread-safe.
#pragma once

#include <string>
#include <vector>

#include "rewards/math_expr.h"

namespace grpo::rewards::math {

struct MathAnswer {
  enum class Kind { kEmpty, kScalar, kSet, kTuple, kInterval, kEquation, kText };
  Kind kind = Kind::kEmpty;
  ExprPtr expr;                    // kScalar
  bool percent = false;            // kScalar written with '%'
  std::vector<MathAnswer> items;   // kSet, kTuple; kInterval: {low, high}; kEquation: {lhs, rhs}
  bool low_closed = false;         // kInterval
  bool high_closed = false;        // kInterval
  std::string text;                // normalised text (every kind, for the text fallback)
};

struct EquivalenceOptions {
  double rel_tol = 1e-6;  // for comparisons that involve a decimal number
};

// Normalises `latex` (math_normalize.h) and parses it.
MathAnswer parse_answer(const std::string& latex);

bool equivalent(const MathAnswer& gold, const MathAnswer& pred, const EquivalenceOptions& options);

}  // namespace grpo::rewards::math
