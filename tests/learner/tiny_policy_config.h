// tiny_policy_config.h: the one-layer Qwen2 the trainer tests train, so that a
// learning test finishes in seconds on a CPU.
#pragma once

#include <cstdint>
#include <string>

#include "policies/model_config.h"

namespace grpo::learner::testing {

inline policies::ModelConfig tiny_qwen2_config(int64_t vocab, const std::string& origin) {
  policies::ModelConfig c;
  c.model_type = "qwen2";
  c.vocab_size = vocab;
  c.hidden_size = 32;
  c.intermediate_size = 64;
  c.num_hidden_layers = 1;
  c.num_attention_heads = 4;
  c.num_key_value_heads = 2;
  c.max_position_embeddings = 64;
  c.validate(origin);
  return c;
}

}  // namespace grpo::learner::testing
