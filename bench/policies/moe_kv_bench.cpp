// policies_bench: what the policies module's design promises, measured.
//   BM_MoeLayer/<E>     one DeepSeekMoE layer forward (no grad) over 2048 tokens,
//                       top-6 routing, expert width fixed: 8 vs 64 routed experts
//                       at equal active size (active FLOPs identical).
//   summary (printed)   64-vs-8 time ratio measured alternately in one run
//                       (target <= 1.5x), and KV-cache bytes per token for MLA
//                       vs the same model with standard multi-head attention.
#include <benchmark/benchmark.h>
#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <cstdio>

#include "policies/kv_cache.h"
#include "policies/model_layers.h"

namespace {

using grpo::policies::ModelConfig;
namespace detail = grpo::policies::detail;

constexpr int64_t kTokens = 2048;
constexpr int64_t kHidden = 256;
constexpr int64_t kExpertWidth = 128;

ModelConfig moe_config(int64_t experts) {
  ModelConfig c = ModelConfig::preset("deepseek_v3", "tiny");
  c.hidden_size = kHidden;
  c.moe_intermediate_size = kExpertWidth;
  c.n_routed_experts = experts;
  c.num_experts_per_tok = 6;
  c.n_shared_experts = 1;
  c.n_group = 1;
  c.topk_group = 1;
  return c;
}

struct Layer {
  explicit Layer(int64_t experts) : config(moe_config(experts)), moe(config), x(torch::randn({1, kTokens, kHidden})) {
    moe->eval();
    torch::NoGradGuard g;
    for (auto& p : moe->parameters()) p.normal_(0, 0.05);
  }
  void run() {
    torch::NoGradGuard g;
    detail::ForwardContext ctx;
    benchmark::DoNotOptimize(moe->forward(x, ctx));
  }
  ModelConfig config;
  detail::MoE moe;
  torch::Tensor x;
};

void BM_MoeLayer(benchmark::State& state) {
  Layer layer(state.range(0));
  for (auto _ : state) layer.run();
  state.SetItemsProcessed(state.iterations() * kTokens);
}
BENCHMARK(BM_MoeLayer)->Arg(8)->Arg(64)->Unit(benchmark::kMillisecond);

double median_ms(Layer& layer) {
  std::vector<double> t;
  for (int i = 0; i < 5; ++i) {
    auto s = std::chrono::steady_clock::now();
    layer.run();
    t.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - s).count());
  }
  std::sort(t.begin(), t.end());
  return t[t.size() / 2];
}

void summary() {
  torch::manual_seed(0);
  Layer few(8), many(64);
  few.run();
  many.run();
  double a = 0, b = 0;
  for (int round = 0; round < 3; ++round) {  // alternate to share machine noise
    a += median_ms(few);
    b += median_ms(many);
  }
  std::printf("\nMoE layer, %lld tokens, hidden %lld, expert width %lld, top-6 + 1 shared:\n", (long long)kTokens,
              (long long)kHidden, (long long)kExpertWidth);
  std::printf("  8 experts: %.2f ms   64 experts: %.2f ms   ratio 64/8 = %.2fx (target <= 1.5x)\n", a / 3, b / 3, b / a);

  ModelConfig mla = ModelConfig::preset("deepseek_v3", "small");
  ModelConfig v3 = mla;  // DeepSeek-V3 671B shapes (61 layers, 128 heads)
  v3.num_hidden_layers = 61;
  v3.num_attention_heads = 128;
  v3.kv_lora_rank = 512;
  v3.qk_nope_head_dim = 128;
  v3.qk_rope_head_dim = 64;
  v3.v_head_dim = 128;
  std::printf("\nKV cache bytes per token (bf16), MLA (latent + rope key) vs standard MHA (K and V of every head):\n");
  for (const ModelConfig* c : {&mla, &v3}) {
    grpo::policies::KvCache cache(*c, 1, 1, torch::kCPU, torch::kBFloat16);
    int64_t mha = c->num_attention_heads * (c->qk_head_dim() + c->v_head_dim) * 2 * c->num_hidden_layers;
    std::printf("  %3lld layers, %3lld heads: MLA %lld B (KvCache measured %lld B), MHA %lld B, MLA/MHA = %.2f%%\n",
                (long long)c->num_hidden_layers, (long long)c->num_attention_heads, (long long)c->kv_bytes_per_token(2),
                (long long)cache.bytes_per_token(), (long long)mha, 100.0 * double(c->kv_bytes_per_token(2)) / double(mha));
  }
}

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  summary();
  return 0;
}
