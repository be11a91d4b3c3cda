// engine.h: the generation engine: turns group requests into completions
// with one model, a preallocated KV cache and continuous batching.
//
//   Engine engine(model, {.max_slots = 64, .kv_budget_tokens = 65536}, decode);
//   engine.set_weight_version(3);
//   std::vector<GroupResult> out = engine.generate({{/*id=*/1, prompt_ids, /*n=*/8, params}});
//
// How (one generate call):
//  1. Size the cache: max_len = longest prompt + max_new_tokens; slots =
//     min(max_slots, kv_budget_tokens / max_len). Memory is slots * max_len
//     tokens of KV, never more than the budget, whatever the request count.
//  2. Every free slot takes the next waiting completion (lowest slot first).
//     The first completion of a group prefills the prompt ONCE into its slot
//     and keeps the last logits; the groups starting together are prefilled in
//     one right-padded batch. The group's other completions copy that slot's
//     prompt prefix (KvCache::copy_slot) and sample their first token from the
//     same logits.
//     A finished slot that still holds the prefix of a group with unstarted
//     completions stays pinned until the last of them has forked.
//  3. One batched decode step feeds the newest token of every active
//     sequence ([B, 1], rows in slot order so that packed slots are attended
//     in place; or, with EngineOptions::decode, fixed-shape steps over slot
//     buckets, replayed from CUDA graphs: rollout/decode_graph.h); the
//     sampler picks each row's next token.
//  4. Finished sequences (stop token, stop string, length) free their slot,
//     which is refilled at once (step 2) before the next decode step.
//
// The model is borrowed (shared_ptr because LibTorch modules are held that
// way); weights may change between generate calls (set_weight_version tells
// which) by copies into the parameters (apply_weights): in the static modes
// the cache, its decoder and CUDA graphs are kept for the next call with the
// same slot count and no longer sequences, and the graphs read the
// parameters' storage in place. Not thread-safe: one generate at a time.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "rollout/generation_types.h"
#include "rollout/stop_criteria.h"

namespace grpo::policies {
class CausalLM;
}

namespace grpo::rollout {

// How the engine runs a decode step (rollout/decode_graph.h).
enum class DecodeMode {
  kEager,       // CausalLM::forward over the active rows (shapes follow the batch and lengths)
  kStatic,      // fixed shapes per slot bucket, run eagerly (the CPU twin of kCudaGraphs)
  kCudaGraphs,  // fixed shapes per slot bucket, captured in CUDA graphs and replayed (CUDA models)
};

struct EngineOptions {
  // Most sequences decoded together (the decode batch). Default 64.
  int64_t max_slots = 64;
  // Tokens of KV cache (over all slots) one generate call may allocate; bounds memory.
  int64_t kv_budget_tokens = 65536;
  // Eager by default: the CUDA graph path has not run on a GPU yet (docs/gpu.md).
  DecodeMode decode = DecodeMode::kEager;
  // Linear weights of at least this many elements multiply through oneDNN on
  // the CPU in fp32 (CausalLM::set_onednn_linear: faster decode GEMMs, on the
  // parameters themselves, no copy); < 0: ATen's linear everywhere. Smaller
  // products gain nothing, and oneDNN creates a primitive per new row count
  // (the tiny MoE preset ran slower with every weight through it).
  int64_t onednn_min_weight_elements = 65536;
};

// Counters over the engine's life, for tests and metrics.
struct EngineStats {
  int64_t prefills = 0;           // prompts prefilled (one per group)
  int64_t prefill_forwards = 0;   // batched prefill forward calls (groups starting together share one)
  int64_t prefill_tokens = 0;
  int64_t prefix_forks = 0;       // completions started from a copied prefix
  int64_t decode_steps = 0;       // batched forward calls of decode
  int64_t decode_tokens = 0;      // tokens produced by decode steps (= sum of batch sizes)
  int64_t slot_refills = 0;       // slots reused for a new completion within a generate call
  int64_t max_active = 0;         // largest decode batch seen
  int64_t cache_slots = 0;        // slots of the last cache allocated
  int64_t cache_max_len = 0;      // tokens per slot of the last cache
  int64_t decode_graphs = 0;      // CUDA graphs captured (DecodeMode::kCudaGraphs: one per bucket, kept across calls with the cache)
  int64_t cache_reuses = 0;       // generate calls that reused the previous call's cache and decoder (static modes)
};

class Engine {
 public:
  // decode turns ids into text (needed for stop strings and Completion::text); may be empty.
  Engine(std::shared_ptr<policies::CausalLM> model, EngineOptions options, DecodeFn decode = {});
  ~Engine();

  // Completes every request; results in request order. Throws grpo::Error for
  // an invalid request (empty prompt, bad params, longer than the budget).
  // `hooks.on_progress` sees every kept token and every finished completion as
  // it happens (streaming); `hooks.on_group_done` gets (index into requests,
  // result) the moment a group's last completion ends, so that a caller can
  // start scoring it while the other groups still decode.
  std::vector<GroupResult> generate(const std::vector<GroupRequest>& requests, const GenerateHooks& hooks = {});

  void set_weight_version(int64_t version) { weight_version_ = version; }
  int64_t weight_version() const { return weight_version_; }
  const EngineStats& stats() const { return stats_; }
  policies::CausalLM& model() { return *model_; }

 private:
  std::shared_ptr<policies::CausalLM> model_;
  EngineOptions options_;
  DecodeFn decode_;
  int64_t weight_version_ = -1;
  EngineStats stats_;
  struct DecodeState;
  std::unique_ptr<DecodeState> kept_;  // static modes: the last call's cache and decoder
};

}  // namespace grpo::rollout
