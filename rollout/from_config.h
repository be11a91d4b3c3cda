// from_config.h: the recipe's `rollout` section turned into what the engine
// and the pool take, so `grpo train` builds them in one line each.
//
//   SamplingParams p = sampling_params_from(recipe.rollout, eos_ids, /*seed=*/step_seed);
//   Engine engine(model, engine_options_from(recipe.rollout), decode);
//   WorkerPool pool(pool_options_from(recipe.rollout, recipe.model, config.to_json(), tokenizer_json));
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "policies/model_spec.h"
#include "rollout/engine.h"
#include "rollout/rollout_config.h"
#include "rollout/sampling_params.h"
#include "rollout/worker_pool.h"

namespace grpo::rollout {

SamplingParams sampling_params_from(const RolloutConfig& config, const std::vector<int64_t>& stop_token_ids, uint64_t seed);
// rollout.decode's names: eager, static, cuda_graphs (grpo::Error otherwise).
DecodeMode decode_mode_from_name(const std::string& name);
std::string decode_mode_name(DecodeMode mode);
// Cache sizes and decode mode of the engine.
EngineOptions engine_options_from(const RolloutConfig& config);
// Reads curve_server_key_file when set (IoError naming it otherwise). The
// workers' device and dtype are rollout.device / rollout.dtype with "model"
// resolved from `model`; the device is checked here (ConfigError naming
// rollout.device), so a recipe asking for a GPU this machine lacks fails
// before any worker starts.
WorkerPoolOptions pool_options_from(const RolloutConfig& config, const policies::ModelSpec& model, std::string model_config_json,
                                    std::string tokenizer_json);

}  // namespace grpo::rollout
