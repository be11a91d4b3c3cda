// placement.cpp: see placement.h.
#include "policies/placement.h"

#include <map>

#include "core/error.h"
#include "policies/causal_lm.h"

namespace grpo::policies {

torch::ScalarType dtype_from_name(const std::string& name) {
  if (name == "float32") return torch::kFloat;
  if (name == "bfloat16") return torch::kBFloat16;
  if (name == "float16") return torch::kHalf;
  throw Error("unknown dtype \"" + name + "\": expected float32, bfloat16 or float16");
}

void place_model(CausalLM& model, torch::Device device, torch::ScalarType dtype) {
  torch::NoGradGuard no_grad;
  // fp32 copies of the routing biases before the cast can round them (copies:
  // to() of an fp32 tensor returns the tensor itself, which the cast rewrites).
  std::map<std::string, torch::Tensor> biases;
  for (const auto& item : model.named_buffers())
    if (item.key().find("e_score_correction_bias") != std::string::npos)
      biases[item.key()] = item.value().to(torch::kFloat, /*non_blocking=*/false, /*copy=*/true);
  model.to(device, dtype);
  for (auto& item : model.named_buffers()) {
    auto it = biases.find(item.key());
    if (it != biases.end()) item.value().set_data(it->second.to(device));
  }
}

}  // namespace grpo::policies
