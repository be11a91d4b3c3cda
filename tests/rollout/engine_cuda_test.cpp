// The rollout engine on a CUDA GPU gives what it gives on the CPU: greedy
// decoding the same tokens, seeded sampling (with top-k/top-p filters) the
// same tokens, and log-probs within 1e-3. Skipped where no CUDA device is
// present (scripts/gpu-check.sh runs it on a GPU machine).
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "policies/causal_lm.h"
#include "rollout/engine.h"
#include "tests/rollout/same_completions.h"

namespace grpo::rollout {
namespace {

constexpr const char* kNoCuda = "no CUDA device: runs on a GPU machine (scripts/gpu-check.sh)";

GroupRequest cuda_request(int64_t id, std::vector<int64_t> prompt, int n, double temperature, int top_k, double top_p) {
  GroupRequest r;
  r.id = id;
  r.prompt_ids = std::move(prompt);
  r.n = n;
  r.params.temperature = temperature;
  r.params.top_k = top_k;
  r.params.top_p = top_p;
  r.params.max_new_tokens = 16;
  r.params.seed = 5 + static_cast<uint64_t>(id);
  return r;
}

// Generates `requests` with the same random tiny `arch` model on the CPU and on cuda:0.
std::pair<std::vector<GroupResult>, std::vector<GroupResult>> cpu_and_cuda(const std::string& arch,
                                                                           const std::vector<GroupRequest>& requests) {
  auto cpu = policies::CausalLM::create(policies::ModelConfig::preset(arch, "tiny"), /*seed=*/3);
  auto cuda = cpu->clone_model();
  cuda->to(torch::Device(torch::kCUDA, 0));
  Engine on_cpu(cpu, {});
  Engine on_cuda(cuda, {});
  return {on_cpu.generate(requests), on_cuda.generate(requests)};
}

TEST(EngineCudaTest, GreedyDecodeOnCudaEqualsCpu) {
  if (!torch::cuda::is_available()) GTEST_SKIP() << kNoCuda;
  for (const std::string arch : {"qwen2", "deepseek_v3"}) {
    auto [cpu, cuda] = cpu_and_cuda(arch, {cuda_request(1, {5, 17, 42, 8}, 2, 0.0, 0, 1.0), cuda_request(2, {9, 1}, 3, 0.0, 0, 1.0),
                                           cuda_request(3, {4, 4, 4, 4, 4, 4, 4}, 1, 0.0, 0, 1.0)});
    expect_same_completions(cpu, cuda, 1e-3, arch + " greedy");
  }
}

TEST(EngineCudaTest, SeededFilteredSamplingOnCudaEqualsCpu) {
  if (!torch::cuda::is_available()) GTEST_SKIP() << kNoCuda;
  for (const std::string arch : {"qwen2", "deepseek_v3"}) {
    auto [cpu, cuda] = cpu_and_cuda(arch, {cuda_request(1, {5, 17, 42, 8}, 4, 1.0, 0, 1.0), cuda_request(2, {9, 1}, 4, 0.8, 20, 0.9)});
    expect_same_completions(cpu, cuda, 1e-3, arch + " sampled");
  }
}

}  // namespace
}  // namespace grpo::rollout
