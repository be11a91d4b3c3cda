// gpu_figures: the GPU figures of issue #11, measured in one process and
// printed as one JSON object on stdout (scripts/gpu-check.sh merges them with
// bench/gpu/hf_generate.py's, run on the same checkpoints, into figures.json).
//
//   gpu_figures --work DIR [--device cuda] [--dtype bfloat16] [--quick]
//
//   matmul       the chip's measured matmul rate in --dtype (8192^3 products,
//                TFLOP/s): the denominator of the model FLOP utilisation.
//   per model    (DIR/<name>, created with random weights and saved in HF
//                layout on the first run, so transformers loads the same one):
//     decode     Engine::generate tok/s for one 16-token prompt, `batch`
//                completions of exactly `new` tokens, temperature 1, no stop
//                (as bench/rollout/rollout_bench.cpp), per decode `mode`:
//                eager, and cuda_graphs on CUDA (static on a CPU), one after
//                the other in this run (graph captures included: they happen
//                in each generate call).
//     train      one GRPO optimizer step (mu = 1, dapo, AdamW, fp32 masters
//                when --dtype is bfloat16) on `rows` completions of 64 prompt
//                + 448 completion tokens: tokens/s, model TFLOP/s = 6 x active
//                parameters x tokens / s (attention's T^2 term and the
//                recomputed lm_head of the chunked log-softmax left out), and
//                MFU = model TFLOP/s / matmul TFLOP/s.
//     moe_layer  (MoE models) one MoE layer's forward on `tokens` random
//                hidden states, ms per call, with the routed experts run by
//                the host loop and by the grouped GEMM (policies/moe_dispatch.h),
//                alternated in one run; the engine's kAuto choice on this
//                device and dtype is named.
//   models: qwen2_0.5b (Qwen2.5-0.5B's shape: 24 layers, d 896, 14 heads, 2 KV
//   heads, vocab 151936) and moe_small (deepseek_v3 preset base50m: MLA, 32
//   routed experts). --quick: the tiny presets and small batches, for a
//   smoke run on a CPU (scripts/gpu-check.sh never passes it).
#include <torch/torch.h>

#include <chrono>
#include <filesystem>
#include <iostream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/device.h"
#include "learner/grpo_trainer.h"
#include "core/torch_compat.h"
#include "policies/causal_lm.h"
#include "policies/model_layers.h"
#include "policies/moe_dispatch.h"
#include "policies/placement.h"
#include "rollout/engine.h"
#include "rollout/from_config.h"

