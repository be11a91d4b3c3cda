// builtin_rewards.cpp: the ONE place where built-in reward types register.
// To add a built-in: write rewards/<name>_reward.{h,cpp} implementing Reward
// with a constructor from RewardSpec, include it here, add one line below.
#include "rewards/code_reward.h"
#include "rewards/command_reward.h"
#include "rewards/countdown_reward.h"
#include "rewards/format_reward.h"
#include "rewards/length_reward.h"
#include "rewards/math_reward.h"
#include "rewards/plugin_reward.h"
#include "rewards/reward_registry.h"

namespace grpo::rewards {

namespace {
template <class T> RewardFactory make() {
  return [](const RewardSpec& spec) -> std::unique_ptr<Reward> { return std::make_unique<T>(spec); };
}
}  // namespace

void register_builtin_rewards(RewardRegistry& r) {
  r.add("math", make<MathReward>(), "final answer equivalent to the gold answer (boxed, <answer>, ####, ...)");
  r.add("countdown", make<CountdownReward>(), "TinyZero countdown: equation using each number once hits the target");
  r.add("format", make<FormatReward>(), "R1-Zero <think>/<answer> format, strict or lenient (RE2)");
  r.add("length", make<LengthReward>(), "DAPO soft overlong punishment or a linear length penalty");
  r.add("code", make<CodeReward>(), "run the extracted program in the sandbox against stdin/stdout or assertion tests");
  r.add("command", make<CommandReward>(), "an external persistent process speaking JSON lines (e.g. a Python script)");
  r.add("plugin", make<PluginReward>(), "a shared library loaded with dlopen (C ABI, rewards/plugin_abi.h)");
}

}  // namespace grpo::rewards
