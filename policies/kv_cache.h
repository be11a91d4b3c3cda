// kv_cache.h: the key/value cache CausalLM reads and writes in prefill and
// decode. Preallocated for `max_slots` sequences of up to `max_len` tokens per
// layer; each slot has its own length. The rollout engine owns slot bookkeeping
// (which slot holds which sequence); the model only appends to the slots named
// by the batch rows of a forward call.
//
// Layout per layer (row-major, one tensor each):
//   MLA  (absorbed form): a = c_kv  [max_slots, max_len, kv_lora_rank] (after kv_a_layernorm)
//                         b = k_pe  [max_slots, max_len, qk_rope_head_dim] (already rotated)
//   GQA  (qwen2/llama):   a = K     [max_slots, kv_heads, max_len, head_dim] (rotated)
//                         b = V     [max_slots, kv_heads, max_len, head_dim]
// Positions [0, length(slot)) of a slot are valid; later entries are garbage.
//
// Typical use by the rollout engine (G samples of one prompt):
//   KvCache cache(model.config(), /*max_slots=*/64, /*max_len=*/4096);
//   model.forward(prompt [1,P], positions, &cache, {}, {slot0});   // prefill slot0
//   for (g : 1..G-1) cache.copy_slot(slot0, slot_g, P);             // fork
//   model.forward(next [G,1], positions [G,1], &cache, {}, slots);  // decode step
//   cache.reset_slot(s);                                            // free
//
// Not thread-safe: one forward at a time per cache.
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <vector>

#include "policies/model_config.h"

namespace grpo::policies {

class KvCache {
 public:
  // Allocates num_hidden_layers (+ MTP layers when `with_mtp`) layers, zeroed.
  KvCache(const ModelConfig& config, int64_t max_slots, int64_t max_len,
          torch::Device device = torch::kCPU, torch::ScalarType dtype = torch::kFloat, bool with_mtp = false);

  int64_t max_slots() const { return max_slots_; }
  int64_t max_len() const { return max_len_; }
  int64_t num_layers() const { return static_cast<int64_t>(a_.size()); }
  bool is_mla() const { return mla_; }

  // Tokens cached in `slot`.
  int64_t length(int64_t slot) const;
  const std::vector<int64_t>& lengths() const { return lengths_; }
  // Marks `slot` empty (its storage is reused by the next sequence).
  void reset_slot(int64_t slot);
  void reset_all();
  // Shrinks a slot to `len` tokens (e.g. to drop a rejected draft); len <= length.
  void truncate_slot(int64_t slot, int64_t len);
  // Copies the first `len` cached tokens of `src` into `dst` (all layers) and
  // sets length(dst) = len. Used to fork a prefilled prompt into G slots.
  void copy_slot(int64_t src, int64_t dst, int64_t len);

  // Bytes of cache per token over all layers (both tensors), at this cache's dtype.
  int64_t bytes_per_token() const;
  // Total bytes allocated.
  int64_t allocated_bytes() const;

  // --- used by the model's attention layers ---
  torch::Tensor& a(int64_t layer) { return a_.at(layer); }
  torch::Tensor& b(int64_t layer) { return b_.at(layer); }
  // Called once per forward (after all layers wrote) with the number of valid
  // new tokens per batch row.
  void advance(const std::vector<int64_t>& slots, const std::vector<int64_t>& new_tokens);
  void check_capacity(const std::vector<int64_t>& slots, int64_t new_tokens) const;

 private:
  int64_t max_slots_;
  int64_t max_len_;
  bool mla_;
  std::vector<torch::Tensor> a_;
  std::vector<torch::Tensor> b_;
  std::vector<int64_t> lengths_;
};

}  // namespace grpo::policies
