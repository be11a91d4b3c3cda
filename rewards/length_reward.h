// length_reward.h: rewards on the length of a completion, in tokens.
//
//   mode "overlong" (default): DAPO's soft overlong punishment (Yu et al. 2025, eq. 13):
//       L <= L_max - L_cache           ->  0
//       L_max - L_cache < L <= L_max   ->  ((L_max - L_cache) - L) / L_cache   (0 down to -1)
//       L > L_max                      -> -1
//     params: max_tokens (L_max, required), cache_tokens (L_cache, default max_tokens/4).
//   mode "linear": a plain length penalty, -min(L / max_tokens, 1); longer is worse.
//
// Reads Sample::completion_tokens. Thread-safe (no state).
#pragma once

#include <cstdint>

#include "rewards/reward.h"
#include "rewards/reward_spec.h"

namespace grpo::rewards {

class LengthReward : public Reward {
 public:
  enum class Mode { kOverlong, kLinear };
  LengthReward(Mode mode, int64_t max_tokens, int64_t cache_tokens);
  explicit LengthReward(const RewardSpec& spec);

  RewardResult score(const Sample& sample) const override;
  double score_tokens(int64_t tokens) const;

 private:
  Mode mode_ = Mode::kOverlong;
  int64_t max_tokens_ = 0;
  int64_t cache_tokens_ = 0;
};

}  // namespace grpo::rewards
