// from_config.h: the recipe's `rollout` section turned into what the engine
// and the pool take, so `grpo train` builds them in one line each.
//
//   SamplingParams p = sampling_params_from(recipe.rollout, eos_ids, /*seed=*/step_seed);
//   WorkerPool pool(pool_options_from(recipe.rollout, config.to_json(), tokenizer_json));
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "rollout/rollout_config.h"
#include "rollout/sampling_params.h"
#include "rollout/worker_pool.h"

namespace grpo::rollout {

SamplingParams sampling_params_from(const RolloutConfig& config, const std::vector<int64_t>& stop_token_ids, uint64_t seed);
// Reads curve_server_key_file when set (IoError naming it otherwise).
WorkerPoolOptions pool_options_from(const RolloutConfig& config, std::string model_config_json, std::string tokenizer_json);

}  // namespace grpo::rollout
