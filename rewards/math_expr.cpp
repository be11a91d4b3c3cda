// math_expr.cpp: see math_expr.h. A recursive-descent parser over characters.
#include "rewards/math_expr.h"

#include <cctype>
#include <cmath>
#include <cstring>
#include <string_view>

#include "rewards/internal/math_text.h"

namespace grpo::rewards::math {

namespace {

const char* const kGreek[] = {"alpha", "beta",  "gamma", "delta", "epsilon", "varepsilon", "zeta", "eta",
                              "theta", "vartheta", "iota", "kappa", "lambda", "mu", "nu", "xi", "rho",
                              "sigma", "tau", "upsilon", "phi", "varphi", "chi", "psi", "omega"};
const char* const kFunctions[] = {"sin", "cos", "tan", "cot", "sec", "csc", "ln", "log", "exp", "arcsin", "arccos", "arctan"};

ExprPtr node(Expr::Op op, std::vector<ExprPtr> args = {}) {
  auto e = std::make_shared<Expr>();
  e->op = op;
  e->args = std::move(args);
  return e;
}

ExprPtr number(const mpq_class& q, bool decimal) {
  auto e = std::make_shared<Expr>();
  e->op = Expr::Op::kNum;
  e->num = q;
  e->decimal = decimal;
  return e;
}

ExprPtr symbol(std::string name) {
  auto e = std::make_shared<Expr>();
  e->op = Expr::Op::kSym;
  e->name = std::move(name);
  return e;
}

ExprPtr function(std::string name, std::vector<ExprPtr> args) {
  auto e = std::make_shared<Expr>();
  e->op = Expr::Op::kFunc;
  e->name = std::move(name);
  e->args = std::move(args);
  return e;
}

class Parser {
 public:
  explicit Parser(const std::string& s) : s_(s) {}

  ExprPtr parse_all(bool* percent) {
    ExprPtr e = sum();
    skip_ws();
    if (e && at('%')) {
      ++i_;
      skip_ws();
      if (percent) *percent = true;
      e = node(Expr::Op::kDiv, {e, number(100, false)});
    }
    skip_ws();
    if (!e || i_ != s_.size()) return nullptr;
    return e;
  }

 private:
  void skip_ws() {
    while (i_ < s_.size() && std::isspace(static_cast<unsigned char>(s_[i_]))) ++i_;
  }
  bool at(char c) const { return i_ < s_.size() && s_[i_] == c; }
  bool eat(char c) {
    skip_ws();
    if (!at(c)) return false;
    ++i_;
    return true;
  }
  // "\name" not followed by more letters.
  bool at_cmd(std::string_view name) const {
    if (i_ >= s_.size() || s_[i_] != '\\' || s_.compare(i_ + 1, name.size(), name) != 0) return false;
    size_t e = i_ + 1 + name.size();
    return e >= s_.size() || !is_alpha(s_[e]);
  }
  bool eat_cmd(std::string_view name) {
    skip_ws();
    if (!at_cmd(name)) return false;
    i_ += 1 + name.size();
    return true;
  }

  struct DepthGuard {
    explicit DepthGuard(int& d) : d_(d) { ++d_; }
    ~DepthGuard() { --d_; }
    int& d_;
  };

  ExprPtr sum() {
    DepthGuard g(depth_);
    if (depth_ > kMaxDepth) return nullptr;
    ExprPtr left = product();
    while (left) {
      skip_ws();
      if (at('+')) {
        ++i_;
        ExprPtr r = product();
        if (!r) return nullptr;
        left = node(Expr::Op::kAdd, {left, r});
      } else if (at('-')) {
        ++i_;
        ExprPtr r = product();
        if (!r) return nullptr;
        left = node(Expr::Op::kSub, {left, r});
      } else {
        break;
      }
    }
    return left;
  }

  // Whether the next character starts a primary (for implicit products).
  bool starts_primary() {
    skip_ws();
    if (i_ >= s_.size()) return false;
    char c = s_[i_];
    if (is_alpha(c) || c == '(' || c == '[') return true;
    if (c == '\\') {
      for (const char* op : {"cdot", "times", "div", "cup", "cap", "pm", "mp", "le", "ge", "leq", "geq", "neq", "in"})
        if (at_cmd(op)) return false;
      return !(i_ + 1 < s_.size() && (s_[i_ + 1] == '{' || s_[i_ + 1] == '}'));
    }
    return false;
  }

