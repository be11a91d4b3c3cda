// Fixed-shape decode (rollout/decode_graph.h, CausalLM::static_decode_logits):
// the buckets; a static step over slot buckets, with idle rows, equals the
// cached forward of the active rows and leaves their cache as the forward
// does; the engine decoding in fixed shapes (DecodeMode::kStatic, the CPU
// twin of kCudaGraphs) produces the eager engine's completions; CUDA graphs
// are refused, with the reason, where they cannot be captured. On a GPU: the
// engine replaying CUDA graphs produces the eager engine's completions.
#include "rollout/decode_graph.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "core/error.h"
#include "policies/causal_lm.h"
#include "policies/kv_cache.h"
#include "policies/moe_dispatch.h"
#include "policies/placement.h"
#include "rollout/engine.h"
#include "tests/rollout/same_completions.h"
#include "tests/rollout/tiny_engine_model.h"

namespace grpo::rollout {
namespace {

TEST(DecodeBuckets, PowersOfTwoUpToTheSlotCount) {
  EXPECT_EQ(decode_buckets(1), (std::vector<int64_t>{1}));
  EXPECT_EQ(decode_buckets(8), (std::vector<int64_t>{1, 2, 4, 8}));
  EXPECT_EQ(decode_buckets(12), (std::vector<int64_t>{1, 2, 4, 8, 12}));
  EXPECT_THROW(decode_buckets(0), Error);
  const auto b = decode_buckets(12);
  EXPECT_EQ(bucket_for(b, 0), 1);
  EXPECT_EQ(bucket_for(b, 1), 2);
  EXPECT_EQ(bucket_for(b, 4), 8);
  EXPECT_EQ(bucket_for(b, 7), 8);
  EXPECT_EQ(bucket_for(b, 8), 12);
  EXPECT_EQ(bucket_for(b, 11), 12);
  EXPECT_THROW(bucket_for(b, 12), Error);
}

// Slots 0, 2, 5 hold prompts of different lengths; slots 1, 3, 4 are idle
// (1 holds an old sequence). Several steps of StaticDecoder (bucket 8) and of
// the cached forward on a twin cache give the same logits and cache entries.
class StaticStep : public ::testing::TestWithParam<std::string> {};

TEST_P(StaticStep, EqualsTheCachedForwardOfTheActiveRows) {
  auto model = tiny_engine_model(GetParam());
  torch::NoGradGuard no_grad;
  const auto& c = model->config();
  policies::KvCache dynamic(c, /*max_slots=*/8, /*max_len=*/24), fixed(c, 8, 24);
  const std::vector<std::vector<int64_t>> prompts = {{5, 17, 42, 8}, {3, 3}, {9, 1, 2}, {}, {}, {7, 30, 11, 12, 2, 6}};
  for (int64_t s = 0; s < 6; ++s) {
    const auto& p = prompts[static_cast<size_t>(s)];
    if (p.empty()) continue;
    torch::Tensor t = torch::tensor(p, torch::kLong).unsqueeze(0);
    torch::Tensor pos = torch::arange(static_cast<int64_t>(p.size()), torch::kLong).unsqueeze(0);
    model->forward(t, pos, &dynamic, {}, {s});
    model->forward(t, pos, &fixed, {}, {s});
  }
  StaticDecoder decoder(*model, fixed, /*cuda_graphs=*/false);
  std::vector<int64_t> slots = {0, 2, 5}, tokens = {4, 8, 15};
  for (int step = 0; step < 5; ++step) {
    std::vector<int64_t> positions;
    for (int64_t s : slots) positions.push_back(dynamic.length(s));
    torch::Tensor want = model->forward(torch::tensor(tokens, torch::kLong).unsqueeze(1), torch::tensor(positions, torch::kLong).unsqueeze(1),
                                        &dynamic, {}, slots).select(1, 0);
    torch::Tensor got = decoder.step(slots, tokens, positions);
    ASSERT_EQ(got.sizes(), want.sizes());
    EXPECT_LE((got - want).abs().max().item<double>(), 1e-5) << "step " << step;
    for (int64_t s : slots) EXPECT_EQ(fixed.length(s), dynamic.length(s));
    EXPECT_EQ(fixed.length(1), 2) << "an idle slot keeps its length";
    EXPECT_EQ(fixed.length(3), 0);
    torch::Tensor next = want.argmax(-1).contiguous();
    tokens.assign(next.data_ptr<int64_t>(), next.data_ptr<int64_t>() + 3);
  }
  // The active slots' valid cache entries are the forward's; idle slot 1's prompt survives.
  for (int64_t layer = 0; layer < dynamic.num_layers(); ++layer)
    for (int64_t s : {0, 1, 2, 5}) {
      const int64_t len = dynamic.length(s);
      const int64_t time_dim = dynamic.is_mla() ? 0 : 1;  // [slot, len, r] or [slot, heads, len, hd]
      torch::Tensor a = dynamic.a(layer)[s].narrow(time_dim, 0, len), b = fixed.a(layer)[s].narrow(time_dim, 0, len);
      EXPECT_LE((a - b).abs().max().item<double>(), 1e-5) << "layer " << layer << " slot " << s;
    }
}

INSTANTIATE_TEST_SUITE_P(Archs, StaticStep, ::testing::Values("qwen2", "deepseek_v3"));

GroupRequest bucket_request(int64_t id, std::vector<int64_t> prompt, int n, double temperature, int max_new) {
  GroupRequest r;
  r.id = id;
  r.prompt_ids = std::move(prompt);
  r.n = n;
  r.params.temperature = temperature;
  r.params.top_k = temperature > 0 ? 20 : 0;
  r.params.max_new_tokens = max_new;
  r.params.stop_token_ids = {7};  // uneven lengths: slots free and refill mid-run, buckets change
  r.params.seed = 11 + static_cast<uint64_t>(id);
  return r;
}

std::vector<GroupRequest> requests() {
  return {bucket_request(1, {5, 17, 42, 8}, 3, 0.0, 14), bucket_request(2, {9, 1}, 4, 1.0, 10), bucket_request(3, {4, 4, 4, 4, 4, 4, 4}, 2, 1.0, 12),
          bucket_request(4, {2, 3}, 3, 0.7, 9)};
}

TEST(EngineStaticDecode, SameCompletionsAsTheEagerEngine) {
  for (const std::string arch : {"qwen2", "deepseek_v3"}) {
    auto model = tiny_engine_model(arch);
    EngineOptions eager, fixed;
    eager.max_slots = fixed.max_slots = 5;  // 12 completions through 5 slots: refills, idle rows, several buckets
    fixed.decode = DecodeMode::kStatic;
    Engine a(model, eager), b(model, fixed);
    auto want = a.generate(requests());
    auto got = b.generate(requests());
    expect_same_completions(want, got, 1e-4, arch);
    EXPECT_EQ(b.stats().decode_graphs, 0);
    EXPECT_GT(b.stats().slot_refills, 0) << "the comparison must cover refilled slots";
  }
}

// The cache and its decoder (with CUDA graphs: the graphs) serve the next
// call of the same slot count and no longer sequences; weights copied in
// between are seen; a longer call allocates anew.
TEST(EngineStaticDecode, CacheAndDecoderAreKeptAcrossCalls) {
  auto model = tiny_engine_model("qwen2");
  EngineOptions eager, fixed;
  eager.max_slots = fixed.max_slots = 5;
  fixed.decode = DecodeMode::kStatic;
  Engine b(model, fixed);
  auto first = b.generate(requests());
  auto again = b.generate(requests());
  EXPECT_EQ(b.stats().cache_reuses, 1);
  expect_same_completions(first, again, 1e-6, "kept cache");
  {
    torch::NoGradGuard no_grad;
    for (auto& p : tiny_engine_model("qwen2", /*seed=*/5)->named_parameters()) model->named_parameters()[p.key()].copy_(p.value());
  }
  auto shorter = requests();
  for (auto& r : shorter) r.params.max_new_tokens -= 2;  // fits the kept cache
  auto got = b.generate(shorter);
  EXPECT_EQ(b.stats().cache_reuses, 2);
  expect_same_completions(Engine(model, eager).generate(shorter), got, 1e-4, "new weights, kept cache");
  auto longer = requests();
  longer[0].params.max_new_tokens += 6;  // longer than the kept cache: a new one
  got = b.generate(longer);
  EXPECT_EQ(b.stats().cache_reuses, 2);
  expect_same_completions(Engine(model, eager).generate(longer), got, 1e-4, "new cache");
}

TEST(EngineStaticDecode, CudaGraphsAreRefusedWhereTheyCannotBeCaptured) {
  auto model = tiny_engine_model("qwen2");
  EngineOptions o;
  o.decode = DecodeMode::kCudaGraphs;
  Engine engine(model, o);
  try {
    engine.generate({bucket_request(1, {5, 17}, 1, 0.0, 4)});
    FAIL() << "CUDA graphs accepted for a CPU model";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("CUDA graphs"), std::string::npos) << e.what();
  }
}

// On a GPU: replayed graphs give the eager engine's completions.
TEST(EngineCudaGraphs, SameCompletionsAsTheEagerEngineOnCuda) {
  if (!torch::cuda::is_available()) GTEST_SKIP() << "no CUDA device";
  const torch::Device dev(torch::kCUDA, 0);
  std::vector<std::pair<std::string, torch::ScalarType>> cases = {{"qwen2", torch::kFloat}, {"qwen2", torch::kBFloat16}};
  const int major = policies::detail::cuda_compute_major(dev);
  if (major == 9 || major == 10) cases.push_back({"deepseek_v3", torch::kBFloat16});  // grouped MoE: capturable
  for (const auto& [arch, dtype] : cases) {
    auto model = tiny_engine_model(arch);
    policies::place_model(*model, dev, dtype);
    EngineOptions eager, graphs;
    eager.max_slots = graphs.max_slots = 5;
    graphs.decode = DecodeMode::kCudaGraphs;
    Engine a(model, eager), b(model, graphs);
    auto want = a.generate(requests());
    auto got = b.generate(requests());
    const std::string what = arch + (dtype == torch::kFloat ? " fp32" : " bf16");
    // bf16: the fixed-shape step attends over the whole cache length, so its
    // reductions differ from eager's in rounding, which can flip a near tie.
    if (dtype == torch::kFloat) expect_same_completions(want, got, 1e-3, what);
    EXPECT_GT(b.stats().decode_graphs, 1) << what;
    if (arch == "qwen2") {  // (the MoE's atomic index_add may round differently run to run)
      int64_t graphs = b.stats().decode_graphs;
      auto again = b.generate(requests());  // the kept cache and graphs: the same draws, nothing captured
      expect_same_completions(got, again, 1e-5, what + " (repeat)");
      EXPECT_EQ(b.stats().cache_reuses, 1) << what;
      EXPECT_EQ(b.stats().decode_graphs, graphs) << what;
    }
  }
}

}  // namespace
}  // namespace grpo::rollout
