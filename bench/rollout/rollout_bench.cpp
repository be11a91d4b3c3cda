// rollout_bench: generation speed of the rollout engine.
//   BM_Engine_Decode/<model>/<batch>/<new>/<onednn>   tokens/s of Engine::generate:
//        one prompt of 16 tokens, batch = G completions, `new` new tokens each (no
//        stop); onednn 1 = the engine's default (large weights multiply through
//        oneDNN, EngineOptions::onednn_min_weight_elements), 0 = ATen's linear
//        throughout (the engine before; before/after in one run). Counters:
//        tok/s (generated tokens / wall time, prefill and
//        sampling included), GFLOP/s (2 x active parameters x generated tokens
//        / time, attention ignored), weights_MB, kv_MB (cache the engine
//        allocated = its KV budget), threads, and the memory of the process
//        (run one case per process for per-batch figures):
//          load_peak_MB   peak RSS up to the end of model creation/loading
//          after_load_MB  RSS just before generate (runtime + weights)
//          gen_peak_MB    peak RSS during generate (the peak is reset before it
//                         through /proc/self/clear_refs)
//          gen_growth_MB  gen_peak_MB - after_load_MB: what generation adds
//                         (KV cache + activations + sampler), to compare with kv_MB
//          peak_rss_MB    peak RSS of the whole process (getrusage)
//   BM_NoCache_Decode/<model>/<batch>/<new>  the same sampling with a full
//        forward over the whole sequence at every step (no KV cache): the
//        baseline the cache must beat, in the same run.
//   BM_DecodeAttention/<batch>/<keys>  one decode step's attention over the KV
//        cache (policies/decode_attention.h) for base50m's 12 layers (8 heads,
//        2 kv heads, head dim 64), every row at `keys` keys: time per step and
//        GB/s of keys and values read (the cache does not fit the caches).
// model 0 = deepseek_v3 tiny (MoE), 1 = qwen2 base50m (~50M dense).
// Compare GFLOP/s with core_bench BM_Matmul_Fp32 (this machine's peak);
// hf_compare.py runs both and transformers side by side.
// GRPO_BENCH_NEW_TOKENS overrides the new tokens (for a quick run);
// GRPO_BENCH_GLIBC_MALLOC=1 keeps glibc's default malloc tuning (see main).
// GRPO_BENCH_SAVE_DIR=dir saves each created model's checkpoint there (hf_compare.py
// reads it); GRPO_BENCH_MODEL_DIR=dir loads a model from that checkpoint instead of
// creating it when the checkpoint's model_type is the model's (one dir, one model).
// GRPO_BENCH_PROFILE=file.json records BM_Engine_Decode's generate with the torch
// (Kineto) profiler and saves the trace there: per-op times of a decode step
// (profile_summary.py sums them; perf cannot attribute the oneDNN JIT code).
#include <benchmark/benchmark.h>
#include <sys/resource.h>
#include <torch/csrc/autograd/profiler_kineto.h>
#include <torch/torch.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <set>
#include <string>

#include "core/torch_runtime.h"
#include "policies/causal_lm.h"
#include "policies/decode_attention.h"
#include "rollout/engine.h"
#include "rollout/sampler.h"

namespace {

using grpo::policies::CausalLM;
using grpo::policies::ModelConfig;

// A field ("VmRSS", "VmHWM") of /proc/self/status in MB, -1 where unreadable.
double proc_status_mb(const std::string& field) {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind(field + ":", 0) == 0) return std::stod(line.substr(field.size() + 1)) / 1024.0;  // "VmRSS:  123 kB"
  return -1;
}

// Sets the process's peak RSS (VmHWM) back to its current RSS (Linux >= 4.0); false where not allowed.
bool reset_peak_rss() {
  std::ofstream out("/proc/self/clear_refs");
  out << "5";
  out.flush();
  return static_cast<bool>(out);
}

// Records the torch profiler between construction and save() (GRPO_BENCH_PROFILE).
class BenchProfiler {
 public:
  BenchProfiler() {
    namespace prof = torch::autograd::profiler;
    const torch::profiler::impl::ProfilerConfig config(torch::profiler::impl::ProfilerState::KINETO, /*report_input_shapes=*/true);
    const std::set<torch::profiler::impl::ActivityType> activities{torch::profiler::impl::ActivityType::CPU};
    prof::prepareProfiler(config, activities);
    prof::enableProfiler(config, activities);
  }
  void save(const std::string& path) { torch::autograd::profiler::disableProfiler()->save(path); }
};

