// weight_publish_bench: what publishing a weight version costs the learner's
// thread, against serialisation alone, side by side in one run.
//   BM_Serialise/<bf16>  weight_messages + encode_message of every message:
//        the work publish_weights must do on its caller's thread.
//   BM_Publish/<bf16>/<shared>  WorkerPool::publish_weights with 2 in-process
//        rollout workers connected, each version applied by both before the
//        next (the wait is not timed). A ratio Publish / Serialise near 1 means
//        the caller does not wait for the network sends. shared = 1:
//        rollout.weight_sync = shared (one copy into the POSIX shared-memory
//        staging buffer instead of serialising; workers copy it out).
// Model: qwen2 base50m (~50M dense, fp32, ~200 MB); bf16 = 1 sends it as bf16.
// Counters: MB (payload per version), MB/s (payload / caller's time),
// deliver_ms (mean wall time from calling publish_weights until both workers
// report the version applied: what a sync-mode step waits for).
#include <benchmark/benchmark.h>
#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <memory>
#include <thread>
#include <vector>

#include "core/wire_message.h"
#include "policies/causal_lm.h"
#include "rollout/weight_sync.h"
#include "rollout/worker.h"
#include "rollout/worker_pool.h"

namespace {

using grpo::policies::CausalLM;
using grpo::policies::ModelConfig;
using namespace grpo::rollout;

constexpr int64_t kChunkBytes = 4 << 20;  // WorkerPoolOptions' default

std::shared_ptr<CausalLM> bench_model() {
  static std::shared_ptr<CausalLM> model = CausalLM::create(ModelConfig::preset("qwen2", "base50m"), /*seed=*/1);
  return model;
}

double payload_mb(const NamedTensors& tensors) {
  double bytes = 0;
  for (const auto& [name, t] : tensors) bytes += static_cast<double>(t.numel() * t.element_size());
  return bytes / (1 << 20);
}

void BM_Serialise(benchmark::State& state) {
  const bool bf16 = state.range(0) != 0;
  NamedTensors tensors = published_tensors(*bench_model(), bf16);
  int64_t version = 0;
  for (auto _ : state) {
    size_t parts = 0;
    for (const auto& m : weight_messages(++version, published_tensors(*bench_model(), bf16), kChunkBytes))
      parts += grpo::encode_message(m).size();
    benchmark::DoNotOptimize(parts);
  }
  state.counters["MB"] = payload_mb(tensors);
  state.counters["MB/s"] = benchmark::Counter(payload_mb(tensors) * static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
}

void BM_Publish(benchmark::State& state) {
  const bool bf16 = state.range(0) != 0;
  WorkerPoolOptions o;
  o.model_config_json = bench_model()->config().to_json();
  o.chunk_bytes = kChunkBytes;
  o.shared_weights = state.range(1) != 0;
  auto pool = std::make_unique<WorkerPool>(o);
  std::vector<std::thread> workers;
  for (int i = 0; i < 2; ++i)
    workers.emplace_back([endpoint = pool->endpoint(), i] {
      WorkerOptions w;
      w.connect = endpoint;
      w.name = "bench" + std::to_string(i);
      RolloutWorker(w).run();  // returns when the pool shuts down
    });
  auto all_at = [&pool](int64_t v) {
    return pool->wait_for([v](const PoolSnapshot& s) {
      if (s.workers.size() < 2) return false;
      for (const auto& w : s.workers)
        if (w.version < v) return false;
      return true;
    }, /*timeout_s=*/600);
  };
  NamedTensors tensors = published_tensors(*bench_model(), bf16);
  int64_t version = 0;
  double deliver_s = 0;
  for (auto _ : state) {
    auto start = std::chrono::steady_clock::now();
    pool->publish_weights(++version, published_tensors(*bench_model(), bf16));
    state.PauseTiming();
    if (!all_at(version)) state.SkipWithError("workers did not apply the version within 600 s");
    deliver_s += std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    state.ResumeTiming();
  }
  state.counters["deliver_ms"] = 1000 * deliver_s / static_cast<double>(std::max<int64_t>(1, state.iterations()));
  state.counters["MB"] = payload_mb(tensors);
  state.counters["MB/s"] = benchmark::Counter(payload_mb(tensors) * static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
  pool.reset();  // tells the workers to shut down
  for (auto& t : workers) t.join();
}

BENCHMARK(BM_Serialise)->Arg(0)->Arg(1)->Unit(benchmark::kMillisecond)->UseRealTime()->Iterations(5);
BENCHMARK(BM_Publish)->Args({0, 0})->Args({1, 0})->Args({0, 1})->Args({1, 1})->Unit(benchmark::kMillisecond)->UseRealTime()->Iterations(5);

}  // namespace

BENCHMARK_MAIN();
