// advantages.cpp: see advantages.h. Matches TRL's GRPOTrainer
// (_generate_and_score_completions, "sum_then_normalize") number for number.
#include "learner/advantages.h"

#include <cmath>

#include "core/error.h"

namespace grpo::learner {
namespace {

// TRL adds this to the std so a tiny-but-nonzero std cannot blow A up.
constexpr double kStdEpsilon = 1e-4;
// A std at or below this is "zero" (torch.isclose(std, 0) in TRL: atol 1e-8).
constexpr double kZeroStd = 1e-8;

struct Moments {
  double mean = 0;
  double std = 0;  // Bessel-corrected; 0 with fewer than two samples
  int64_t count = 0;
  double sum = 0;
};

// Mean and Bessel std over the finite entries of rewards[begin, end).
Moments moments(const std::vector<double>& rewards, size_t begin, size_t end) {
  Moments m;
  for (size_t i = begin; i < end; ++i) {
    if (std::isnan(rewards[i])) continue;
    m.sum += rewards[i];
    ++m.count;
  }
  if (m.count == 0) return m;
  m.mean = m.sum / static_cast<double>(m.count);
  if (m.count < 2) return m;
  double sq = 0;
  for (size_t i = begin; i < end; ++i)
    if (!std::isnan(rewards[i])) sq += (rewards[i] - m.mean) * (rewards[i] - m.mean);
  m.std = std::sqrt(sq / static_cast<double>(m.count - 1));
  return m;
}

}  // namespace

Advantages compute_advantages(const std::vector<double>& rewards, int64_t group_size,
                              const AdvantageOptions& options) {
  const auto& scale = options.scale_rewards;
  if (scale != "group" && scale != "batch" && scale != "none")
    throw Error("compute_advantages: scale_rewards must be group, batch or none, got '" + scale + "'");
  if (group_size < 1 || rewards.size() % static_cast<size_t>(group_size) != 0)
    throw Error("compute_advantages: " + std::to_string(rewards.size()) + " rewards are not whole groups of " +
                std::to_string(group_size) + "; every prompt needs exactly group_size completions");
  Advantages out;
  out.values.assign(rewards.size(), 0.0);
  const Moments batch = moments(rewards, 0, rewards.size());
  const size_t g = static_cast<size_t>(group_size);
  const size_t groups = rewards.size() / g;
  int64_t zero_std_groups = 0;
  for (size_t k = 0; k < groups; ++k) {
    const size_t begin = k * g, end = begin + g;
    const Moments group = moments(rewards, begin, end);
    out.num_unscorable += static_cast<int64_t>(g) - group.count;
    // All rewards equal: no learning signal, and A must be 0 exactly (not 0/1e-4 noise or NaN).
    if (group.std <= kZeroStd) {
      ++zero_std_groups;
      continue;
    }
    const double sigma = scale == "group" ? group.std : batch.std;
    for (size_t i = begin; i < end; ++i) {
      if (std::isnan(rewards[i])) continue;
      // Leave-one-out (RLOO): the baseline excludes the sample itself.
      const double baseline = options.leave_one_out
                                  ? (group.sum - rewards[i]) / static_cast<double>(group.count - 1)
                                  : group.mean;
      const double centred = rewards[i] - baseline;
      out.values[i] = scale == "none" ? centred : centred / (sigma + kStdEpsilon);
    }
  }
  out.frac_reward_zero_std = groups ? static_cast<double>(zero_std_groups) / static_cast<double>(groups) : 0.0;
  return out;
}

}  // namespace grpo::learner
