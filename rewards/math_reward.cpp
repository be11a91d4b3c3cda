// math_reward.cpp: see math_reward.h.
#include "rewards/math_reward.h"

#include "rewards/reward_params.h"

namespace grpo::rewards {

namespace {
// An "answer" longer than this is a runaway completion, not an answer; not
// parsing it bounds the normaliser's work. DEVIATION: Math-Verify has no such cap.
constexpr size_t kMaxAnswerChars = 4000;
}  // namespace

bool grade_math(const std::string& completion, const std::string& gold, const MathRewardOptions& options) {
  math::AnswerText found = math::extract_answer(completion, options.extract);
  if (!found.found || found.text.size() > kMaxAnswerChars) return false;
  math::MathAnswer g = math::parse_answer(math::extract_gold(gold));
  math::MathAnswer p = math::parse_answer(found.text);
  return math::equivalent(g, p, options.equivalence);
}

MathReward::MathReward(MathRewardOptions options) : options_(std::move(options)) {}

MathReward::MathReward(const RewardSpec& spec) {
  Params p(spec);
  options_.answer_field = p.text("answer_field", options_.answer_field);
  options_.extract.last_number_fallback = p.boolean("last_number_fallback", options_.extract.last_number_fallback);
  options_.equivalence.rel_tol = p.number("rel_tol", options_.equivalence.rel_tol);
  if (options_.equivalence.rel_tol < 0 || options_.equivalence.rel_tol >= 1) p.fail("rel_tol", "must be in [0, 1)");
  options_.correct = p.number("correct", options_.correct);
  options_.wrong = p.number("wrong", options_.wrong);
  p.finish();
}

RewardResult MathReward::score(const Sample& sample) const {
  if (!sample.row.contains(options_.answer_field) || sample.row[options_.answer_field].is_null())
    return RewardResult::failed("math: row has no '" + options_.answer_field +
                                "' field; set params.answer_field to the key holding the gold answer");
  const std::string gold = sample.field(options_.answer_field);
  return RewardResult::of(grade_math(sample.completion, gold, options_) ? options_.correct : options_.wrong);
}

}  // namespace grpo::rewards
