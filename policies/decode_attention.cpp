// decode_attention.cpp: decode_attention's two passes (scores, then the
// weighted sum of values) around ATen's softmax. The loops are written once
// and compiled twice: for AVX2+FMA (chosen at run time where the CPU has
// them; the build targets baseline x86-64) and for the baseline.
#include "policies/decode_attention.h"

#include <ATen/Parallel.h>

#include <algorithm>
#include <cstring>
#include <limits>
#include <string>

#include "core/error.h"

namespace grpo::policies::detail {

namespace {

// Shapes and base pointers of one call.
struct DecodeAttentionArgs {
  const float* q;      // [B, H, hd]
  const float* k_new;  // [B, KV, hd]
  const float* v_new;
  float* k;            // [S, KV, L, hd]
  float* v;
  float* scores;   // [B, H, Tk]: the scores, then their softmax
  float* out;      // [B, H, hd]
  const int64_t* slots;
  const int64_t* lens;
  int64_t heads, kv_heads, max_len, head_dim, key_len;
  float scale;
};

constexpr int64_t kDecodeLanes = 8;  // independent partial sums: a vector register's worth of floats

// Dot product in kDecodeLanes partial sums (vectorisable without reordering
// a single sum), then the lanes and the tail.
__attribute__((always_inline)) inline float decode_dot(const float* a, const float* b, int64_t n) {
  float lane[kDecodeLanes] = {};
  int64_t i = 0;
  for (; i + kDecodeLanes <= n; i += kDecodeLanes)
    for (int64_t l = 0; l < kDecodeLanes; ++l) lane[l] += a[i + l] * b[i + l];
  float s = 0;
  for (int64_t l = 0; l < kDecodeLanes; ++l) s += lane[l];
  for (; i < n; ++i) s += a[i] * b[i];
  return s;
}

// Appends row b's new key and value at position len_b - 1 of its slot, then
// scores[b, h, j] = q[b, h] · k[slot_b, h / G, j] * scale for j < len_b, -inf after.
__attribute__((always_inline)) inline void decode_scores(const DecodeAttentionArgs& a, int64_t begin, int64_t end) {
  const int64_t G = a.heads / a.kv_heads, hd = a.head_dim;
  for (int64_t item = begin; item < end; ++item) {
    const int64_t b = item / a.kv_heads, kvh = item % a.kv_heads, n = a.lens[b];
    const int64_t base = ((a.slots[b] * a.kv_heads + kvh) * a.max_len) * hd;
    std::memcpy(a.k + base + (n - 1) * hd, a.k_new + item * hd, sizeof(float) * hd);
    std::memcpy(a.v + base + (n - 1) * hd, a.v_new + item * hd, sizeof(float) * hd);
    const float* keys = a.k + base;
    for (int64_t g = 0; g < G; ++g) {
      const int64_t h = kvh * G + g;
      const float* qh = a.q + (b * a.heads + h) * hd;
      float* s = a.scores + (b * a.heads + h) * a.key_len;
      for (int64_t j = 0; j < n; ++j) s[j] = decode_dot(qh, keys + j * hd, hd) * a.scale;
      for (int64_t j = n; j < a.key_len; ++j) s[j] = -std::numeric_limits<float>::infinity();
    }
  }
}

// out[b, h] = Σ_j p[b, h, j] v[slot_b, h / G, j]: each value row read once for the G heads.
__attribute__((always_inline)) inline void decode_values(const DecodeAttentionArgs& a, int64_t begin, int64_t end) {
  const int64_t G = a.heads / a.kv_heads, hd = a.head_dim;
  for (int64_t item = begin; item < end; ++item) {
    const int64_t b = item / a.kv_heads, kvh = item % a.kv_heads, n = a.lens[b];
    const float* values = a.v + ((a.slots[b] * a.kv_heads + kvh) * a.max_len) * hd;
    float* o = a.out + (b * a.heads + kvh * G) * hd;  // the G heads' outputs are adjacent
    const float* p = a.scores + (b * a.heads + kvh * G) * a.key_len;
    for (int64_t x = 0; x < G * hd; ++x) o[x] = 0;
    for (int64_t j = 0; j < n; ++j) {
      const float* vj = values + j * hd;
      for (int64_t g = 0; g < G; ++g) {
        const float w = p[g * a.key_len + j];
        float* og = o + g * hd;
        for (int64_t x = 0; x < hd; ++x) og[x] += w * vj[x];
      }
    }
  }
}

void decode_scores_baseline(const DecodeAttentionArgs& a, int64_t begin, int64_t end) { decode_scores(a, begin, end); }
void decode_values_baseline(const DecodeAttentionArgs& a, int64_t begin, int64_t end) { decode_values(a, begin, end); }

#if defined(__x86_64__)
__attribute__((target("avx2,fma"))) void decode_scores_avx2(const DecodeAttentionArgs& a, int64_t begin, int64_t end) {
  decode_scores(a, begin, end);
}
__attribute__((target("avx2,fma"))) void decode_values_avx2(const DecodeAttentionArgs& a, int64_t begin, int64_t end) {
  decode_values(a, begin, end);
}
#endif

// The two passes for this CPU.
struct DecodePasses {
  void (*scores)(const DecodeAttentionArgs&, int64_t, int64_t);
  void (*values)(const DecodeAttentionArgs&, int64_t, int64_t);
};

DecodePasses decode_passes() {
#if defined(__x86_64__)
  static const bool avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  if (avx2) return {decode_scores_avx2, decode_values_avx2};
#endif
  return {decode_scores_baseline, decode_values_baseline};
}

}  // namespace

bool decode_attention_applies(const torch::Tensor& q, const torch::Tensor& k_cache, const torch::Tensor& v_cache) {
  for (const torch::Tensor* t : {&q, &k_cache, &v_cache})
    if (!t->device().is_cpu() || t->scalar_type() != torch::kFloat) return false;
  return k_cache.is_contiguous() && v_cache.is_contiguous();
}

torch::Tensor decode_attention(const torch::Tensor& q_in, const torch::Tensor& k_in, const torch::Tensor& v_in, torch::Tensor& k_cache,
                               torch::Tensor& v_cache, const std::vector<int64_t>& slots, const std::vector<int64_t>& starts,
                               double scale) {
  if (!decode_attention_applies(q_in, k_cache, v_cache) || k_in.scalar_type() != torch::kFloat || v_in.scalar_type() != torch::kFloat)
    throw Error("decode_attention: needs CPU fp32 tensors and a contiguous cache");
  const torch::Tensor q = q_in.contiguous(), k_new = k_in.contiguous(), v_new = v_in.contiguous();
  if (q.dim() != 3 || k_cache.dim() != 4 || k_cache.sizes() != v_cache.sizes())
    throw Error("decode_attention: q must be [B, H, hd] and both caches [slots, KV, max_len, hd] of one shape");
  const int64_t B = q.size(0), H = q.size(1), hd = q.size(2), KV = k_cache.size(1), L = k_cache.size(2);
  const std::vector<int64_t> new_shape = {B, KV, hd};
  if (k_cache.size(3) != hd || H % KV != 0 || k_new.sizes() != new_shape || v_new.sizes() != new_shape ||
      static_cast<int64_t>(slots.size()) != B || static_cast<int64_t>(starts.size()) != B)
    throw Error("decode_attention: q [B, H, hd] = " + std::to_string(B) + "x" + std::to_string(H) + "x" + std::to_string(hd) +
                " does not fit the new keys/values [B, KV, hd], the cache [slots, KV, max_len, hd], slots and starts");
  std::vector<int64_t> lens(starts);
  std::vector<bool> taken(static_cast<size_t>(k_cache.size(0)), false);
  int64_t key_len = 1;
  for (int64_t b = 0; b < B; ++b) {
    if (slots[b] < 0 || slots[b] >= k_cache.size(0) || starts[b] < 0 || starts[b] >= L)
      throw Error("decode_attention: row " + std::to_string(b) + " appends at position " + std::to_string(starts[b]) + " of slot " +
                  std::to_string(slots[b]) + "; the cache holds " + std::to_string(k_cache.size(0)) + " slots of " + std::to_string(L));
    if (taken[slots[b]]) throw Error("decode_attention: slot " + std::to_string(slots[b]) + " is given to two rows");
    taken[slots[b]] = true;
    lens[b] += 1;
    key_len = std::max(key_len, lens[b]);
  }
  torch::Tensor scores = torch::empty({B, H, key_len}, q.options());
  torch::Tensor out = torch::empty({B, H, hd}, q.options());
  DecodeAttentionArgs a{q.data_ptr<float>(), k_new.data_ptr<float>(), v_new.data_ptr<float>(), k_cache.data_ptr<float>(),
                        v_cache.data_ptr<float>(), scores.data_ptr<float>(), out.data_ptr<float>(), slots.data(), lens.data(),
                        H, KV, L, hd, key_len, static_cast<float>(scale)};
  const DecodePasses passes = decode_passes();
  at::parallel_for(0, B * KV, 1, [&](int64_t begin, int64_t end) { passes.scores(a, begin, end); });
  torch::Tensor probs = scores.softmax(-1);
  a.scores = probs.data_ptr<float>();
  at::parallel_for(0, B * KV, 1, [&](int64_t begin, int64_t end) { passes.values(a, begin, end); });
  return out;
}

}  // namespace grpo::policies::detail
