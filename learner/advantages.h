// advantages.h: group-relative advantages from per-completion rewards
// (grpo-reference.md, "Rewards -> advantages"). Plain vectors in and out: the
// numbers are per completion, and the caller broadcasts A_i to its tokens.
//
// Usage:
//   AdvantageOptions opt;                       // group scaling, TRL default
//   auto adv = compute_advantages({1, 0, 0, 0}, /*group_size=*/4, opt);
//   // adv.values == {1.4997, -0.4999, -0.4999, -0.4999}
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace grpo::learner {

// How rewards become advantages.
struct AdvantageOptions {
  std::string scale_rewards = "group";  // "group" | "batch" | "none"
  bool leave_one_out = false;           // baseline = mean of the other G-1 rewards
};

// Advantages of one generation batch plus the statistics the step logs.
struct Advantages {
  std::vector<double> values;        // [N], A_i; exactly 0 for zero-std groups and unscorable samples
  double frac_reward_zero_std = 0;   // fraction of groups whose rewards are all equal
  int64_t num_unscorable = 0;        // samples with a NaN reward (no reward function scored them)
};

// rewards: [N] with N = groups * group_size, groups contiguous; NaN marks a
// sample no reward function scored (excluded from means and stds, A = 0).
// Std uses Bessel's correction (N-1) and A = (r - mu) / (sigma + 1e-4).
// Throws grpo::Error when N is not a multiple of group_size or the scaling is unknown.
Advantages compute_advantages(const std::vector<double>& rewards, int64_t group_size,
                              const AdvantageOptions& options);

}  // namespace grpo::learner
