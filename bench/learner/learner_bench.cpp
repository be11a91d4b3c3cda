// learner_bench: throughput of the learner, read side by side in one run.
//   BM_Matmul_Fp32/1024      the machine's matrix-product peak (GFLOP/s), as bench/core_bench.cpp
//   BM_GrpoStep/<preset>     one GRPO optimizer step (mu = 1, dapo, AdamW) on 8 completions
//                            of 64 prompt + 192 completion tokens: tokens/s, model GFLOP/s
//                            (6 x active params per token x tokens; attention's T^2 term
//                            left out), MFU = model GFLOP/s / matmul peak, peak RSS
//   BM_GrpoStepCheckpointed/<preset>  the same step with learner.gradient_checkpointing
//                            (each decoder layer recomputed in backward): compare its
//                            tokens/s and peak RSS with BM_GrpoStep's
//   presets: 0 = qwen2 small (~10M), 1 = qwen2 base50m (~50M), 2 = deepseek_v3 tiny MoE
// cpu_time (per step) is the process's CPU time: on a shared machine tokens per CPU-second
// (trl_compare.py) varies less with the load than tokens/s.
// peak_rss_MB is the process's maximum so far: run one case per process
// (--benchmark_filter, as bench/learner/trl_compare.py does) to read a step's own peak.
#include <benchmark/benchmark.h>
#include <sys/resource.h>
#include <torch/torch.h>

#include "core/torch_runtime.h"
#include "learner/grpo_trainer.h"

namespace {

using namespace grpo;

constexpr int64_t kRows = 8, kPrompt = 64, kCompletion = 192;

double peak_rss_mb() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_maxrss) / 1024.0;
}

void BM_Matmul_Fp32(benchmark::State& state) {
  const int64_t n = state.range(0);
  torch::NoGradGuard no_grad;
  auto a = torch::randn({n, n}), b = torch::randn({n, n}), c = torch::empty({n, n});
  for (auto _ : state) {
    torch::mm_out(c, a, b);
    benchmark::DoNotOptimize(c.data_ptr<float>());
  }
  state.counters["GFLOP/s"] = benchmark::Counter(2.0 * n * n * n * state.iterations() / 1e9, benchmark::Counter::kIsRate);
}
BENCHMARK(BM_Matmul_Fp32)->Arg(1024)->UseRealTime()->Unit(benchmark::kMillisecond);

policies::ModelConfig preset(int64_t which) {
  if (which == 0) return policies::ModelConfig::preset("qwen2", "small");
  if (which == 1) return policies::ModelConfig::preset("qwen2", "base50m");
  return policies::ModelConfig::preset("deepseek_v3", "tiny");
}

std::vector<learner::TrainSequence> random_batch(int64_t vocab) {
  std::vector<learner::TrainSequence> batch;
  for (int64_t i = 0; i < kRows; ++i) {
    learner::TrainSequence s;
    torch::Tensor t = torch::randint(2, vocab, {kPrompt + kCompletion}, torch::kLong);
    s.tokens.assign(t.data_ptr<int64_t>(), t.data_ptr<int64_t>() + t.numel());
    s.prompt_len = kPrompt;
    s.advantage = (i % 2 == 0) ? 1.0 : -1.0;
    batch.push_back(std::move(s));
  }
  return batch;
}

void grpo_step(benchmark::State& state, bool gradient_checkpointing) {
  torch::manual_seed(0);
  const double rss_before = peak_rss_mb();
  policies::ModelConfig cfg = preset(state.range(0));
  auto model = policies::CausalLM::create(cfg, 1);
  learner::LearnerConfig lc;
  lc.micro_batch_tokens = 4 * (kPrompt + kCompletion);  // 2 micro-batches
  lc.gradient_checkpointing = gradient_checkpointing;
  learner::GrpoTrainer trainer(learner::TrainablePolicy::from_causal_lm(model, 1.0, lc), lc, 0, kCompletion);
  auto batch = random_batch(cfg.vocab_size);
  // One untimed warm-up step (as trl_train_step.py): AdamW allocates its moments and the
  // gradients are first touched in the first step.
  trainer.train_on_generation(batch);
  for (auto _ : state) trainer.train_on_generation(batch);
  const double tokens = static_cast<double>(kRows * (kPrompt + kCompletion - 1)) * static_cast<double>(state.iterations());
  const double flops = 6.0 * static_cast<double>(cfg.active_parameters_per_token()) * tokens;
  state.counters["tokens/s"] = benchmark::Counter(tokens, benchmark::Counter::kIsRate);
  state.counters["model_GFLOP/s"] = benchmark::Counter(flops / 1e9, benchmark::Counter::kIsRate);
  state.counters["params_M"] = static_cast<double>(cfg.total_parameters()) / 1e6;
  state.counters["peak_rss_MB"] = peak_rss_mb();
  state.counters["rss_growth_MB"] = peak_rss_mb() - rss_before;
  state.counters["full_BTV_logsoftmax_MB"] =
      static_cast<double>(kRows * (kPrompt + kCompletion) * cfg.vocab_size * 4) / 1e6;
}

void BM_GrpoStep(benchmark::State& state) { grpo_step(state, false); }
void BM_GrpoStepCheckpointed(benchmark::State& state) { grpo_step(state, true); }
// cpu_time is the whole process's (all threads), as trl_train_step.py's process_time.
BENCHMARK(BM_GrpoStep)->Arg(0)->Arg(1)->Arg(2)->UseRealTime()->MeasureProcessCPUTime()->Unit(benchmark::kMillisecond)->MinTime(2.0);
BENCHMARK(BM_GrpoStepCheckpointed)->Arg(0)->Arg(1)->Arg(2)->UseRealTime()->MeasureProcessCPUTime()->Unit(benchmark::kMillisecond)->MinTime(2.0);

}  // namespace

// As `grpo` runs: freed tensor memory is kept for reuse (core/torch_runtime.h).
int main(int argc, char** argv) {
  grpo::keep_freed_memory_for_reuse();
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
