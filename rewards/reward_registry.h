// reward_registry.h: reward types by name. A recipe's `rewards` list names
// types ("math", "format", ...); the registry builds each from its RewardSpec.
//
//   auto reward = RewardRegistry::instance().create(spec);  // throws ConfigError on unknown type/params
//
// Built-in types are registered in ONE place, builtin_rewards.cpp. A program
// that links grpo_rewards can add its own type with one line at namespace
// scope in one of its own .cpp files:
//
//   GRPO_REGISTER_REWARD("my_reward", [](const RewardSpec& spec) { return std::make_unique<MyReward>(spec); });
//
// Thread-safe: add() and create() take a lock.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "rewards/reward.h"
#include "rewards/reward_spec.h"

namespace grpo::rewards {

// Builds a reward from its spec; throws ConfigError on bad params.
using RewardFactory = std::function<std::unique_ptr<Reward>(const RewardSpec& spec)>;

class RewardRegistry {
 public:
  // The process-wide registry, with the built-ins already in.
  static RewardRegistry& instance();

  // Registers `type`; a second registration of the same type replaces the first
  // (so a program can override a built-in). `summary` is one line for --help.
  void add(const std::string& type, RewardFactory factory, const std::string& summary = "");

  // Builds the reward `spec.type`. Throws ConfigError naming the key "rewards[<name>].type"
  // with a did-you-mean when the type is unknown.
  std::unique_ptr<Reward> create(const RewardSpec& spec) const;

  bool has(const std::string& type) const;
  std::vector<std::string> types() const;  // sorted
  std::string summary(const std::string& type) const;

 private:
  struct Entry {
    RewardFactory factory;
    std::string summary;
  };
  mutable std::mutex mutex_;
  std::map<std::string, Entry> entries_;  // GUARDED_BY(mutex_)
};

// Adds every built-in type to `registry`. Defined in builtin_rewards.cpp.
void register_builtin_rewards(RewardRegistry& registry);

// Helper behind GRPO_REGISTER_REWARD: registers on construction.
struct RewardRegistration {
  RewardRegistration(const std::string& type, RewardFactory factory, const std::string& summary = "") {
    RewardRegistry::instance().add(type, std::move(factory), summary);
  }
};

}  // namespace grpo::rewards

#define GRPO_REWARD_CONCAT_INNER(a, b) a##b
#define GRPO_REWARD_CONCAT(a, b) GRPO_REWARD_CONCAT_INNER(a, b)
// Registers a reward type from a .cpp of the program itself (not from a static
// library: the linker drops unreferenced objects of static libraries).
#define GRPO_REGISTER_REWARD(type, ...)                                                      \
  static ::grpo::rewards::RewardRegistration GRPO_REWARD_CONCAT(grpo_reward_registration_, \
                                                                __LINE__)(type, __VA_ARGS__)
