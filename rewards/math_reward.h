// math_reward.h: accuracy reward for math answers: 1 when the completion's
// final answer is equivalent to the gold answer, else 0.
//
//   {"type": "math", "params": {"answer_field": "answer", "last_number_fallback": true}}
//
// Params: answer_field (row key of the gold answer, default "answer");
// last_number_fallback (take the last number when no other answer marker is
// found, default true as Math-Verify); rel_tol (tolerance when a decimal is
// involved, default 1e-6); correct (default 1), wrong (default 0).
// A row without the gold field is an error result (the recipe names the wrong
// field). Thread-safe: no state besides the options.
#pragma once

#include <string>

#include "rewards/math_answer.h"
#include "rewards/math_extract.h"
#include "rewards/reward.h"
#include "rewards/reward_spec.h"

namespace grpo::rewards {

struct MathRewardOptions {
  std::string answer_field = "answer";
  math::ExtractOptions extract;
  math::EquivalenceOptions equivalence;
  double correct = 1.0;
  double wrong = 0.0;
};

class MathReward : public Reward {
 public:
  explicit MathReward(MathRewardOptions options = {});
  explicit MathReward(const RewardSpec& spec);

  RewardResult score(const Sample& sample) const override;

 private:
  MathRewardOptions options_;
};

// The whole grading of one completion against one gold answer (what score()
// does after reading the fields): extraction, parsing, equivalence.
bool grade_math(const std::string& completion, const std::string& gold, const MathRewardOptions& options = {});

}  // namespace grpo::rewards