  ExprPtr product() {
    ExprPtr left = unary();
    while (left) {
      skip_ws();
      if (at('*') || eat_cmd("cdot") || eat_cmd("times")) {
        if (at('*')) ++i_;
        ExprPtr r = unary();
        if (!r) return nullptr;
        left = node(Expr::Op::kMul, {left, r});
      } else if (at('/') || eat_cmd("div")) {
        if (at('/')) ++i_;
        ExprPtr r = unary();
        if (!r) return nullptr;
        left = node(Expr::Op::kDiv, {left, r});
      } else if (starts_primary()) {
        ExprPtr r = postfix();
        if (!r) return nullptr;
        left = node(Expr::Op::kMul, {left, r});
      } else {
        break;
      }
    }
    return left;
  }

  ExprPtr unary() {
    DepthGuard g(depth_);
    if (depth_ > kMaxDepth) return nullptr;
    skip_ws();
    if (at('-')) {
      ++i_;
      ExprPtr e = unary();
      return e ? node(Expr::Op::kNeg, {e}) : nullptr;
    }
    if (at('+')) {
      ++i_;
      return unary();
    }
    return postfix();
  }

  ExprPtr postfix() {
    ExprPtr e = primary();
    while (e) {
      skip_ws();
      if (at('^')) {
        ++i_;
        ExprPtr p = exponent();
        if (!p) return nullptr;
        e = node(Expr::Op::kPow, {e, p});
      } else if (at('!') && !(i_ + 1 < s_.size() && s_[i_ + 1] == '=')) {
        ++i_;
        e = node(Expr::Op::kFact, {e});
      } else {
        break;
      }
    }
    return e;
  }

  ExprPtr exponent() {
    skip_ws();
    if (at('{')) return braced();
    if (at('-')) {
      ++i_;
      ExprPtr e = exponent();
      return e ? node(Expr::Op::kNeg, {e}) : nullptr;
    }
    return primary();
  }

  ExprPtr braced() {
    if (!eat('{')) return nullptr;
    ExprPtr e = sum();
    if (!e || !eat('}')) return nullptr;
    return e;
  }

  // An argument of \frac or \sqrt: a brace group, or a single digit/letter/command.
  ExprPtr argument() {
    skip_ws();
    if (at('{')) return braced();
    if (i_ < s_.size() && is_digit(s_[i_])) return number(mpq_class(s_[i_++] - '0'), false);
    if (i_ < s_.size() && is_alpha(s_[i_])) return symbol(std::string(1, s_[i_++]));
    if (at('\\')) return primary();
    return nullptr;
  }

  ExprPtr number_literal() {
    size_t start = i_;
    while (i_ < s_.size() && is_digit(s_[i_])) ++i_;
    bool decimal = false;
    if (at('.') && i_ + 1 < s_.size() && is_digit(s_[i_ + 1])) {
      decimal = true;
      ++i_;
      while (i_ < s_.size() && is_digit(s_[i_])) ++i_;
    } else if (at('.') && i_ > start && !(i_ + 1 < s_.size() && is_digit(s_[i_ + 1]))) {
      // "5." is 5 followed by a full stop: leave the dot.
    }
    std::string mantissa = s_.substr(start, i_ - start);
    long exp10 = 0;
    if ((at('e') || at('E')) && i_ + 1 < s_.size()) {
      size_t j = i_ + 1;
      if (s_[j] == '+' || s_[j] == '-') ++j;
      if (j < s_.size() && is_digit(s_[j])) {
        size_t k = j;
        while (k < s_.size() && is_digit(s_[k]) && k - j < 6) ++k;
        exp10 = std::stol(s_.substr(i_ + 1, k - i_ - 1));
        i_ = k;
        decimal = true;
      }
    }
    if (mantissa.empty() || mantissa == ".") return nullptr;
    mpq_class q = decimal_to_rational(mantissa);
    if (exp10 != 0) {
      mpz_class p;
      mpz_ui_pow_ui(p.get_mpz_t(), 10, static_cast<unsigned long>(std::labs(exp10)));
      if (exp10 > 0) q *= p; else q /= p;
      q.canonicalize();
    }
    ExprPtr n = number(q, decimal);
    // Mixed number: "3\frac{1}{2}" is 3 + 1/2 when both parts are integers.
    size_t save = i_;
    skip_ws();
    if (!decimal && at_cmd("frac")) {
      i_ += 5;
      ExprPtr a = argument(), b = argument();
      if (a && b && a->op == Expr::Op::kNum && b->op == Expr::Op::kNum && !a->decimal && !b->decimal &&
          a->num.get_den() == 1 && b->num.get_den() == 1 && b->num != 0) {
        return node(Expr::Op::kAdd, {n, node(Expr::Op::kDiv, {a, b})});
      }
      i_ = save;
    }
    i_ = save;
    return n;
  }

