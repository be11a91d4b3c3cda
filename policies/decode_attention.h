// decode_attention.h: GQA attention of one new token per row over the KV
// cache on the CPU (fp32), reading every row's keys and values in place in
// its own slot, each row over its own length.
//
// Why: at decode SDPA gets q [B, KV, G, hd] against the cache; its CPU kernel
// runs one MKL GEMM per (row, kv head) of only G query rows, and MKL copies
// (packs) the key block before every one of them: perf of a 50M-model decode
// at batch 64 showed ~11% of the step in those copies. Rows of unequal length
// needed a [B, 1, 1, Tk] mask, rows whose slots are not consecutive
// (continuous batching) a gathered copy of their cache every layer, and the
// new key and value two index_put_ calls. Here each (row, kv head) writes its
// new key and value and reads its keys once for its G query heads, with
// plain loops; the softmax is ATen's.
//
// Numerics: fp32 throughout, scores max-subtracted (ATen's softmax); differs
// from SDPA by float rounding (~1e-7).
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <vector>

namespace grpo::policies::detail {

// Appends each row's new key and value at position starts[b] of cache slot
// slots[b] (kv head h / G serves query head h: HF repeat_kv order), then
// returns softmax(q Kᵀ · scale) V per row b and query head h over that slot's
// keys [0, starts[b]]. q [B, H, hd]; k_new, v_new [B, KV, hd] (each row's
// heads contiguous, rows may be apart: views into one q/k/v product are
// read in place); k_cache, v_cache [slots, KV, max_len, hd] contiguous; CPU
// fp32; one row per slot. With cos and sin ([B, hd / 2], the row's rotary
// angles as apply_rope takes them) q and the new key are rotated first, as
// apply_rope would (the key is cached rotated). Returns [B, H, hd].
torch::Tensor decode_attention(const torch::Tensor& q, const torch::Tensor& k_new, const torch::Tensor& v_new, torch::Tensor& k_cache,
                               torch::Tensor& v_cache, const std::vector<int64_t>& slots, const std::vector<int64_t>& starts,
                               double scale, const torch::Tensor& cos = {}, const torch::Tensor& sin = {});

// Whether decode_attention takes these tensors (CPU, fp32, contiguous cache).
bool decode_attention_applies(const torch::Tensor& q, const torch::Tensor& k_cache, const torch::Tensor& v_cache);

// One decode_attention over raw pointers, for callers that run its items
// inside their own parallel region (cpu_decode_step.h); decode_attention()
// checks its tensors and builds one.
struct DecodeAttentionCall {
  const float* q;      // [B, H, hd], rows q_row floats apart
  const float* k_new;  // [B, KV, hd], rows k_row apart
  const float* v_new;  // [B, KV, hd], rows v_row apart
  float* k;            // the caches [slots, KV, max_len, hd]
  float* v;
  float* out;          // [B, H, hd] contiguous
  const float* cos;    // [B, hd / 2] or null: no rotation
  const float* sin;
  const int64_t* slots;
  const int64_t* lens;  // keys per row, the new one included (decode_attention_lengths)
  int64_t heads, kv_heads, max_len, head_dim, q_row, k_row, v_row;
  float scale;
};

// Each row's key count after the append (starts + 1), having checked that
// every slot is in a cache of `cache_slots` slots of `max_len` positions, is
// given to one row only, and has room for the new key; throws grpo::Error otherwise.
std::vector<int64_t> decode_attention_lengths(const std::vector<int64_t>& slots, const std::vector<int64_t>& starts,
                                              int64_t cache_slots, int64_t max_len);

// Items [begin, end) of the call's B·KV (row, kv head) items.
void decode_attention_items(const DecodeAttentionCall& call, int64_t begin, int64_t end);

}  // namespace grpo::policies::detail
