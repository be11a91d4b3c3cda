// core_bench: the machine's matrix-product peak that other benchmarks compare
// against, and the run store's step-write cost.
//   BM_Matmul_Fp32/N      GFLOP/s of an N x N x N fp32 product through LibTorch (its CPU BLAS)
//   BM_DecodeLikeLoop     many small products and element-wise ops, the shape of a
//                         decode step; run it with OMP_WAIT_POLICY=ACTIVE and =PASSIVE
//                         to see what spinning OpenMP threads cost (the binary sets
//                         bounded spinning itself when neither OMP_WAIT_POLICY nor
//                         GOMP_SPINCOUNT is set; bench/omp_wait_policy.sh times
//                         whole grpo commands under each policy)
//   BM_RunStore_WriteStep one step (20 metrics, 16 samples of 1 KB) in one transaction
#include <benchmark/benchmark.h>
#include <torch/torch.h>

#include <filesystem>

#include "core/run_store.h"
#include "core/torch_runtime.h"

static void BM_Matmul_Fp32(benchmark::State& state) {
  int64_t n = state.range(0);
  torch::NoGradGuard no_grad;
  auto a = torch::randn({n, n});
  auto b = torch::randn({n, n});
  auto c = torch::empty({n, n});
  for (auto _ : state) {
    torch::mm_out(c, a, b);
    benchmark::DoNotOptimize(c.data_ptr<float>());
  }
  state.counters["GFLOP/s"] = benchmark::Counter(2.0 * n * n * n * state.iterations() / 1e9, benchmark::Counter::kIsRate);
  state.counters["threads"] = at::get_num_threads();
}
BENCHMARK(BM_Matmul_Fp32)->Arg(256)->Arg(1024)->Arg(2048)->UseRealTime()->Unit(benchmark::kMillisecond);

static void BM_DecodeLikeLoop(benchmark::State& state) {
  torch::NoGradGuard no_grad;
  auto x = torch::randn({8, 512});
  auto w1 = torch::randn({512, 1536}) * 0.02;
  auto w2 = torch::randn({1536, 512}) * 0.02;
  for (auto _ : state) {
    auto h = x;
    for (int layer = 0; layer < 8; ++layer) h = h + torch::mm(torch::silu(torch::mm(h, w1)), w2);
    benchmark::DoNotOptimize(h.data_ptr<float>());
  }
  state.counters["layers/s"] = benchmark::Counter(8.0 * state.iterations(), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_DecodeLikeLoop)->UseRealTime()->Unit(benchmark::kMicrosecond);

static void BM_RunStore_WriteStep(benchmark::State& state) {
  std::string dir = std::filesystem::temp_directory_path() / "grpo-bench-store";
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  grpo::RunStore store(dir + "/run.db");
  grpo::StepRecord r;
  for (int m = 0; m < 20; ++m) r.metrics["m" + std::to_string(m)] = m;
  for (int s = 0; s < 16; ++s) r.samples.push_back({s / 4, s % 4, "prompt", std::string(1024, 'x'), {{"math", 1}}, 1, 0, 0, "stop"});
  int64_t step = 0;
  for (auto _ : state) {
    r.step = ++step;
    store.write_step(r);
  }
  state.counters["steps/s"] = benchmark::Counter(state.iterations(), benchmark::Counter::kIsRate);
  std::filesystem::remove_all(dir);
}
BENCHMARK(BM_RunStore_WriteStep)->UseRealTime()->Unit(benchmark::kMicrosecond);

int main(int argc, char** argv) {
  grpo::ensure_openmp_wait_policy(argc, argv);
  grpo::configure_torch_threads();
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  return 0;
}
