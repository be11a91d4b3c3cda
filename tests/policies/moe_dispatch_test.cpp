// The two ways of running a DeepSeekMoE layer's routed experts
// (policies/moe_dispatch.h): the grouped, sync-free path equals the host loop
// on the whole tiny deepseek_v3 model (logits, balance loss, every gradient,
// expert loads), also after an in-place weight update; kAuto picks it only
// where it is sync-free. On a GPU: the grouped layer runs with CUDA's sync
// debug mode set to error (no host synchronisation), the host loop does not.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <string>

#include "core/error.h"
#include "core/torch_compat.h"
#include "policies/causal_lm.h"
#include "policies/model_layers.h"
#include "policies/moe_dispatch.h"
#include "policies/placement.h"
#include "tests/policies/test_models.h"

#if defined(GRPO_WITH_CUDA)
#include <c10/cuda/CUDAFunctions.h>
#endif

namespace grpo::policies {
namespace {

using detail::MoeDispatch;

void set_dispatch(CausalLM& model, MoeDispatch d) {
  int moe_layers = 0;
  for (const auto& m : model.modules())
    if (auto moe = std::dynamic_pointer_cast<detail::MoEImpl>(m)) {
      moe->dispatch = d;
      ++moe_layers;
    }
  ASSERT_EQ(moe_layers, 2) << "tiny deepseek_v3: layers 1 and 2 are MoE";
}

struct DispatchPass {
  torch::Tensor logits, balance;
  std::map<std::string, torch::Tensor> grads;
  std::vector<torch::Tensor> loads;
};

// A training forward (padding masked, balance loss on) and backward of logits·g + balance.
DispatchPass run_dispatch(CausalLM& model, MoeDispatch d, const torch::Tensor& tokens, const torch::Tensor& mask, const torch::Tensor& g) {
  set_dispatch(model, d);
  model.zero_grad();
  model.reset_expert_load_counts();
  DispatchPass p;
  p.logits = model.forward(tokens, {}, nullptr, mask);
  p.balance = model.balance_loss();
  ((p.logits * g).sum() + p.balance).backward();
  for (const auto& item : model.named_parameters())
    if (item.value().grad().defined()) p.grads[item.key()] = item.value().grad().clone();
  p.loads = model.expert_load_counts();
  return p;
}

void expect_same(const DispatchPass& a, const DispatchPass& b, double tol) {
  const double logits_diff = (a.logits - b.logits).abs().max().item<double>();
  ::testing::Test::RecordProperty("logits_max_abs_diff", std::to_string(logits_diff));
  EXPECT_LE(logits_diff, tol);
  EXPECT_NEAR(a.balance.item<double>(), b.balance.item<double>(), tol);
  ASSERT_EQ(a.loads.size(), b.loads.size());
  for (size_t i = 0; i < a.loads.size(); ++i) EXPECT_TRUE(torch::equal(a.loads[i], b.loads[i])) << "layer " << i;
  int64_t experts_with_grad = 0;
  for (const auto& [name, ga] : a.grads) {
    auto it = b.grads.find(name);
    // The host loop leaves experts no token chose without a gradient; the grouped path gives them zeros.
    torch::Tensor gb = it == b.grads.end() ? torch::zeros_like(ga) : it->second;
    EXPECT_LE((ga - gb).abs().max().item<double>(), tol * std::max(1.0, ga.abs().max().item<double>())) << name;
    if (name.find(".experts.") != std::string::npos && ga.abs().sum().item<double>() > 0) ++experts_with_grad;
  }
  for (const auto& [name, gb] : b.grads) EXPECT_TRUE(a.grads.count(name) || gb.abs().sum().item<double>() == 0) << name;
  EXPECT_GT(experts_with_grad, 10) << "routed experts must receive gradients, or the comparison is vacuous";
}

TEST(MoeDispatch, AutoPicksGroupedOnlyWhereItIsSyncFree) {
  using detail::resolve_moe_dispatch;
  const auto bf16 = torch::kBFloat16;
  EXPECT_EQ(resolve_moe_dispatch(MoeDispatch::kAuto, false, bf16, 0, 64, 32), MoeDispatch::kHostLoop) << "CPU";
  EXPECT_EQ(resolve_moe_dispatch(MoeDispatch::kAuto, true, torch::kFloat, 9, 64, 32), MoeDispatch::kHostLoop)
      << "fp32: _grouped_mm's fallback reads the offsets on the host";
  EXPECT_EQ(resolve_moe_dispatch(MoeDispatch::kAuto, true, bf16, 8, 64, 32), MoeDispatch::kHostLoop) << "sm80";
  EXPECT_EQ(resolve_moe_dispatch(MoeDispatch::kAuto, true, bf16, 9, 60, 32), MoeDispatch::kHostLoop) << "unaligned";
  EXPECT_EQ(resolve_moe_dispatch(MoeDispatch::kAuto, true, bf16, 9, 64, 36), MoeDispatch::kHostLoop) << "unaligned";
  EXPECT_EQ(resolve_moe_dispatch(MoeDispatch::kAuto, true, bf16, 9, 64, 32),
            GRPO_HAS_GROUPED_MM ? MoeDispatch::kGrouped : MoeDispatch::kHostLoop) << "H100/H200";
  EXPECT_EQ(resolve_moe_dispatch(MoeDispatch::kAuto, true, bf16, 10, 64, 32),
            GRPO_HAS_GROUPED_MM ? MoeDispatch::kGrouped : MoeDispatch::kHostLoop) << "B200";
  EXPECT_EQ(resolve_moe_dispatch(MoeDispatch::kGrouped, false, torch::kFloat, 0, 60, 36), MoeDispatch::kGrouped);
  EXPECT_EQ(resolve_moe_dispatch(MoeDispatch::kHostLoop, true, bf16, 9, 64, 32), MoeDispatch::kHostLoop);
  EXPECT_EQ(detail::cuda_compute_major(torch::Device(torch::kCPU)), 0);
}

#if GRPO_HAS_GROUPED_MM
TEST(MoeDispatch, GroupedEqualsHostLoopOnTheWholeModel) {
  ModelConfig c = testing::tiny_deepseek();
  auto model = CausalLM::create(c, 5);
  model->train();
  model->set_sequence_balance_alpha(1e-2);
  torch::manual_seed(3);
  torch::Tensor tokens = torch::randint(0, c.vocab_size, {3, 7}, torch::kLong);
  torch::Tensor mask = torch::ones({3, 7}, torch::kLong);
  mask[2][5] = 0;  // padding: no load counted
  mask[2][6] = 0;
  torch::Tensor g = torch::randn({3, 7, c.vocab_size});
  DispatchPass loop = run_dispatch(*model, MoeDispatch::kHostLoop, tokens, mask, g);
  DispatchPass grouped = run_dispatch(*model, MoeDispatch::kGrouped, tokens, mask, g);
  expect_same(grouped, loop, 1e-5);
  EXPECT_EQ(loop.loads[0].sum().item<int64_t>(), 19 * c.num_experts_per_tok);

  // Weights changed in place (an optimizer step, a weight sync): the grouped
  // path stacks the current weights, so both still agree.
  {
    torch::NoGradGuard no_grad;
    for (auto& item : model->named_parameters())
      if (item.key().find(".experts.") != std::string::npos) item.value().add_(torch::randn_like(item.value()) * 0.05);
  }
  DispatchPass loop2 = run_dispatch(*model, MoeDispatch::kHostLoop, tokens, mask, g);
  DispatchPass grouped2 = run_dispatch(*model, MoeDispatch::kGrouped, tokens, mask, g);
  expect_same(grouped2, loop2, 1e-5);
  EXPECT_GT((loop2.logits - loop.logits).abs().max().item<double>(), 1e-3) << "the update must change the output";
}

TEST(MoeDispatch, GroupedEqualsHostLoopInBf16) {
  ModelConfig c = testing::tiny_deepseek();
  auto model = CausalLM::create(c, 6);
  place_model(*model, torch::kCPU, torch::kBFloat16);
  torch::NoGradGuard no_grad;
  torch::Tensor tokens = torch::randint(0, c.vocab_size, {2, 9}, torch::kLong);
  set_dispatch(*model, MoeDispatch::kHostLoop);
  torch::Tensor a = model->forward(tokens, {});
  set_dispatch(*model, MoeDispatch::kGrouped);
  torch::Tensor b = model->forward(tokens, {});
  // Same bf16 expert outputs, same fp32 sums; only the GEMM kernels' bf16 rounding may differ.
  const double diff = (a - b).abs().max().item<double>();
  RecordProperty("bf16_logits_max_abs_diff", std::to_string(diff));
  EXPECT_LE(diff, 0.05 * std::max(1.0, a.abs().max().item<double>()));
}
#else
TEST(MoeDispatch, GroupedNeedsLibTorchWithGroupedMm) {
  ModelConfig c = testing::tiny_deepseek();
  auto model = CausalLM::create(c, 5);
  set_dispatch(*model, MoeDispatch::kGrouped);
  EXPECT_THROW(model->forward(torch::zeros({1, 3}, torch::kLong), {}), Error);
}
#endif

#if defined(GRPO_WITH_CUDA)
// The whole point of the grouped path on a GPU: not one host synchronisation.
TEST(MoeDispatchCuda, GroupedLayerNeverSynchronisesTheHost) {
  if (!torch::cuda::is_available()) GTEST_SKIP() << "no CUDA device";
  const torch::Device dev(torch::kCUDA, 0);
  if (detail::cuda_compute_major(dev) != 9 && detail::cuda_compute_major(dev) != 10)
    GTEST_SKIP() << "the CUTLASS grouped GEMM runs on sm90/sm100 only";
  ModelConfig c = testing::tiny_deepseek();
  auto model = CausalLM::create(c, 7);
  place_model(*model, dev, torch::kBFloat16);
  model->eval();  // as in rollout: no load counting (its counters start on the host)
  detail::MoE moe{nullptr};
  for (const auto& m : model->modules())
    if (auto p = std::dynamic_pointer_cast<detail::MoEImpl>(m)) moe = detail::MoE(p);
  ASSERT_TRUE(moe);
  torch::NoGradGuard no_grad;
  ASSERT_EQ(detail::resolve_moe_dispatch(MoeDispatch::kAuto, true, torch::kBFloat16, detail::cuda_compute_major(dev),
                                         c.hidden_size, c.moe_intermediate_size),
            MoeDispatch::kGrouped);
  torch::Tensor x = torch::randn({4, 6, c.hidden_size}, torch::TensorOptions().device(dev).dtype(torch::kBFloat16));
  detail::ForwardContext ctx;
  torch::cuda::synchronize();
  c10::cuda::warning_state().set_sync_debug_mode(c10::cuda::SyncDebugMode::L_ERROR);
  torch::Tensor grouped, loop;
  moe->dispatch = MoeDispatch::kGrouped;
  EXPECT_NO_THROW(grouped = moe->forward(x, ctx)) << "the grouped MoE layer synchronised with the host";
  moe->dispatch = MoeDispatch::kHostLoop;
  EXPECT_ANY_THROW(moe->forward(x, ctx)) << "the host loop reads the counts on the host (the check must see a sync)";
  c10::cuda::warning_state().set_sync_debug_mode(c10::cuda::SyncDebugMode::L_DISABLED);
  loop = moe->forward(x, ctx);
  ASSERT_TRUE(grouped.defined());
  // Same routing (fp32 router on the same input): only the GEMMs' bf16 rounding differs.
  const double scale = loop.abs().max().item<double>();
  EXPECT_LE((grouped.to(torch::kFloat) - loop.to(torch::kFloat)).abs().max().item<double>(), 0.02 * scale);
}
#endif

}  // namespace
}  // namespace grpo::policies
