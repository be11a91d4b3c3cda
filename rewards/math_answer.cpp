// math_answer.cpp: see math_answer.h.
#include "rewards/math_answer.h"

#include <cctype>
#include <cmath>
#include <optional>
#include <random>

#include "rewards/internal/math_text.h"
#include "rewards/math_normalize.h"

namespace grpo::rewards::math {

namespace {

using Kind = MathAnswer::Kind;

constexpr size_t kMaxItems = 64;          // bounded set matching work (quadratic in items)
constexpr double kExactFormTol = 1e-9;    // roots and pi: doubles carry ~1e-15
constexpr int kRandomPoints = 6;
constexpr int kMinValidPoints = 3;

// Splits at top-level occurrences of `sep` (outside (), [], {}, \{ \}).
std::vector<std::string> split_top(const std::string& s, const std::string& sep) {
  std::vector<std::string> parts;
  int depth = 0;
  size_t last = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (c == '\\' && i + 1 < s.size() && (s[i + 1] == '{' || s[i + 1] == '}')) {
      depth += s[i + 1] == '{' ? 1 : -1;
      ++i;
      continue;
    }
    if (c == '(' || c == '[' || c == '{') ++depth;
    if (c == ')' || c == ']' || c == '}') --depth;
    if (depth == 0 && s.compare(i, sep.size(), sep) == 0) {
      parts.push_back(s.substr(last, i - last));
      last = i + sep.size();
      i += sep.size() - 1;
    }
  }
  parts.push_back(s.substr(last));
  return parts;
}

// Whether s[0] and s.back() are a matching outer pair ("(1,2)" yes, "(1)+(2)" no).
bool outer_pair(const std::string& s, size_t open_len, size_t close_len) {
  int depth = 0;
  for (size_t i = open_len; i + close_len < s.size(); ++i) {
    char c = s[i];
    if (c == '(' || c == '[' || c == '{') ++depth;
    if (c == ')' || c == ']' || c == '}') {
      if (--depth < 0) return false;
    }
  }
  return depth == 0;
}

MathAnswer parse_normalised(const std::string& s, int depth);

MathAnswer list_of(Kind kind, const std::vector<std::string>& parts, const std::string& text, int depth) {
  MathAnswer a;
  a.kind = kind;
  a.text = text;
  for (const auto& p : parts) {
    if (a.items.size() >= kMaxItems) return MathAnswer{Kind::kText, nullptr, false, {}, false, false, text};
    a.items.push_back(parse_normalised(trim(p), depth + 1));
  }
  return a;
}

MathAnswer parse_normalised(const std::string& s, int depth) {
  MathAnswer a;
  a.text = s;
  if (s.empty()) return a;
  a.kind = Kind::kText;
  if (depth > 8) return a;
  // A hedge: "3 or 4", "3 and 4" (from \text{ or }) is the set of candidates.
  for (const char* joiner : {" or ", " and "}) {
    auto parts = split_top(s, joiner);
    if (parts.size() > 1) return list_of(Kind::kSet, parts, s, depth);
  }
  // "x \in [1, 2]": the answer is the set.
  auto in = split_top(s, "\\in ");
  if (in.size() == 2) return parse_normalised(trim(in[1]), depth + 1);
  auto unions = split_top(s, "\\cup");
  if (unions.size() > 1) return list_of(Kind::kSet, unions, s, depth);
  // Equations: "x = 3", "y = 2x + 1"; in a chain "x = 1 + 2 = 3" the last part.
  auto sides = split_top(s, "=");
  if (sides.size() >= 2) {
    MathAnswer eq;
    eq.kind = Kind::kEquation;
    eq.text = s;
    eq.items.push_back(parse_normalised(trim(sides.front()), depth + 1));
    eq.items.push_back(parse_normalised(trim(sides.back()), depth + 1));
    return eq;
  }
  if (s.size() >= 4 && s.compare(0, 2, "\\{") == 0 && s.compare(s.size() - 2, 2, "\\}") == 0 && outer_pair(s, 2, 2))
    return list_of(Kind::kSet, split_top(s.substr(2, s.size() - 4), ","), s, depth);
  char open = s.front(), close = s.back();
  if ((open == '(' || open == '[') && (close == ')' || close == ']') && outer_pair(s, 1, 1)) {
    auto parts = split_top(s.substr(1, s.size() - 2), ",");
    if (parts.size() == 2 && (open == '[' || close == ']')) {
      MathAnswer iv = list_of(Kind::kInterval, parts, s, depth);
      iv.low_closed = open == '[';
      iv.high_closed = close == ']';
      return iv;
    }
    if (parts.size() >= 2) return list_of(Kind::kTuple, parts, s, depth);
  }
  auto parts = split_top(s, ",");
  if (parts.size() > 1) return list_of(Kind::kSet, parts, s, depth);
  bool percent = false;
  a.expr = parse_expr(s, &percent);
  if (a.expr) {
    a.kind = Kind::kScalar;
    a.percent = percent;
  }
  return a;
}

std::string squash(const std::string& s) {
  std::string out;
  for (char c : s)
    if (!std::isspace(static_cast<unsigned char>(c))) out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

bool close_enough(double a, double b, double tol) {
  if (std::isinf(a) || std::isinf(b)) return a == b;
  return std::fabs(a - b) <= tol * std::max({1.0, std::fabs(a), std::fabs(b)});
}

// Equality of two exact rationals, with a tolerance when a decimal is involved.
bool rational_equal(const mpq_class& a, const mpq_class& b, bool approximate, double rel_tol) {
  if (!approximate) return a == b;
  mpq_class diff = abs(a - b);
  mpq_class scale = std::max({mpq_class(1), mpq_class(abs(a)), mpq_class(abs(b))});
  return diff <= mpq_class(rel_tol) * scale;
}

// true/false, or nullopt when the values cannot be compared (both overflow or
// are undefined everywhere): the caller then compares the text.
std::optional<bool> expr_equal(const Expr& g, const Expr& p, const EquivalenceOptions& o) {
  // Variables of either side: sin^2 x + cos^2 x equals 1, x + y differs from x + z.
  std::set<std::string> gs;
  free_symbols(g, &gs);
  free_symbols(p, &gs);
  const bool approximate = has_decimal(g) || has_decimal(p);
  if (gs.empty()) {
    auto ge = eval_exact(g), pe = eval_exact(p);
    if (ge && pe) return rational_equal(*ge, *pe, approximate, o.rel_tol);
    double gd = eval_double(g, {}), pd = eval_double(p, {});
    const bool g_inf = g.op == Expr::Op::kInf || (g.op == Expr::Op::kNeg && g.args[0]->op == Expr::Op::kInf);
    const bool p_inf = p.op == Expr::Op::kInf || (p.op == Expr::Op::kNeg && p.args[0]->op == Expr::Op::kInf);
    if (g_inf || p_inf) return g_inf && p_inf && gd == pd;
    // Overflowed (10^{10^{10}}) or undefined on both sides: not comparable as numbers.
    if (!std::isfinite(gd) && !std::isfinite(pd)) return std::nullopt;
    if (!std::isfinite(gd) || !std::isfinite(pd)) return false;
    return close_enough(gd, pd, approximate ? o.rel_tol : kExactFormTol);
  }
  // Symbolic: equal values at pseudo-random points. The seed is fixed so the
  // grade is deterministic; non-integer points of both signs avoid most
  // removable poles and tell sqrt(x^2) from x. Points where either side is
  // undefined (sqrt or log of a negative) are skipped.
  std::mt19937_64 rng(0x5eed);
  std::uniform_real_distribution<double> magnitude(0.31, 2.73);
  std::bernoulli_distribution negative(0.5);
  auto draw = [&] { double m = magnitude(rng); return negative(rng) ? -m : m; };
  int valid = 0;
  for (int k = 0; k < kRandomPoints * 3 && valid < kRandomPoints; ++k) {
    std::map<std::string, double> vars;
    for (const auto& name : gs) vars[name] = draw();
    double gd = eval_double(g, vars), pd = eval_double(p, vars);
    if (!std::isfinite(gd) || !std::isfinite(pd)) continue;
    if (!close_enough(gd, pd, approximate ? o.rel_tol : kExactFormTol)) return false;
    ++valid;
  }
  if (valid >= kMinValidPoints) return true;
  return std::nullopt;
}

bool scalar_equal(const MathAnswer& g, const MathAnswer& p, const EquivalenceOptions& o) {
  std::optional<bool> same = expr_equal(*g.expr, *p.expr, o);
  if (!same) return squash(g.text) == squash(p.text);
  if (*same) return true;
  // "50%" against 50: compare without the division by 100 on the percent side(s).
  if (g.percent || p.percent) {
    const Expr& gs = g.percent ? *g.expr->args[0] : *g.expr;
    const Expr& ps = p.percent ? *p.expr->args[0] : *p.expr;
    return expr_equal(gs, ps, o).value_or(false);
  }
  return false;
}

bool is_symbol(const MathAnswer& a) {
  return a.kind == Kind::kScalar && a.expr->op == Expr::Op::kSym;
}

bool sets_equal(const std::vector<MathAnswer>& g, const std::vector<MathAnswer>& p, const EquivalenceOptions& o) {
  if (g.size() != p.size()) return false;
  std::vector<bool> used(p.size(), false);
  for (const auto& gi : g) {
    bool matched = false;
    for (size_t j = 0; j < p.size() && !matched; ++j) {
      if (!used[j] && equivalent(gi, p[j], o)) used[j] = matched = true;
    }
    if (!matched) return false;
  }
  return true;
}

}  // namespace

MathAnswer parse_answer(const std::string& latex) {
  return parse_normalised(normalize_latex(latex), 0);
}

bool equivalent(const MathAnswer& g, const MathAnswer& p, const EquivalenceOptions& o) {
  if (g.kind == Kind::kEmpty || p.kind == Kind::kEmpty) return false;
  // A one-element set is its element: "\{3\}" against 3.
  if (g.kind == Kind::kSet && g.items.size() == 1) return equivalent(g.items[0], p, o);
  if (p.kind == Kind::kSet && p.items.size() == 1) return equivalent(g, p.items[0], o);
  // Equations: "x = 3" against 3 compares the right-hand side.
  if (g.kind == Kind::kEquation && p.kind == Kind::kEquation) {
    if (is_symbol(g.items[0]) && is_symbol(p.items[0]))
      return g.items[0].expr->name == p.items[0].expr->name && equivalent(g.items[1], p.items[1], o);
    return equivalent(g.items[0], p.items[0], o) && equivalent(g.items[1], p.items[1], o);
  }
  if (p.kind == Kind::kEquation) return is_symbol(p.items[0]) && equivalent(g, p.items[1], o);
  if (g.kind == Kind::kEquation) return is_symbol(g.items[0]) && equivalent(g.items[1], p, o);
  if (g.kind == Kind::kScalar && p.kind == Kind::kScalar) return scalar_equal(g, p, o);
  if (g.kind == Kind::kSet && p.kind == Kind::kSet) return sets_equal(g.items, p.items, o);
  if (g.kind == Kind::kTuple && p.kind == Kind::kTuple) {
    if (g.items.size() != p.items.size()) return false;
    for (size_t i = 0; i < g.items.size(); ++i)
      if (!equivalent(g.items[i], p.items[i], o)) return false;
    return true;
  }
  if (g.kind == Kind::kInterval && p.kind == Kind::kInterval)
    return g.low_closed == p.low_closed && g.high_closed == p.high_closed && equivalent(g.items[0], p.items[0], o) &&
           equivalent(g.items[1], p.items[1], o);
  // An open interval and a pair are written the same way: "(1, 2)".
  auto open_pair = [&](const MathAnswer& iv, const MathAnswer& t) {
    return iv.kind == Kind::kInterval && !iv.low_closed && !iv.high_closed && t.kind == Kind::kTuple &&
           t.items.size() == 2 && equivalent(iv.items[0], t.items[0], o) && equivalent(iv.items[1], t.items[1], o);
  };
  if (open_pair(g, p) || open_pair(p, g)) return true;
  if (g.kind == Kind::kText || p.kind == Kind::kText) return !squash(g.text).empty() && squash(g.text) == squash(p.text);
  return false;  // different kinds: a set never equals a scalar, a tuple never a set
}

}  // namespace grpo::rewards::math
