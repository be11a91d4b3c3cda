// format_reward.h: the R1-Zero output format, `<think>…</think>` then
// `<answer>…</answer>`, checked with RE2 (linear time, no backtracking).
//
//   strict  : the whole completion is "<think>\n…\n</think>\n<answer>\n…\n</answer>"
//             (open-r1's format_reward), each tag exactly once.
//   lenient : a <think>…</think> block followed by an <answer>…</answer> block
//             somewhere in the completion, whitespace free.
//
// Params: mode ("strict" | "lenient", default "lenient"); think_prefilled
// (default false: set it when the prompt already ends with "<think>", as the
// R1-Zero template does, so the completion starts inside the think block).
// Score 1 on a match, 0 otherwise. Thread-safe (RE2 objects are const).
#pragma once

#include <memory>
#include <string>

#include "rewards/reward.h"
#include "rewards/reward_spec.h"

namespace re2 {
class RE2;
}

namespace grpo::rewards {

class FormatReward : public Reward {
 public:
  enum class Mode { kStrict, kLenient };
  FormatReward(Mode mode, bool think_prefilled);
  explicit FormatReward(const RewardSpec& spec);
  ~FormatReward() override;

  RewardResult score(const Sample& sample) const override;
  // The check behind score(), on raw text.
  bool matches(const std::string& completion) const;

 private:
  void compile();

  Mode mode_ = Mode::kLenient;
  bool think_prefilled_ = false;
  std::unique_ptr<re2::RE2> pattern_;
};

}  // namespace grpo::rewards