double load_peak_mb = -1;  // VmHWM when the (first) model was ready

std::shared_ptr<CausalLM> bench_model(int which) {
  static std::shared_ptr<CausalLM> cache[2];
  if (!cache[which]) {
    auto config = which == 0 ? ModelConfig::preset("deepseek_v3", "tiny") : ModelConfig::preset("qwen2", "base50m");
    const char* load_dir = std::getenv("GRPO_BENCH_MODEL_DIR");
    bool load = load_dir && ModelConfig::from_file(std::string(load_dir) + "/config.json").model_type == config.model_type;
    cache[which] = load ? CausalLM::load(load_dir) : CausalLM::create(config, /*seed=*/1);
    cache[which]->eval();
    if (load_peak_mb < 0) load_peak_mb = proc_status_mb("VmHWM");
    if (!load && std::getenv("GRPO_BENCH_SAVE_DIR")) cache[which]->save_hf(std::getenv("GRPO_BENCH_SAVE_DIR"));
  }
  return cache[which];
}

double peak_rss_mb() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return u.ru_maxrss / 1024.0;
}

int new_tokens(benchmark::State& state) {
  const char* env = std::getenv("GRPO_BENCH_NEW_TOKENS");
  return env ? std::atoi(env) : static_cast<int>(state.range(2));
}

std::vector<int64_t> prompt(int64_t vocab) {
  std::vector<int64_t> p;
  for (int i = 0; i < 16; ++i) p.push_back((i * 7919 + 13) % vocab);
  return p;
}

void report(benchmark::State& state, const CausalLM& model, int64_t tokens_per_iter) {
  double active = static_cast<double>(model.config().active_parameters_per_token());
  state.counters["tok/s"] = benchmark::Counter(static_cast<double>(tokens_per_iter) * state.iterations(), benchmark::Counter::kIsRate);
  state.counters["GFLOP/s"] = benchmark::Counter(2.0 * active * tokens_per_iter * state.iterations() / 1e9, benchmark::Counter::kIsRate);
  state.counters["peak_rss_MB"] = peak_rss_mb();
  double weight_bytes = 0;
  for (const auto& p : model.parameters()) weight_bytes += static_cast<double>(p.numel() * p.element_size());
  state.counters["weights_MB"] = weight_bytes / (1 << 20);
  state.counters["threads"] = at::get_num_threads();
}

void BM_Engine_Decode(benchmark::State& state) {
  auto model = bench_model(static_cast<int>(state.range(0)));
  int64_t batch = state.range(1);
  int n = new_tokens(state);
  grpo::rollout::GroupRequest r;
  r.prompt_ids = prompt(model->config().vocab_size);
  r.n = static_cast<int>(batch);
  r.params.temperature = 1.0;
  r.params.max_new_tokens = n;
  grpo::rollout::EngineOptions options;
  options.max_slots = batch;
  options.kv_budget_tokens = batch * (16 + n);
  if (state.range(3) == 0) options.onednn_min_weight_elements = -1;
  grpo::rollout::Engine engine(model, options);
  int64_t generated = 0;
  double after_load = proc_status_mb("VmRSS");
  double peak_before = peak_rss_mb();  // the reset below lowers getrusage's maximum too
  bool peak_reset = reset_peak_rss();
  const char* profile_path = std::getenv("GRPO_BENCH_PROFILE");
  std::unique_ptr<BenchProfiler> profiler;
  if (profile_path) profiler = std::make_unique<BenchProfiler>();
  for (auto _ : state) {
    auto out = engine.generate({r});
    generated = 0;
    for (const auto& c : out[0].completions) generated += static_cast<int64_t>(c.ids.size());
  }
  if (profiler) profiler->save(profile_path);
  report(state, *model, generated);
  double gen_peak = peak_reset ? proc_status_mb("VmHWM") : -1;
  state.counters["peak_rss_MB"] = std::max(peak_before, peak_rss_mb());
  state.counters["load_peak_MB"] = load_peak_mb;
  state.counters["after_load_MB"] = after_load;
  state.counters["gen_peak_MB"] = gen_peak;
  state.counters["gen_growth_MB"] = peak_reset ? gen_peak - after_load : -1;
  state.counters["kv_MB"] = static_cast<double>(engine.stats().cache_slots * engine.stats().cache_max_len *
                                                model->config().kv_bytes_per_token(4)) / (1 << 20);
}