namespace {

using namespace grpo;
using json = nlohmann::json;
using Clock = std::chrono::steady_clock;

struct Options {
  std::string work;
  std::string device = "cuda";
  std::string dtype = "bfloat16";
  bool quick = false;
};

struct BenchModel {
  std::string name;
  policies::ModelConfig config;
};

policies::ModelConfig qwen2_0_5b() {
  policies::ModelConfig c = policies::ModelConfig::preset("qwen2", "base50m");
  c.vocab_size = 151936;
  c.hidden_size = 896;
  c.num_hidden_layers = 24;
  c.num_attention_heads = 14;
  c.num_key_value_heads = 2;
  c.head_dim = 64;
  c.intermediate_size = 4864;
  c.max_position_embeddings = 32768;
  c.validate("gpu_figures qwen2_0.5b");
  return c;
}

std::vector<BenchModel> models(bool quick) {
  if (quick) return {{"qwen2_tiny", policies::ModelConfig::preset("qwen2", "tiny")},
                     {"moe_tiny", policies::ModelConfig::preset("deepseek_v3", "tiny")}};
  return {{"qwen2_0.5b", qwen2_0_5b()}, {"moe_small", policies::ModelConfig::preset("deepseek_v3", "base50m")}};
}

void sync(const torch::Device& device) {
  if (device.is_cuda()) torch::cuda::synchronize();
}

double seconds_since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

double matmul_tflops(const torch::Device& device, torch::ScalarType dtype, bool quick) {
  const int64_t n = quick ? 512 : 8192;
  const int iters = quick ? 3 : 20;
  torch::NoGradGuard no_grad;
  auto opts = torch::TensorOptions().device(device).dtype(dtype);
  auto a = torch::randn({n, n}, opts), b = torch::randn({n, n}, opts), c = torch::empty({n, n}, opts);
  for (int i = 0; i < 3; ++i) torch::mm_out(c, a, b);  // warm-up: kernel choice, clocks
  sync(device);
  auto t0 = Clock::now();
  for (int i = 0; i < iters; ++i) torch::mm_out(c, a, b);
  sync(device);
  return 2.0 * n * n * n * iters / seconds_since(t0) / 1e12;
}

// The model of DIR/<name>, created (random, seed 1) and saved there first if missing.
std::shared_ptr<policies::CausalLM> load_or_create(const BenchModel& m, const Options& o, const torch::Device& device,
                                                   torch::ScalarType dtype) {
  const std::string dir = o.work + "/" + m.name;
  if (!std::filesystem::exists(dir + "/config.json")) {
    policies::SaveOptions save;
    save.dtype = dtype;
    policies::CausalLM::create(m.config, /*seed=*/1)->save_hf(dir, save);
  }
  policies::LoadOptions load;
  load.device = device;
  load.dtype = dtype;
  return policies::CausalLM::load(dir, load);
}

json decode(std::shared_ptr<policies::CausalLM> model, int64_t batch, int new_tokens, rollout::DecodeMode mode) {
  rollout::GroupRequest r;
  for (int i = 0; i < 16; ++i) r.prompt_ids.push_back((i * 7919 + 13) % model->config().vocab_size);
  r.n = static_cast<int>(batch);
  r.params.temperature = 1.0;
  r.params.max_new_tokens = new_tokens;
  const std::string name = rollout::decode_mode_name(mode);
  rollout::Engine engine(model, {/*max_slots=*/batch, /*kv_budget_tokens=*/batch * (16 + new_tokens), mode});
  try {
    engine.generate({r});  // warm-up: allocator, kernels; static modes keep its cache and graphs for the timed call
  } catch (const std::exception& e) {  // e.g. CUDA graphs of an MoE on the host loop
    return {{"batch", batch}, {"new", new_tokens}, {"mode", name}, {"error", e.what()}};
  }
  auto t0 = Clock::now();
  auto out = engine.generate({r});
  const double s = seconds_since(t0);
  int64_t generated = 0;
  for (const auto& c : out[0].completions) generated += static_cast<int64_t>(c.ids.size());
  return {{"batch", batch}, {"new", new_tokens}, {"mode", name}, {"seconds", s}, {"tok_per_s", generated / s}};
}

json train(std::shared_ptr<policies::CausalLM> model, int64_t rows, double matmul, const torch::Device& device) {
  const int64_t prompt = 64, completion = 448;
  std::vector<learner::TrainSequence> batch;
  auto gen = at::make_generator<at::CPUGeneratorImpl>(3);
  for (int64_t i = 0; i < rows; ++i) {
    learner::TrainSequence s;
    torch::Tensor t = torch::randint(2, model->config().vocab_size, {prompt + completion}, gen, torch::kLong);
    s.tokens.assign(t.data_ptr<int64_t>(), t.data_ptr<int64_t>() + t.numel());
    s.prompt_len = prompt;
    s.advantage = i % 2 == 0 ? 1.0 : -1.0;
    batch.push_back(std::move(s));
  }
  learner::LearnerConfig lc;
  lc.micro_batch_tokens = 8 * (prompt + completion);
  model->train();
  learner::GrpoTrainer trainer(learner::TrainablePolicy::from_causal_lm(model, 1.0), lc, 0, completion);
  trainer.train_on_generation(batch);  // warm-up
  sync(device);
  const int steps = 3;
  auto t0 = Clock::now();
  for (int i = 0; i < steps; ++i) trainer.train_on_generation(batch);
  sync(device);
  const double s = seconds_since(t0) / steps;
  const double tokens = static_cast<double>(rows * (prompt + completion - 1));
  const double model_tflops = 6.0 * static_cast<double>(model->config().active_parameters_per_token()) * tokens / s / 1e12;
  return {{"rows", rows}, {"tokens_per_step", tokens}, {"seconds_per_step", s}, {"tokens_per_s", tokens / s},
          {"model_tflops", model_tflops}, {"mfu", model_tflops / matmul}};
}

// One MoE layer of `model` (the first), host loop vs grouped GEMM, ms per forward.
json moe_layer(policies::CausalLM& model, int64_t tokens, const torch::Device& device, torch::ScalarType dtype) {
  using policies::detail::MoeDispatch;
  std::shared_ptr<policies::detail::MoEImpl> moe;
  for (const auto& m : model.modules())
    if (auto p = std::dynamic_pointer_cast<policies::detail::MoEImpl>(m); p && !moe) moe = p;
  const auto& c = model.config();
  model.eval();
  torch::Tensor x = torch::randn({1, tokens, c.hidden_size}, torch::TensorOptions().device(device).dtype(dtype));
  auto ms = [&](MoeDispatch d, int iters) {
    moe->dispatch = d;
    policies::detail::ForwardContext ctx;
    sync(device);
    auto t0 = Clock::now();
    for (int i = 0; i < iters; ++i) moe->forward(x, ctx);
    sync(device);
    return seconds_since(t0) * 1e3 / iters;
  };
  const MoeDispatch chosen = policies::detail::resolve_moe_dispatch(
      MoeDispatch::kAuto, device.is_cuda(), dtype, policies::detail::cuda_compute_major(device), c.hidden_size, c.moe_intermediate_size);
  json r = {{"tokens", tokens}, {"auto", chosen == MoeDispatch::kGrouped ? "grouped" : "host_loop"}};
  if (!GRPO_HAS_GROUPED_MM) return r;
  ms(MoeDispatch::kHostLoop, 2);  // warm-up
  ms(MoeDispatch::kGrouped, 2);
  double loop = 0, grouped = 0;
  for (int round = 0; round < 3; ++round) {  // alternated, so that clocks and load affect both alike
    loop += ms(MoeDispatch::kHostLoop, 10);
    grouped += ms(MoeDispatch::kGrouped, 10);
  }
  moe->dispatch = MoeDispatch::kAuto;
  r["host_loop_ms"] = loop / 3;
  r["grouped_ms"] = grouped / 3;
  r["host_loop_over_grouped"] = loop / grouped;
  return r;
}

Options parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) throw std::runtime_error(a + " needs a value");
      return argv[++i];
    };
    if (a == "--work") o.work = value();
    else if (a == "--device") o.device = value();
    else if (a == "--dtype") o.dtype = value();
    else if (a == "--quick") o.quick = true;
    else throw std::runtime_error("unknown argument " + a + " (usage: gpu_figures --work DIR [--device cuda] [--dtype bfloat16] [--quick])");
  }
  if (o.work.empty()) throw std::runtime_error("--work DIR is required");
  return o;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    Options o = parse(argc, argv);
    const torch::Device device = device_from_config(o.device, "--device");
    const torch::ScalarType dtype = policies::dtype_from_name(o.dtype);
    json out = {{"device", o.device}, {"dtype", o.dtype}};
    const double matmul = matmul_tflops(device, dtype, o.quick);
    out["matmul_tflops"] = matmul;
    for (const BenchModel& m : models(o.quick)) {
      auto model = load_or_create(m, o, device, dtype);
      json r = {{"name", m.name}, {"checkpoint", o.work + "/" + m.name},
                {"active_params", model->config().active_parameters_per_token()}, {"total_params", model->config().total_parameters()}};
      torch::NoGradGuard no_grad;
      for (auto [batch, new_tokens] : o.quick ? std::vector<std::pair<int64_t, int>>{{4, 8}}
                                              : std::vector<std::pair<int64_t, int>>{{64, 256}, {256, 256}})
        for (auto mode : {rollout::DecodeMode::kEager, device.is_cuda() ? rollout::DecodeMode::kCudaGraphs : rollout::DecodeMode::kStatic})
          r["decode"].push_back(decode(model, batch, new_tokens, mode));
      if (model->config().n_routed_experts > 0)
        for (int64_t tokens : o.quick ? std::vector<int64_t>{4, 64} : std::vector<int64_t>{64, 256, 8192})
          r["moe_layer"].push_back(moe_layer(*model, tokens, device, dtype));
      {
        torch::AutoGradMode grad(true);
        r["train"] = train(model, o.quick ? 2 : 32, matmul, device);
      }
      out["models"].push_back(r);
    }
    std::cout << out.dump(2) << std::endl;
    return 0;
  } catch (const std::exception& e) {
    std::cerr << "gpu_figures: " << e.what() << std::endl;
    return 1;
  }
}