  static mpq_class decimal_to_rational(const std::string& text) {
    size_t dot = text.find('.');
    if (dot == std::string::npos) return mpq_class(mpz_class(text, 10));  // base 10: "075" is not octal
    std::string digits = text.substr(0, dot) + text.substr(dot + 1);
    mpz_class den;
    mpz_ui_pow_ui(den.get_mpz_t(), 10, text.size() - dot - 1);
    mpq_class q(mpz_class(digits.empty() ? "0" : digits, 10), den);
    q.canonicalize();
    return q;
  }

  ExprPtr command() {
    if (eat_cmd("frac") || eat_cmd("cfrac")) {
      // \frac12: one token holding both digits.
      skip_ws();
      ExprPtr a = argument();
      ExprPtr b = argument();
      if (!a || !b) return nullptr;
      return node(Expr::Op::kDiv, {a, b});
    }
    if (eat_cmd("binom")) {
      ExprPtr a = argument(), b = argument();
      if (!a || !b) return nullptr;
      return function("binom", {a, b});
    }
    if (eat_cmd("sqrt")) {
      skip_ws();
      ExprPtr index;
      if (at('[')) {
        ++i_;
        index = sum();
        if (!index || !eat(']')) return nullptr;
      }
      ExprPtr x = argument();
      if (!x) return nullptr;
      if (!index) return function("sqrt", {x});
      return node(Expr::Op::kPow, {x, node(Expr::Op::kDiv, {number(1, false), index})});
    }
    if (eat_cmd("pi")) return symbol("pi");
    if (eat_cmd("infty") || eat_cmd("infinity")) return node(Expr::Op::kInf);
    for (const char* f : kFunctions) {
      if (eat_cmd(f)) return function_call(f);
    }
    for (const char* g : kGreek) {
      if (eat_cmd(g)) return symbol(g);
    }
    return nullptr;  // an unknown command: not an expression we can grade
  }

  ExprPtr function_call(const std::string& name) {
    skip_ws();
    ExprPtr base;
    if (name == "log" && at('_')) {
      ++i_;
      base = argument();
      if (!base) return nullptr;
    }
    ExprPtr power;
    skip_ws();
    if (at('^')) {  // \sin^2 x
      ++i_;
      power = exponent();
      if (!power) return nullptr;
    }
    skip_ws();
    ExprPtr arg;
    if (at('(') || at('{')) {
      arg = primary();
    } else {
      arg = postfix();
    }
    if (!arg) return nullptr;
    ExprPtr call = base ? node(Expr::Op::kDiv, {function("ln", {arg}), function("ln", {base})}) : function(name, {arg});
    return power ? node(Expr::Op::kPow, {call, power}) : call;
  }

  ExprPtr word() {
    size_t start = i_;
    while (i_ < s_.size() && is_alpha(s_[i_])) ++i_;
    std::string w = s_.substr(start, i_ - start);
    if (w == "pi") return symbol("pi");
    if (w == "inf" || w == "infinity" || w == "oo") return node(Expr::Op::kInf);
    if (w == "sqrt") return function("sqrt", {primary_required()});
    for (const char* f : kFunctions)
      if (w == f) return function_call(f);
    // Otherwise a single-letter variable; "xy" is x times y (the product loop sees y).
    i_ = start + 1;
    return symbol(std::string(1, s_[start]));
  }

  ExprPtr primary_required() {
    ExprPtr e = primary();
    return e ? e : nullptr;
  }

