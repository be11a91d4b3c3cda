// countdown_reward.h: TinyZero's Countdown task. The completion's last
// <answer>…</answer> must hold an equation that uses each given number exactly
// once, only + - * / and parentheses, and evaluates to the target (within 1e-5).
//
//   score 1.0   correct equation
//   score 0.1   an <answer> is present but the equation is wrong or invalid
//               (reused/missing number, bad characters, division by zero)
//   score 0.0   no <answer>
//
// Evaluation uses its own small parser over doubles; no text is ever executed.
// Params: numbers_field (default "nums", falls back to "numbers"),
// target_field ("target"), score (1.0), format_score (0.1).
// Thread-safe (no state).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "rewards/reward.h"
#include "rewards/reward_spec.h"

namespace grpo::rewards {

struct CountdownOptions {
  std::string numbers_field = "nums";
  std::string target_field = "target";
  double score = 1.0;
  double format_score = 0.1;
};

// What went wrong with an equation, for tests and `grpo score` output.
enum class CountdownVerdict { kCorrect, kNoAnswer, kBadCharacters, kWrongNumbers, kNotEvaluable, kWrongValue };

CountdownVerdict check_countdown(const std::string& completion, const std::vector<long>& numbers, double target);

// Evaluates "+ - * / ( )" over integer literals; nullopt on a syntax error or
// division by zero. `literals` receives the numbers in the order written.
std::optional<double> evaluate_countdown_equation(const std::string& equation, std::vector<long>* literals);

class CountdownReward : public Reward {
 public:
  explicit CountdownReward(CountdownOptions options = {});
  explicit CountdownReward(const RewardSpec& spec);

  RewardResult score(const Sample& sample) const override;

 private:
  CountdownOptions options_;
};

}  // namespace grpo::rewards
