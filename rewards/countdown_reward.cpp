// countdown_reward.cpp: see countdown_reward.h. Follows TinyZero's
// countdown.compute_score (extract, validate, evaluate) with a parser of its own
// in place of Python's eval.
#include "rewards/countdown_reward.h"

#include <algorithm>
#include <cctype>
#include <cmath>

#include "rewards/reward_params.h"

namespace grpo::rewards {

namespace {

constexpr double kTargetTolerance = 1e-5;  // TinyZero: abs(result - target) < 1e-5
constexpr int kMaxDepth = 100;

class EquationParser {
 public:
  EquationParser(const std::string& s, std::vector<long>* literals) : s_(s), literals_(literals) {}

  std::optional<double> parse() {
    std::optional<double> v = sum();
    skip_ws();
    if (!v || i_ != s_.size() || failed_) return std::nullopt;
    return v;
  }

 private:
  void skip_ws() {
    while (i_ < s_.size() && std::isspace(static_cast<unsigned char>(s_[i_]))) ++i_;
  }
  bool eat(char c) {
    skip_ws();
    if (i_ < s_.size() && s_[i_] == c) {
      ++i_;
      return true;
    }
    return false;
  }

  std::optional<double> sum() {
    if (++depth_ > kMaxDepth) return std::nullopt;
    std::optional<double> v = product();
    while (v) {
      if (eat('+')) {
        auto r = product();
        if (!r) return std::nullopt;
        *v += *r;
      } else if (eat('-')) {
        auto r = product();
        if (!r) return std::nullopt;
        *v -= *r;
      } else {
        break;
      }
    }
    --depth_;
    return v;
  }

  std::optional<double> product() {
    std::optional<double> v = unary();
    while (v) {
      if (eat('*')) {
        auto r = unary();
        if (!r) return std::nullopt;
        *v *= *r;
      } else if (eat('/')) {
        auto r = unary();
        if (!r) return std::nullopt;
        // Division by zero: keep parsing (so every number is seen) but the value is void.
        if (*r == 0.0) failed_ = true;
        *v = *r == 0.0 ? 0.0 : *v / *r;
      } else {
        break;
      }
    }
    return v;
  }

  std::optional<double> unary() {
    if (++depth_ > kMaxDepth) return std::nullopt;
    std::optional<double> v;
    if (eat('-')) {
      v = unary();
      if (v) v = -*v;
    } else if (eat('+')) {
      v = unary();
    } else {
      v = primary();
    }
    --depth_;
    return v;
  }

  std::optional<double> primary() {
    skip_ws();
    if (eat('(')) {
      auto v = sum();
      if (!v || !eat(')')) return std::nullopt;
      return v;
    }
    size_t start = i_;
    while (i_ < s_.size() && std::isdigit(static_cast<unsigned char>(s_[i_])) && i_ - start < 12) ++i_;
    if (i_ == start) return std::nullopt;
    long n = std::stol(s_.substr(start, i_ - start));
    literals_->push_back(n);
    return static_cast<double>(n);
  }

  const std::string& s_;
  std::vector<long>* literals_;
  size_t i_ = 0;
  int depth_ = 0;
  bool failed_ = false;
};

// TinyZero's extract_solution: the last <answer>…</answer>.
std::optional<std::string> last_answer(const std::string& completion) {
  size_t close = completion.rfind("</answer>");
  if (close == std::string::npos) return std::nullopt;
  size_t open = completion.rfind("<answer>", close);
  if (open == std::string::npos) return std::nullopt;
  return completion.substr(open + 8, close - open - 8);
}

std::vector<long> numbers_of(const nlohmann::json& v) {
  std::vector<long> out;
  if (!v.is_array()) return out;
  for (const auto& x : v)
    if (x.is_number_integer()) out.push_back(x.get<long>());
  return out;
}

}  // namespace

std::optional<double> evaluate_countdown_equation(const std::string& equation, std::vector<long>* literals) {
  std::vector<long> scratch;
  EquationParser parser(equation, literals ? literals : &scratch);
  return parser.parse();
}

CountdownVerdict check_countdown(const std::string& completion, const std::vector<long>& numbers, double target) {
  std::optional<std::string> equation = last_answer(completion);
  if (!equation) return CountdownVerdict::kNoAnswer;
  // TinyZero's validate_equation: only digits, operators, parentheses, '.', spaces.
  for (char c : *equation) {
    if (!(std::isdigit(static_cast<unsigned char>(c)) || std::isspace(static_cast<unsigned char>(c)) ||
          c == '+' || c == '-' || c == '*' || c == '/' || c == '(' || c == ')'))
      return CountdownVerdict::kBadCharacters;
  }
  std::vector<long> used;
  std::optional<double> value = evaluate_countdown_equation(*equation, &used);
  std::vector<long> given = numbers;
  std::sort(used.begin(), used.end());
  std::sort(given.begin(), given.end());
  if (used != given) return CountdownVerdict::kWrongNumbers;
  if (!value || !std::isfinite(*value)) return CountdownVerdict::kNotEvaluable;
  return std::fabs(*value - target) < kTargetTolerance ? CountdownVerdict::kCorrect : CountdownVerdict::kWrongValue;
}

CountdownReward::CountdownReward(CountdownOptions options) : options_(std::move(options)) {}

CountdownReward::CountdownReward(const RewardSpec& spec) {
  Params p(spec);
  options_.numbers_field = p.text("numbers_field", options_.numbers_field);
  options_.target_field = p.text("target_field", options_.target_field);
  options_.score = p.number("score", options_.score);
  options_.format_score = p.number("format_score", options_.format_score);
  p.finish();
}

RewardResult CountdownReward::score(const Sample& sample) const {
  const nlohmann::json& row = sample.row;
  std::string numbers_key = options_.numbers_field;
  if (!row.contains(numbers_key) && numbers_key == "nums" && row.contains("numbers")) numbers_key = "numbers";
  if (!row.contains(numbers_key) || !row[numbers_key].is_array())
    return RewardResult::failed("countdown: row has no '" + options_.numbers_field + "' list of integers");
  if (!row.contains(options_.target_field) || !row[options_.target_field].is_number())
    return RewardResult::failed("countdown: row has no numeric '" + options_.target_field + "' field");
  CountdownVerdict v = check_countdown(sample.completion, numbers_of(row[numbers_key]),
                                       row[options_.target_field].get<double>());
  if (v == CountdownVerdict::kCorrect) return RewardResult::of(options_.score);
  if (v == CountdownVerdict::kNoAnswer) return RewardResult::of(0.0);
  return RewardResult::of(options_.format_score);
}

}  // namespace grpo::rewards
