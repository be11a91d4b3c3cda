// decode_graph.h: the rollout engine's batched decode step in fixed shapes
// (CausalLM::static_decode_logits), optionally replayed from CUDA graphs.
//
//   StaticDecoder dec(model, cache, /*cuda_graphs=*/true);
//   torch::Tensor logits = dec.step(slots, tokens, positions);  // [n, V]; advances the slots
//
// Rows of a step are cache slots 0..bucket-1, for the smallest bucket (1, 2,
// 4, ..., max_slots) above the highest active slot; the engine fills the
// lowest free slot first, so active slots stay near the bottom. Idle rows
// decode token 0 at their slot's length (clamped below max_len): that writes
// past every valid entry of a slot, which the cache contract leaves garbage.
// Per bucket the step's inputs live in fixed device buffers (refilled with
// one copy each per step) and, with cuda_graphs on a CUDA model, the step is
// captured in an at::cuda::CUDAGraph (its own memory pool) at the bucket's
// first step and replayed from then on; without, it runs eagerly on the same buffers (the CPU twin the
// tests compare with the engine's dynamic decode). The graphs read the
// weights in place, so weight updates between steps are seen; they hold the
// cache's tensors, so a StaticDecoder lives as long as one cache.
// Not thread-safe.
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <map>
#include <memory>
#include <vector>

namespace grpo::policies {
class CausalLM;
class KvCache;
}  // namespace grpo::policies

namespace grpo::rollout {

// 1, 2, 4, ... below max_slots, then max_slots.
std::vector<int64_t> decode_buckets(int64_t max_slots);
// The smallest of `buckets` (ascending) holding slots 0..highest_slot.
int64_t bucket_for(const std::vector<int64_t>& buckets, int64_t highest_slot);

// Decode steps over one KV cache in fixed shapes (see above).
class StaticDecoder {
 public:
  // cuda_graphs: capture and replay (the model must be on CUDA and its MoE
  // layers on the grouped path; throws grpo::Error naming what is missing).
  StaticDecoder(policies::CausalLM& model, policies::KvCache& cache, bool cuda_graphs);
  ~StaticDecoder();
  StaticDecoder(const StaticDecoder&) = delete;
  StaticDecoder& operator=(const StaticDecoder&) = delete;

  // Logits [n, V] fp32 for rows (slots[i], tokens[i], positions[i]), slots
  // distinct; advances each of those slots by one token.
  torch::Tensor step(const std::vector<int64_t>& slots, const std::vector<int64_t>& tokens,
                     const std::vector<int64_t>& positions);

  int64_t graphs_captured() const { return graphs_captured_; }

 private:
  struct Bucket;
  Bucket& bucket(int64_t size);

  policies::CausalLM& model_;
  policies::KvCache& cache_;
  bool cuda_graphs_;
  std::vector<int64_t> buckets_;
  std::map<int64_t, std::unique_ptr<Bucket>> by_size_;
  int64_t graphs_captured_ = 0;
};

}  // namespace grpo::rollout
