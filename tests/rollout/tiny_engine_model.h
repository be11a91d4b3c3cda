// tiny_engine_model.h: the randomly initialised tiny model the engine tests
// decode with (preset "tiny" of an architecture, in eval mode).
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "policies/causal_lm.h"

namespace grpo::rollout {

// A tiny `arch` model with weights from `seed`, ready to generate.
inline std::shared_ptr<policies::CausalLM> tiny_engine_model(const std::string& arch = "qwen2", uint64_t seed = 3) {
  auto model = policies::CausalLM::create(policies::ModelConfig::preset(arch, "tiny"), seed);
  model->eval();
  return model;
}

}  // namespace grpo::rollout
