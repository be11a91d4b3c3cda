// test_models.h: tiny model configs and tensor helpers shared by the policies tests.
#pragma once

#include <torch/torch.h>

#include <string>
#include <utility>
#include <vector>

#include "policies/model_config.h"

namespace grpo::policies::testing {

// The model-reference §1.1 fixture: YaRN, group routing, shared experts,
// one dense first layer; q_lora toggles the V2-style plain q_proj.
inline ModelConfig tiny_deepseek(bool q_lora = true, int64_t mtp_layers = 0) {
  ModelConfig c = ModelConfig::preset("deepseek_v3", "tiny");
  if (!q_lora) c.q_lora_rank = 0;
  c.num_nextn_predict_layers = mtp_layers;
  c.initializer_range = 0.1;
  return c;
}

inline ModelConfig tiny_qwen2() {
  ModelConfig c = ModelConfig::preset("qwen2", "tiny");
  c.initializer_range = 0.1;
  return c;
}

inline ModelConfig tiny_llama() {
  ModelConfig c = ModelConfig::preset("llama", "tiny");
  c.initializer_range = 0.1;
  c.rope_scaling.original_max_position_embeddings = 64;
  return c;
}

// Largest absolute elementwise difference of two tensors of one shape.
inline double max_abs_diff(const torch::Tensor& a, const torch::Tensor& b) { return (a - b).abs().max().item<double>(); }

// OrderedDict items as (name, tensor) pairs, for structured bindings.
inline std::vector<std::pair<std::string, torch::Tensor>> items(const torch::OrderedDict<std::string, torch::Tensor>& d) {
  std::vector<std::pair<std::string, torch::Tensor>> out;
  for (const auto& item : d) out.emplace_back(item.key(), item.value());
  return out;
}

}  // namespace grpo::policies::testing
