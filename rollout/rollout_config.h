// rollout_config.h: the `rollout` section of a recipe: how completions are
// sampled and by how many workers.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace grpo::rollout {

// Sampling and worker settings (TRL GRPOConfig defaults where it has them).
struct RolloutConfig {
  // --- what is sampled
  int num_generations = 8;
  int max_new_tokens = 256;
  double temperature = 1.0;
  double top_p = 1.0;
  int top_k = 0;
  double min_p = 0.0;
  std::vector<std::string> stop_strings;
  bool include_stop_string = false;
  // --- who samples it
  int workers = 1;
  int64_t kv_budget_tokens = 65536;
  int max_slots = 64;
  std::string bind = "tcp://127.0.0.1:*";
  double heartbeat_timeout_s = 30.0;
  std::string curve_server_key_file;
  std::vector<std::string> curve_authorized_keys;
  std::string weight_wire_dtype = "model";
  std::string weight_sync = "zmq";
  // --- where worker processes generate ("model": as model.device / model.dtype)
  std::string device = "model";
  std::string dtype = "model";
  std::string decode = "eager";
  // --- how generation, scoring and learning overlap (`grpo train`)
  std::string mode = "sync";
  int max_staleness = 1;
  bool overlap_rewards = true;
  // --- DAPO dynamic sampling (`grpo train`)
  bool dynamic_sampling = false;
  int max_generation_rounds = 3;

  // The device / dtype worker processes use, given the model's ("model" resolved).
  std::string device_for(const std::string& model_device) const { return device == "model" ? model_device : device; }
  std::string dtype_for(const std::string& model_dtype) const { return dtype == "model" ? model_dtype : dtype; }

  template <class V> void fields(V& v) {
    v.field("num_generations", num_generations, "Completions per prompt: the group size G of GRPO (TRL default 8).");
    v.field("max_new_tokens", max_new_tokens, "Longest completion in tokens; longer ones end with finish reason `length`.");
    v.field("temperature", temperature, "Sampling temperature; 0 is greedy. The learner divides logits by it too.");
    v.field("top_p", top_p, "Nucleus sampling: smallest set of tokens whose probability reaches top_p; 1 disables.");
    v.field("top_k", top_k, "Sample among the k most likely tokens; 0 disables.");
    v.field("min_p", min_p, "Drop tokens less likely than min_p times the most likely one; 0 disables.");
    v.field("stop_strings", stop_strings, "Strings that end a completion; cut from text and ids.");
    v.field("include_stop_string", include_stop_string, "Keep the stop string in the completion (e.g. so a format reward sees the closing tag).");
    v.field("workers", workers, "Rollout worker processes `grpo train` spawns; 0 generates in the trainer process (no weight copies).");
    v.field("kv_budget_tokens", kv_budget_tokens, "Tokens of KV cache a worker may hold at once; bounds its memory.");
    v.field("max_slots", max_slots, "Sequences a worker decodes together (its decode batch).");
    v.field("bind", bind, "Endpoint the orchestrator binds for workers (tcp://HOST:PORT, * = any port, or ipc://PATH); beyond loopback needs CURVE keys.");
    v.field("heartbeat_timeout_s", heartbeat_timeout_s, "A worker silent this long is dropped and its requests requeued.");
    v.field("curve_server_key_file", curve_server_key_file, "CURVE key file of the orchestrator (public= / secret= lines; `grpo rollout-worker --keygen FILE`).");
    v.field("curve_authorized_keys", curve_authorized_keys, "Public keys (Z85) of workers let in; empty = any worker knowing the server key.");
    v.choice("weight_wire_dtype", weight_wire_dtype, {"model", "bf16"}, "Dtype of the weights published to worker processes (workers >= 1) after each update. model: as the learner holds them. bf16: floating-point parameters sent as bf16 (half of fp32's bytes); workers convert them back to their own dtype, so they sample from the bf16-rounded weights.");
    v.choice("weight_sync", weight_sync, {"zmq", "shared"}, "How worker processes receive each weights version. zmq: checksummed chunks over the ZeroMQ socket (any machine). shared: workers on the learner's machine read it from one shared staging buffer (POSIX shared memory for a CPU policy, CUDA IPC device memory for a CUDA one) after a version message over ZeroMQ; workers on other machines, or that cannot open the buffer, still get chunks (docs/gpu.md).");
    v.field("device", device, "Device of the rollout worker processes (workers >= 1): model (= model.device), cpu, cuda (= cuda:0) or cuda:N; checked at startup. With workers = 0 generation runs on the policy itself, on model.device.");
    v.choice("dtype", dtype, {"model", "float32", "bfloat16", "float16"}, "Dtype of the rollout worker processes' weights: model (= model.dtype), float32, bfloat16 or float16. Workers convert each received version to it.");
    v.choice("decode", decode, {"eager", "static", "cuda_graphs"}, "Decode step of the rollout engine (workers and in-process): eager (shapes follow the batch), static (fixed shapes per slot bucket, run eagerly; the CPU twin of cuda_graphs) or cuda_graphs (the static steps captured in CUDA graphs and replayed; needs a CUDA rollout device). docs/gpu.md.");
    v.choice("mode", mode, {"sync", "async"}, "sync: each batch is generated with the newest weights (on-policy). async: the next batches are generated while the learner updates, with weights at most max_staleness versions old (needs learner.is_correction).");
    v.field("max_staleness", max_staleness, "async: how many versions behind the learner a sample may be; batches run this many steps ahead, and older groups are dropped and counted. 0 = no look-ahead.");
    v.field("overlap_rewards", overlap_rewards, "Score each group the moment its generation ends, while other groups still generate (same scores as scoring the batch at the end).");
    v.field("dynamic_sampling", dynamic_sampling, "DAPO dynamic sampling: drop groups whose rewards are all equal (no advantage signal) and generate more prompts to refill the batch.");
    v.field("max_generation_rounds", max_generation_rounds, "dynamic_sampling: extra generation rounds a step may spend refilling its batch; after them it trains on the groups it has.");
    v.check(num_generations >= 2, "num_generations", "must be >= 2: group-relative advantages need at least two completions");
    v.check(max_new_tokens >= 1, "max_new_tokens", "must be >= 1");
    v.check(temperature >= 0, "temperature", "must be >= 0 (0 = greedy)");
    v.check(top_p > 0 && top_p <= 1, "top_p", "must be in (0, 1]");
    v.check(top_k >= 0, "top_k", "must be >= 0 (0 = off)");
    v.check(min_p >= 0 && min_p < 1, "min_p", "must be in [0, 1)");
    v.check(device == "model" || device == "cpu" || device.rfind("cuda", 0) == 0, "device", "must be model, cpu, cuda or cuda:N");
    v.check(workers >= 0, "workers", "must be >= 0 (0 = generate in the trainer process)");
    v.check(max_staleness >= 0, "max_staleness", "must be >= 0");
    v.check(max_generation_rounds >= 0, "max_generation_rounds", "must be >= 0 (0 = drop without refilling)");
    v.check(kv_budget_tokens >= max_new_tokens, "kv_budget_tokens", "must hold at least one full completion (>= max_new_tokens)");
  }
};

}  // namespace grpo::rollout