void BM_NoCache_Decode(benchmark::State& state) {
  auto model = bench_model(static_cast<int>(state.range(0)));
  int64_t batch = state.range(1);
  int n = new_tokens(state);
  torch::NoGradGuard no_grad;
  auto p = prompt(model->config().vocab_size);
  for (auto _ : state) {
    auto seq = torch::tensor(p, torch::kInt64).unsqueeze(0).repeat({batch, 1});  // [B, T]
    for (int step = 0; step < n; ++step) {
      auto pos = torch::arange(seq.size(1), torch::kInt64).unsqueeze(0).expand_as(seq);
      auto logits = model->forward(seq, pos).select(1, -1);  // [B, V]
      std::vector<grpo::rollout::RowSampling> rows(batch, grpo::rollout::RowSampling{1.0, 0, 1.0, 0.0, 0, step});
      for (int64_t i = 0; i < batch; ++i) rows[i].seed = grpo::rollout::sequence_seed(0, i);
      auto s = grpo::rollout::sample_tokens(logits, rows);
      seq = torch::cat({seq, s.tokens.unsqueeze(1)}, 1);
    }
  }
  report(state, *model, batch * n);
}

void BM_DecodeAttention(benchmark::State& state) {
  const int64_t batch = state.range(0), keys = state.range(1), layers = 12, H = 8, KV = 2, hd = 64;
  torch::NoGradGuard no_grad;
  std::vector<torch::Tensor> k_cache, v_cache;
  for (int64_t l = 0; l < layers; ++l) {
    k_cache.push_back(torch::randn({batch, KV, keys, hd}));
    v_cache.push_back(torch::randn({batch, KV, keys, hd}));
  }
  auto q = torch::randn({batch, H, hd}), kv_new = torch::randn({batch, KV, hd});
  std::vector<int64_t> slots(batch), starts(batch, keys - 1);
  for (int64_t b = 0; b < batch; ++b) slots[b] = b;
  for (auto _ : state)
    for (int64_t l = 0; l < layers; ++l)
      benchmark::DoNotOptimize(grpo::policies::detail::decode_attention(q, kv_new, kv_new, k_cache[l], v_cache[l], slots, starts, 0.125));
  const double bytes = 2.0 * layers * batch * KV * keys * hd * sizeof(float);
  state.counters["GB/s"] = benchmark::Counter(bytes * state.iterations(), benchmark::Counter::kIsRate);
}

}  // namespace

BENCHMARK(BM_DecodeAttention)->ArgNames({"batch", "keys"})->ArgsProduct({{64, 256}, {64, 256}})->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Engine_Decode)
    ->ArgNames({"model", "batch", "new", "onednn"})
    ->ArgsProduct({{0, 1}, {1, 16, 64, 256}, {64, 256, 512}, {1, 0}})
    ->Iterations(1)->UseRealTime()->Unit(benchmark::kSecond);
BENCHMARK(BM_NoCache_Decode)
    ->ArgNames({"model", "batch", "new"})
    ->ArgsProduct({{0, 1}, {1, 16, 64}, {256}})
    ->Iterations(1)->UseRealTime()->Unit(benchmark::kSecond);

int main(int argc, char** argv) {
  grpo::ensure_openmp_wait_policy(argc, argv);
  // A decode step allocates and frees the same large blocks every step ([B, V]
  // logits and log-probs: 8 MB at batch 64, 33 MB at 256): kept in the heap
  // for reuse as in every grpo process. GRPO_BENCH_GLIBC_MALLOC=1 keeps glibc's
  // defaults (to measure the difference).
  if (!std::getenv("GRPO_BENCH_GLIBC_MALLOC")) grpo::keep_freed_memory_for_reuse();
  grpo::configure_torch_threads();
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  return 0;
}
