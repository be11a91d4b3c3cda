// reward_registry.cpp: see reward_registry.h.
#include "rewards/reward_registry.h"

#include "core/did_you_mean.h"
#include "core/error.h"

namespace grpo::rewards {

RewardRegistry& RewardRegistry::instance() {
  // Built on first use (thread-safe static init), so GRPO_REGISTER_REWARD in
  // another translation unit finds the built-ins already present.
  static RewardRegistry* registry = [] {
    auto* r = new RewardRegistry();
    register_builtin_rewards(*r);
    return r;
  }();
  return *registry;
}

void RewardRegistry::add(const std::string& type, RewardFactory factory, const std::string& summary) {
  std::lock_guard<std::mutex> lock(mutex_);
  entries_[type] = Entry{std::move(factory), summary};
}

std::unique_ptr<Reward> RewardRegistry::create(const RewardSpec& spec) const {
  RewardFactory factory;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = entries_.find(spec.type);
    if (it == entries_.end()) {
      std::vector<std::string> names;
      for (const auto& e : entries_) names.push_back(e.first);
      std::string known;
      for (const auto& n : names) known += (known.empty() ? "" : ", ") + n;
      throw ConfigError("", "rewards[" + (spec.name.empty() ? spec.type : spec.name) + "].type",
                        "unknown reward type '" + spec.type + "'" + did_you_mean(spec.type, names) +
                            "; known types: " + known);
    }
    factory = it->second.factory;
  }
  std::unique_ptr<Reward> reward = factory(spec);
  if (!reward) throw Error("reward factory for type '" + spec.type + "' returned nothing");
  return reward;
}

bool RewardRegistry::has(const std::string& type) const {
  std::lock_guard<std::mutex> lock(mutex_);
  return entries_.count(type) > 0;
}

std::vector<std::string> RewardRegistry::types() const {
  std::lock_guard<std::mutex> lock(mutex_);
  std::vector<std::string> out;
  for (const auto& e : entries_) out.push_back(e.first);
  return out;
}

std::string RewardRegistry::summary(const std::string& type) const {
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = entries_.find(type);
  return it == entries_.end() ? "" : it->second.summary;
}

}  // namespace grpo::rewards
