// placement.h: where a policy's tensors live and in which dtype. The recipe's
// model.dtype names the compute dtype; the MoE routing-correction bias always
// stays float32 (model-reference §5.4: its updates of gamma = 0.001 vanish in
// bf16), whatever the weights' dtype.
//
//   place_model(*model, torch::Device(torch::kCUDA, 0), dtype_from_name("bfloat16"));
#pragma once

#include <torch/torch.h>

#include <string>

namespace grpo::policies {

class CausalLM;

// "float32" | "bfloat16" | "float16" (the recipe's model.dtype names); throws grpo::Error otherwise.
torch::ScalarType dtype_from_name(const std::string& name);

// Moves every parameter and buffer of `model` to `device`, casting floating
// ones to `dtype` except the routing-correction biases (kept float32).
void place_model(CausalLM& model, torch::Device device, torch::ScalarType dtype);

}  // namespace grpo::policies
