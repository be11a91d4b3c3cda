#include "rollout/sampling_params.h"

#include <cmath>
#include <string>

#include "core/error.h"

namespace grpo::rollout {

namespace {
void require(bool ok, const std::string& field, const std::string& message) {
  if (!ok) throw Error("sampling params: " + field + ": " + message);
}
}  // namespace

void SamplingParams::validate() const {
  require(std::isfinite(temperature) && temperature >= 0, "temperature", "must be >= 0 (0 = greedy), got " + std::to_string(temperature));
  require(top_k >= 0, "top_k", "must be >= 0 (0 = off), got " + std::to_string(top_k));
  require(top_p > 0 && top_p <= 1, "top_p", "must be in (0, 1] (1 = off), got " + std::to_string(top_p));
  require(min_p >= 0 && min_p < 1, "min_p", "must be in [0, 1) (0 = off), got " + std::to_string(min_p));
  require(max_new_tokens >= 1, "max_new_tokens", "must be >= 1, got " + std::to_string(max_new_tokens));
  for (const std::string& s : stop_strings) require(!s.empty(), "stop_strings", "an empty stop string would stop at once; remove it");
}

uint64_t sequence_seed(uint64_t group_seed, int64_t index) {
  // splitmix64 finaliser over (seed, index): distinct, well-mixed streams per completion.
  uint64_t z = group_seed + 0x9E3779B97F4A7C15ULL * static_cast<uint64_t>(index + 1);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

}  // namespace grpo::rollout
