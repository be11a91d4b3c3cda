// math_expr.h: a small parser for answer expressions written in (normalised)
// LaTeX or plain text, and their evaluation: exactly with GMP rationals where
// the expression is rational, else in doubles at given variable values.
//
//   ExprPtr e = parse_expr("2\\sqrt{3}+\\frac{x}{2}");   // nullptr when it is not an expression
//   std::optional<mpq_class> q = eval_exact(*e);         // nullopt: irrational, symbolic or too big
//   double v = eval_double(*e, {{"x", 1.5}});
//
// Understood: integers, decimals, 1.5e-3, \frac{a}{b} (and \frac12), mixed
// numbers 3\frac{1}{2}, + - * / ^ ! %, \cdot \times \div, implicit products
// (2x, 2\pi, (a)(b)), \sqrt{x} \sqrt[n]{x}, |x|, \pi, e, \infty, single-letter
// variables and Greek letters, \sin \cos \tan \ln \log \exp.
// Bounded work: exact powers only up to kMaxExactBits bits, exact factorials
// up to kMaxExactFactorial; larger ones fall to doubles (which may overflow to
// inf, and the grader then compares text). Nesting is limited to kMaxDepth.
// Pure functions, no global state: thread-safe.
#pragma once

#include <gmpxx.h>

#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace grpo::rewards::math {

constexpr long kMaxExactBits = 1 << 16;
constexpr long kMaxExactFactorial = 1000;
constexpr int kMaxDepth = 200;

struct Expr;
using ExprPtr = std::shared_ptr<const Expr>;

// One node of an expression tree.
struct Expr {
  enum class Op { kNum, kSym, kAdd, kSub, kMul, kDiv, kPow, kNeg, kFunc, kFact, kAbs, kInf };
  Op op = Op::kNum;
  mpq_class num;             // kNum
  bool decimal = false;      // kNum written with a decimal point or exponent (an approximation)
  std::string name;          // kSym variable name ("x", "alpha", "pi", "e"), kFunc function name
  std::vector<ExprPtr> args;
};

// Parses a whole expression; nullptr when `text` is not one (trailing junk,
// unbalanced brackets, unknown commands). `percent` is set when the value
// ends in '%' (the node then already divides by 100).
ExprPtr parse_expr(const std::string& text, bool* percent = nullptr);

// The exact rational value, or nullopt (symbols, roots of non-squares, pi,
// functions, division by zero, sizes past the bounds above).
std::optional<mpq_class> eval_exact(const Expr& e);

// The value in doubles; `vars` gives each free variable (pi and e are constants).
double eval_double(const Expr& e, const std::map<std::string, double>& vars);

// Free variables (pi, e and infinity excluded).
void free_symbols(const Expr& e, std::set<std::string>* out);

// True when some number literal in the tree is a decimal.
bool has_decimal(const Expr& e);

}  // namespace grpo::rewards::math
