// length_reward.cpp: see length_reward.h.
#include "rewards/length_reward.h"

#include <algorithm>

#include "core/error.h"
#include "rewards/reward_params.h"

namespace grpo::rewards {

LengthReward::LengthReward(Mode mode, int64_t max_tokens, int64_t cache_tokens)
    : mode_(mode), max_tokens_(max_tokens), cache_tokens_(cache_tokens) {
  if (max_tokens_ <= 0) throw Error("length reward: max_tokens must be > 0, got " + std::to_string(max_tokens_));
  if (mode_ == Mode::kOverlong && (cache_tokens_ <= 0 || cache_tokens_ > max_tokens_))
    throw Error("length reward: cache_tokens must be in (0, max_tokens], got " + std::to_string(cache_tokens_));
}

LengthReward::LengthReward(const RewardSpec& spec) {
  Params p(spec);
  std::string mode = p.text("mode", "overlong");
  if (mode == "overlong") {
    mode_ = Mode::kOverlong;
  } else if (mode == "linear") {
    mode_ = Mode::kLinear;
  } else {
    p.fail("mode", "must be \"overlong\" (DAPO) or \"linear\", got \"" + mode + "\"");
  }
  if (!p.has("max_tokens")) p.fail("max_tokens", "required: the maximum completion length L_max, e.g. rollout.max_new_tokens");
  max_tokens_ = p.integer("max_tokens", 0);
  if (max_tokens_ <= 0) p.fail("max_tokens", "must be > 0");
  cache_tokens_ = p.integer("cache_tokens", std::max<int64_t>(1, max_tokens_ / 4));
  if (mode_ == Mode::kOverlong && (cache_tokens_ <= 0 || cache_tokens_ > max_tokens_))
    p.fail("cache_tokens", "must be in (0, max_tokens]; DAPO uses 4096 of 20480");
  p.finish();
}

double LengthReward::score_tokens(int64_t tokens) const {
  if (mode_ == Mode::kLinear) return -std::min(1.0, static_cast<double>(tokens) / static_cast<double>(max_tokens_));
  const int64_t soft_start = max_tokens_ - cache_tokens_;
  if (tokens <= soft_start) return 0.0;
  if (tokens > max_tokens_) return -1.0;
  return static_cast<double>(soft_start - tokens) / static_cast<double>(cache_tokens_);
}

RewardResult LengthReward::score(const Sample& sample) const {
  return RewardResult::of(score_tokens(sample.completion_tokens));
}

}  // namespace grpo::rewards
