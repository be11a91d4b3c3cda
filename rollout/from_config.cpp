#include "rollout/from_config.h"

#include "core/device.h"
#include "core/error.h"

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

DecodeMode decode_mode_from_name(const std::string& name) {
  if (name == "eager") return DecodeMode::kEager;
  if (name == "static") return DecodeMode::kStatic;
  if (name == "cuda_graphs") return DecodeMode::kCudaGraphs;
  throw Error("unknown decode mode '" + name + "': use eager, static or cuda_graphs");
}

std::string decode_mode_name(DecodeMode mode) {
  switch (mode) {
    case DecodeMode::kEager: return "eager";
    case DecodeMode::kStatic: return "static";
    case DecodeMode::kCudaGraphs: return "cuda_graphs";
  }
  throw Error("decode_mode_name: unknown DecodeMode");
}

EngineOptions engine_options_from(const RolloutConfig& config) {
  EngineOptions o;
  o.max_slots = config.max_slots;
  o.kv_budget_tokens = config.kv_budget_tokens;
  o.decode = decode_mode_from_name(config.decode);
  return o;
}

WorkerPoolOptions pool_options_from(const RolloutConfig& config, const policies::ModelSpec& model, std::string model_config_json,
                                    std::string tokenizer_json) {
  WorkerPoolOptions o;
  o.bind = config.bind;
  o.model_config_json = std::move(model_config_json);
  o.tokenizer_json = std::move(tokenizer_json);
  o.engine = engine_options_from(config);
  o.device = device_from_config(config.device_for(model.device), "rollout.device").str();
  o.dtype = config.dtype_for(model.dtype);
  o.shared_weights = config.weight_sync == "shared";
  o.heartbeat_timeout_s = config.heartbeat_timeout_s;
  if (!config.curve_server_key_file.empty()) o.server_keys = read_key_file(config.curve_server_key_file);
  o.authorized_keys = config.curve_authorized_keys;
  return o;
}

}  // namespace grpo::rollout