  ExprPtr primary() {
    DepthGuard g(depth_);
    if (depth_ > kMaxDepth) return nullptr;
    skip_ws();
    if (i_ >= s_.size()) return nullptr;
    char c = s_[i_];
    if (is_digit(c) || (c == '.' && i_ + 1 < s_.size() && is_digit(s_[i_ + 1]))) return number_literal();
    if (is_alpha(c)) return word();
    if (c == '(' || c == '[' || c == '{') {
      char close = c == '(' ? ')' : c == '[' ? ']' : '}';
      ++i_;
      ExprPtr e = sum();
      if (!e || !eat(close)) return nullptr;
      return e;
    }
    if (c == '|') {
      ++i_;
      ExprPtr e = sum();
      if (!e || !eat('|')) return nullptr;
      return node(Expr::Op::kAbs, {e});
    }
    if (c == '\\') return command();
    return nullptr;
  }

  const std::string& s_;
  size_t i_ = 0;
  int depth_ = 0;
};

// The n-th root of q when it is rational.
std::optional<mpq_class> exact_root(const mpq_class& q, unsigned long n) {
  if (n == 0) return std::nullopt;
  if (q < 0 && n % 2 == 0) return std::nullopt;
  mpz_class num = abs(q.get_num()), den = q.get_den(), rn, rd;
  if (!mpz_root(rn.get_mpz_t(), num.get_mpz_t(), n) || !mpz_root(rd.get_mpz_t(), den.get_mpz_t(), n)) return std::nullopt;
  mpq_class r(rn, rd);
  r.canonicalize();
  return q < 0 ? mpq_class(-r) : r;
}

size_t bits(const mpq_class& q) {
  return mpz_sizeinbase(q.get_num().get_mpz_t(), 2) + mpz_sizeinbase(q.get_den().get_mpz_t(), 2);
}

std::optional<mpq_class> exact_pow(const mpq_class& base, const mpq_class& exp) {
  if (exp.get_den() != 1) {
    // q^(a/b): an exact b-th root raised to a, when it exists (8^(1/3) = 2).
    if (!mpz_fits_ulong_p(exp.get_den().get_mpz_t()) || exp.get_den() > 64) return std::nullopt;
    auto root = exact_root(base, exp.get_den().get_ui());
    if (!root) return std::nullopt;
    return exact_pow(*root, mpq_class(exp.get_num()));
  }
  if (!mpz_fits_slong_p(exp.get_num().get_mpz_t())) return std::nullopt;
  long e = exp.get_num().get_si();
  if (base == 0) return e < 0 ? std::nullopt : std::optional<mpq_class>(e == 0 ? 1 : 0);
  unsigned long ue = static_cast<unsigned long>(std::labs(e));
  if (static_cast<double>(bits(base)) * static_cast<double>(ue) > kMaxExactBits) return std::nullopt;
  mpz_class n, d;
  mpz_pow_ui(n.get_mpz_t(), base.get_num().get_mpz_t(), ue);
  mpz_pow_ui(d.get_mpz_t(), base.get_den().get_mpz_t(), ue);
  mpq_class r = e >= 0 ? mpq_class(n, d) : mpq_class(d, n);
  r.canonicalize();
  return r;
}

std::optional<mpz_class> small_natural(const mpq_class& q, long max) {
  if (q.get_den() != 1 || q < 0 || q > max) return std::nullopt;
  return q.get_num();
}

}  // namespace

ExprPtr parse_expr(const std::string& text, bool* percent) {
  if (percent) *percent = false;
  Parser p(text);
  return p.parse_all(percent);
}

std::optional<mpq_class> eval_exact(const Expr& e) {
  using Op = Expr::Op;
  switch (e.op) {
    case Op::kNum:
      return e.num;
    case Op::kSym:
    case Op::kInf:
      return std::nullopt;
    case Op::kNeg: {
      auto a = eval_exact(*e.args[0]);
      if (!a) return std::nullopt;
      return mpq_class(-*a);
    }
    case Op::kAbs: {
      auto a = eval_exact(*e.args[0]);
      if (!a) return std::nullopt;
      return mpq_class(abs(*a));
    }
    case Op::kFact: {
      auto a = eval_exact(*e.args[0]);
      if (!a) return std::nullopt;
      auto n = small_natural(*a, kMaxExactFactorial);
      if (!n) return std::nullopt;
      mpz_class f;
      mpz_fac_ui(f.get_mpz_t(), n->get_ui());
      return mpq_class(f);
    }
    case Op::kFunc: {
      if (e.name == "sqrt") {
        auto a = eval_exact(*e.args[0]);
        return a ? exact_root(*a, 2) : std::nullopt;
      }
      if (e.name == "binom") {
        auto n = eval_exact(*e.args[0]), k = eval_exact(*e.args[1]);
        if (!n || !k) return std::nullopt;
        auto nn = small_natural(*n, 100000), kk = small_natural(*k, 100000);
        if (!nn || !kk) return std::nullopt;
        mpz_class r;
        mpz_bin_uiui(r.get_mpz_t(), nn->get_ui(), kk->get_ui());
        return mpq_class(r);
      }
      return std::nullopt;
    }
    default:
      break;
  }
  auto a = eval_exact(*e.args[0]);
  if (!a) return std::nullopt;
  auto b = eval_exact(*e.args[1]);
  if (!b) return std::nullopt;
  switch (e.op) {
    case Op::kAdd: return mpq_class(*a + *b);
    case Op::kSub: return mpq_class(*a - *b);
    case Op::kMul:
      if (bits(*a) + bits(*b) > 2 * kMaxExactBits) return std::nullopt;
      return mpq_class(*a * *b);
    case Op::kDiv:
      if (*b == 0) return std::nullopt;
      return mpq_class(*a / *b);
    case Op::kPow: return exact_pow(*a, *b);
    default: return std::nullopt;
  }
}

double eval_double(const Expr& e, const std::map<std::string, double>& vars) {
  using Op = Expr::Op;
  auto arg = [&](size_t i) { return eval_double(*e.args[i], vars); };
  switch (e.op) {
    case Op::kNum: return e.num.get_d();
    case Op::kInf: return INFINITY;
    case Op::kSym: {
      if (e.name == "pi") return M_PI;
      if (e.name == "e") return M_E;
      auto it = vars.find(e.name);
      return it == vars.end() ? NAN : it->second;
    }
    case Op::kAdd: return arg(0) + arg(1);
    case Op::kSub: return arg(0) - arg(1);
    case Op::kMul: return arg(0) * arg(1);
    case Op::kDiv: {
      double d = arg(1);
      return d == 0 ? NAN : arg(0) / d;
    }
    case Op::kPow: {
      double b = arg(0), x = arg(1);
      // Odd roots of negatives: (-8)^(1/3) = -2, as a reader means it.
      if (b < 0 && x != std::floor(x)) {
        double inv = 1.0 / x;
        if (std::fabs(inv - std::round(inv)) < 1e-9 && static_cast<long>(std::round(inv)) % 2 != 0) return -std::pow(-b, x);
      }
      return std::pow(b, x);
    }
    case Op::kNeg: return -arg(0);
    case Op::kAbs: return std::fabs(arg(0));
    case Op::kFact: {
      double n = arg(0);
      return n < 0 ? NAN : std::tgamma(n + 1);
    }
    case Op::kFunc: {
      const std::string& f = e.name;
      if (f == "binom") {
        double n = arg(0), k = arg(1);
        return std::exp(std::lgamma(n + 1) - std::lgamma(k + 1) - std::lgamma(n - k + 1));
      }
      double x = arg(0);
      if (f == "sqrt") return x < 0 ? NAN : std::sqrt(x);
      if (f == "sin") return std::sin(x);
      if (f == "cos") return std::cos(x);
      if (f == "tan") return std::tan(x);
      if (f == "cot") return 1.0 / std::tan(x);
      if (f == "sec") return 1.0 / std::cos(x);
      if (f == "csc") return 1.0 / std::sin(x);
      if (f == "ln" || f == "log") return x <= 0 ? NAN : std::log(x);
      if (f == "exp") return std::exp(x);
      if (f == "arcsin") return std::asin(x);
      if (f == "arccos") return std::acos(x);
      if (f == "arctan") return std::atan(x);
      return NAN;
    }
  }
  return NAN;
}

void free_symbols(const Expr& e, std::set<std::string>* out) {
  if (e.op == Expr::Op::kSym && e.name != "pi" && e.name != "e") out->insert(e.name);
  for (const auto& a : e.args) free_symbols(*a, out);
}

bool has_decimal(const Expr& e) {
  if (e.op == Expr::Op::kNum) return e.decimal;
  for (const auto& a : e.args)
    if (has_decimal(*a)) return true;
  return false;
}

}  // namespace grpo::rewards::math
