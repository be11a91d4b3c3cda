// plugin_reward.h: a reward from a shared library loaded with dlopen, through
// the versioned C ABI of plugin_abi.h.
//
//   {"type": "plugin", "library": "build/libmy_reward.so", "params": {...}}
//
// The params object is handed to the plug-in's create() as JSON text, unread
// by grpo. Construction throws ConfigError naming the library when it cannot be
// loaded, lacks the entry point, has another ABI version, or create() fails.
// Thread-safe when the plug-in's score() is (the ABI requires it).
#pragma once

#include <string>

#include "rewards/plugin_abi.h"
#include "rewards/reward.h"
#include "rewards/reward_spec.h"

namespace grpo::rewards {

class PluginReward : public Reward {
 public:
  explicit PluginReward(const RewardSpec& spec);
  ~PluginReward() override;

  RewardResult score(const Sample& sample) const override;

 private:
  std::string library_;
  const grpo_reward_plugin_v1* table_ = nullptr;
  void* instance_ = nullptr;
};

}  // namespace grpo::rewards
