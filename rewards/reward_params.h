// reward_params.h: typed reading of a reward's `params` object with errors
// that name the key, and a check that no unknown key was given (typos in
// reward params are otherwise silently ignored).
//
//   Params p(spec);                       // spec.params, errors say "rewards[math].params.x"
//   double tol = p.number("rel_tol", 1e-4);
//   p.finish();                           // throws on keys nobody read
//
// Not thread-safe; used once while building a reward.
#pragma once

#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "rewards/reward_spec.h"

namespace grpo::rewards {

class Params {
 public:
  explicit Params(const RewardSpec& spec);

  double number(const std::string& key, double fallback);
  int64_t integer(const std::string& key, int64_t fallback);
  bool boolean(const std::string& key, bool fallback);
  std::string text(const std::string& key, const std::string& fallback);
  std::vector<std::string> text_list(const std::string& key, const std::vector<std::string>& fallback);
  bool has(const std::string& key) const { return params_.contains(key); }

  // Throws ConfigError for any key that was not read; call after reading all.
  void finish() const;

  // A ConfigError about `key`: "rewards[<name>].params.<key>: <message>".
  [[noreturn]] void fail(const std::string& key, const std::string& message) const;

 private:
  const nlohmann::json* find(const std::string& key);

  nlohmann::json params_;
  std::string where_;
  std::set<std::string> read_;
};

}  // namespace grpo::rewards
