// reward_spec.h: one entry of the `rewards` list of a recipe.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace grpo::rewards {

// A reward function by registered type, its weight in the total, and its own parameters.
struct RewardSpec {
  std::string type;
  std::string name;
  double weight = 1.0;
  double timeout_s = 30.0;
  nlohmann::json params = nlohmann::json::object();
  std::vector<std::string> command;
  std::string library;

  template <class V> void fields(V& v) {
    v.field("type", type, "Registered reward type: math, format, length, countdown, code, command, plugin.");
    v.field("name", name, "Name of this component in metrics and the run store; defaults to `type`.");
    v.field("weight", weight, "Weight of this component in the total reward (a weighted sum).");
    v.field("timeout_s", timeout_s, "Time limit per batch handed to this reward, in seconds; a sample not graded in time scores 0 and records an error.");
    v.field("params", params, "Parameters of the reward type (see docs/rewards.md).");
    v.check(!type.empty(), "type", "every reward needs a type, e.g. {\"type\": \"math\"}");
    v.field("command", command, "type command only: program and arguments of the persistent reward process, e.g. [\"python3\", \"my_reward.py\"].");
    v.field("library", library, "type plugin only: path of the shared library exporting grpo_reward_plugin_v1.");
    v.check(type != "command" || !command.empty(), "command", "a command reward needs \"command\": [\"python3\", \"my_reward.py\"]");
    v.check(type != "plugin" || !library.empty(), "library", "a plugin reward needs \"library\": \"path/to/libmy_reward.so\"");
    v.check(timeout_s > 0, "timeout_s", "must be > 0 seconds");
    v.check(params.is_object(), "params", "must be an object");
  }
};

}  // namespace grpo::rewards
