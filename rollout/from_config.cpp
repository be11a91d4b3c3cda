#include "rollout/from_config.h"

namespace grpo::rollout {

SamplingParams sampling_params_from(const RolloutConfig& config, const std::vector<int64_t>& stop_token_ids, uint64_t seed) {
  SamplingParams p;
  p.temperature = config.temperature;
  p.top_k = config.top_k;
  p.top_p = config.top_p;
  p.min_p = config.min_p;
  p.max_new_tokens = config.max_new_tokens;
  p.stop_token_ids = stop_token_ids;
  p.stop_strings = config.stop_strings;
  p.include_stop_string = config.include_stop_string;
  p.seed = seed;
  return p;
}

WorkerPoolOptions pool_options_from(const RolloutConfig& config, std::string model_config_json, std::string tokenizer_json) {
  WorkerPoolOptions o;
  o.bind = config.bind;
  o.model_config_json = std::move(model_config_json);
  o.tokenizer_json = std::move(tokenizer_json);
  o.engine.max_slots = config.max_slots;
  o.engine.kv_budget_tokens = config.kv_budget_tokens;
  o.heartbeat_timeout_s = config.heartbeat_timeout_s;
  if (!config.curve_server_key_file.empty()) o.server_keys = read_key_file(config.curve_server_key_file);
  o.authorized_keys = config.curve_authorized_keys;
  return o;
}

}  // namespace grpo::rollout
