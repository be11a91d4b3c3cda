// my_cpp_reward.cpp: a custom reward in C++, compiled into the grpo binary.
// Copy this file into cli/ (or any folder linked into your binary, not a
// static library: the linker drops unreferenced objects of those) and the
// type "starts_with_think" is available to every recipe:
//
//   {"type": "starts_with_think", "weight": 0.2}
#include "rewards/reward_registry.h"

namespace {

// 1 when the completion opens with a <think> block, else 0. Thread-safe: no state.
class StartsWithThink : public grpo::rewards::Reward {
 public:
  explicit StartsWithThink(const grpo::rewards::RewardSpec&) {}
  grpo::rewards::RewardResult score(const grpo::rewards::Sample& s) const override {
    return grpo::rewards::RewardResult::of(s.completion.rfind("<think>", 0) == 0 ? 1.0 : 0.0);
  }
};

}  // namespace

// The one line that registers it.
GRPO_REGISTER_REWARD("starts_with_think", [](const grpo::rewards::RewardSpec& spec) { return std::make_unique<StartsWithThink>(spec); });
