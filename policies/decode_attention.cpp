// decode_attention.cpp: decode_attention per (row, kv head): append the new
// key and value, the G heads' scores, their softmax, the weighted sum of
// values, with the keys and values read from memory once. Two
// implementations: AVX2+FMA intrinsics (chosen at run time where the CPU has
// them and the head dim is a multiple of 16; the build targets baseline
// x86-64) and portable loops for the rest.
#include "policies/decode_attention.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <string>

#if defined(__x86_64__)
#include <immintrin.h>
#endif

#include "core/cpu_dispatch.h"
#include "core/error.h"
#include "core/parallel_for.h"

namespace grpo::policies::detail {

namespace {

// One (row, kv head): where its keys, values, queries and outputs are.
struct DecodeItem {
  const float* keys;    // [n, hd]
  const float* values;  // [n, hd]
  const float* q;       // [G, hd]: the G query heads of this kv head are adjacent
  float* out;           // [G, hd]
  int64_t n;            // keys, the new one included
};

// x rotated by one row's angles into out (apply_rope's order: the halves of
// the head dim are the pairs).
void decode_rope(const float* x, const float* c, const float* s, int64_t half, float* out) {
  for (int64_t i = 0; i < half; ++i) {
    out[i] = x[i] * c[i] - x[i + half] * s[i];
    out[i + half] = x[i + half] * c[i] + x[i] * s[i];
  }
}

// Writes item's new key (rotated) and value at position n - 1 of its slot;
// its G query heads, rotated, go to q_rot [G, hd] when there are angles.
DecodeItem decode_item(const DecodeAttentionCall& a, int64_t item, float* q_rot) {
  const int64_t b = item / a.kv_heads, kvh = item % a.kv_heads, hd = a.head_dim, G = a.heads / a.kv_heads, n = a.lens[b];
  float* k = a.k + ((a.slots[b] * a.kv_heads + kvh) * a.max_len) * hd;
  float* v = a.v + ((a.slots[b] * a.kv_heads + kvh) * a.max_len) * hd;
  const float* k_new = a.k_new + b * a.k_row + kvh * hd;
  const float* q = a.q + b * a.q_row + kvh * G * hd;
  if (a.cos) {
    const float *c = a.cos + b * hd / 2, *s = a.sin + b * hd / 2;
    decode_rope(k_new, c, s, hd / 2, k + (n - 1) * hd);
    for (int64_t g = 0; g < G; ++g) decode_rope(q + g * hd, c, s, hd / 2, q_rot + g * hd);
    q = q_rot;
  } else {
    std::memcpy(k + (n - 1) * hd, k_new, sizeof(float) * hd);
  }
  std::memcpy(v + (n - 1) * hd, a.v_new + b * a.v_row + kvh * hd, sizeof(float) * hd);
  return {k, v, q, a.out + (b * a.heads + kvh * G) * hd, n};
}

// Portable: scores, max-subtracted softmax (std::exp), weighted sum of values.
void decode_item_portable(const DecodeAttentionCall& a, int64_t item, float* p, float* q_rot) {
  const DecodeItem it = decode_item(a, item, q_rot);
  const int64_t G = a.heads / a.kv_heads, hd = a.head_dim;
  for (int64_t g = 0; g < G; ++g) {
    const float* qg = it.q + g * hd;
    float* pg = p + g * it.n;
    float max = -std::numeric_limits<float>::infinity();
    for (int64_t j = 0; j < it.n; ++j) {
      float s = 0;
      for (int64_t x = 0; x < hd; ++x) s += qg[x] * it.keys[j * hd + x];
      pg[j] = s * a.scale;
      max = std::max(max, pg[j]);
    }
    float sum = 0;
    for (int64_t j = 0; j < it.n; ++j) sum += pg[j] = std::exp(pg[j] - max);
    float* og = it.out + g * hd;
    std::fill(og, og + hd, 0.0f);
    for (int64_t j = 0; j < it.n; ++j)
      for (int64_t x = 0; x < hd; ++x) og[x] += pg[j] * it.values[j * hd + x];
    for (int64_t x = 0; x < hd; ++x) og[x] /= sum;
  }
}

#if defined(__x86_64__)
// Sum of each of 4 registers' lanes, as 4 floats.
__attribute__((target("avx2,fma"), always_inline)) inline __m128 decode_hsum4(__m256 a, __m256 b, __m256 c, __m256 d) {
  const __m256 t = _mm256_hadd_ps(_mm256_hadd_ps(a, b), _mm256_hadd_ps(c, d));
  return _mm_add_ps(_mm256_castps256_ps128(t), _mm256_extractf128_ps(t, 1));
}

constexpr int64_t kDecodePrefetchRows = 2;  // key rows fetched ahead (2: 15 GB/s, 8: 12 GB/s, none: 14 in BM_DecodeAttention)

// GN (1-4) heads' scores against keys j and j + 1 at once: 2·GN independent
// sums so that the FMA units are not waiting on one chain. p: [G, np].
template <int GN>
__attribute__((target("avx2,fma"))) void decode_scores_avx2(const DecodeItem& it, int64_t hd, float scale, float* p, int64_t np) {
  int64_t j = 0;
  for (; j + 2 <= it.n; j += 2) {
    const float* k0 = it.keys + j * hd;
    const float* k1 = k0 + hd;
    // The values pass reads these rows 16 floats at a time for each block of
    // the head dim, a stride the hardware does not prefetch: bring them in
    // now, while the keys stream.
    // The keys a few rows ahead too: each row is a separate short stream.
    for (int64_t x = 0; x < 2 * hd; x += 16) {
      _mm_prefetch(reinterpret_cast<const char*>(it.values + j * hd + x), _MM_HINT_T0);
      _mm_prefetch(reinterpret_cast<const char*>(k0 + kDecodePrefetchRows * hd + x), _MM_HINT_T0);
    }
    __m256 acc0[4], acc1[4];
    for (int g = 0; g < 4; ++g) acc0[g] = acc1[g] = _mm256_setzero_ps();
    for (int64_t x = 0; x < hd; x += 8) {
      const __m256 a = _mm256_loadu_ps(k0 + x), b = _mm256_loadu_ps(k1 + x);
      for (int g = 0; g < GN; ++g) {
        const __m256 qv = _mm256_loadu_ps(it.q + g * hd + x);
        acc0[g] = _mm256_fmadd_ps(qv, a, acc0[g]);
        acc1[g] = _mm256_fmadd_ps(qv, b, acc1[g]);
      }
    }
    alignas(16) float s0[4], s1[4];
    _mm_store_ps(s0, decode_hsum4(acc0[0], acc0[1], acc0[2], acc0[3]));
    _mm_store_ps(s1, decode_hsum4(acc1[0], acc1[1], acc1[2], acc1[3]));
    for (int g = 0; g < GN; ++g) {
      p[g * np + j] = s0[g] * scale;
      p[g * np + j + 1] = s1[g] * scale;
    }
  }
  if (j < it.n) {
    const float* k0 = it.keys + j * hd;
    __m256 acc[4];
    for (int g = 0; g < 4; ++g) acc[g] = _mm256_setzero_ps();
    for (int64_t x = 0; x < hd; x += 8) {
      const __m256 a = _mm256_loadu_ps(k0 + x);
      for (int g = 0; g < GN; ++g) acc[g] = _mm256_fmadd_ps(_mm256_loadu_ps(it.q + g * hd + x), a, acc[g]);
    }
    alignas(16) float s[4];
    _mm_store_ps(s, decode_hsum4(acc[0], acc[1], acc[2], acc[3]));
    for (int g = 0; g < GN; ++g) p[g * np + j] = s[g] * scale;
  }
}

// p[0, n) <- exp(p - max) (max-subtracted softmax numerator); returns its sum.
// p has room for n rounded up to 8; the lanes past n become 0 (padded with -inf).
__attribute__((target("avx2,fma"))) float decode_softmax_numerator_avx2(float* p, int64_t n) {
  const float inf = std::numeric_limits<float>::infinity();
  const int64_t np = (n + 7) / 8 * 8;
  std::fill(p + n, p + np, -inf);
  __m256 m = _mm256_set1_ps(-inf);
  for (int64_t j = 0; j < np; j += 8) m = _mm256_max_ps(m, _mm256_loadu_ps(p + j));
  alignas(32) float lanes[8];
  _mm256_store_ps(lanes, m);
  return cpu_exp_sum(p, *std::max_element(lanes, lanes + 8), p, np);  // 0 in the padded lanes (exp(-inf))
}

// out[g] = Σ_j p[g, j] v[j] / sums[g] for GN heads, 16 floats of the head dim
// at a time (2·GN independent sums); each value row is read once per block
// for all GN heads.
template <int GN>
__attribute__((target("avx2,fma"))) void decode_values_avx2(const DecodeItem& it, int64_t hd, const float* p, int64_t np,
                                                            const float* sums, float* out) {
  for (int64_t x = 0; x < hd; x += 16) {
    __m256 lo[4], hi[4];
    for (int g = 0; g < 4; ++g) lo[g] = hi[g] = _mm256_setzero_ps();
    for (int64_t j = 0; j < it.n; ++j) {
      const float* vj = it.values + j * hd + x;
      const __m256 a = _mm256_loadu_ps(vj), b = _mm256_loadu_ps(vj + 8);
      for (int g = 0; g < GN; ++g) {
        const __m256 w = _mm256_broadcast_ss(p + g * np + j);
        lo[g] = _mm256_fmadd_ps(w, a, lo[g]);
        hi[g] = _mm256_fmadd_ps(w, b, hi[g]);
      }
    }
    for (int g = 0; g < GN; ++g) {
      const __m256 inv = _mm256_set1_ps(1.0f / sums[g]);
      _mm256_storeu_ps(out + g * hd + x, _mm256_mul_ps(lo[g], inv));
      _mm256_storeu_ps(out + g * hd + x + 8, _mm256_mul_ps(hi[g], inv));
    }
  }
}

template <int GN>
__attribute__((target("avx2,fma"))) void decode_heads_avx2(const DecodeItem& it, int64_t hd, float scale, float* p, int64_t np) {
  decode_scores_avx2<GN>(it, hd, scale, p, np);
  float sums[4];
  for (int g = 0; g < GN; ++g) sums[g] = decode_softmax_numerator_avx2(p + g * np, it.n);
  decode_values_avx2<GN>(it, hd, p, np, sums, it.out);
}

// The item's G heads in groups of up to 4. p: [4, np] with np >= n rounded up to 8.
__attribute__((target("avx2,fma"))) void decode_item_avx2(const DecodeAttentionCall& a, int64_t item, float* p, float* q_rot) {
  const DecodeItem it = decode_item(a, item, q_rot);
  const int64_t G = a.heads / a.kv_heads, hd = a.head_dim, np = (it.n + 7) / 8 * 8;
  for (int64_t g0 = 0; g0 < G; g0 += 4) {
    const DecodeItem heads{it.keys, it.values, it.q + g0 * hd, it.out + g0 * hd, it.n};
    switch (std::min<int64_t>(4, G - g0)) {
      case 1: decode_heads_avx2<1>(heads, hd, a.scale, p, np); break;
      case 2: decode_heads_avx2<2>(heads, hd, a.scale, p, np); break;
      case 3: decode_heads_avx2<3>(heads, hd, a.scale, p, np); break;
      default: decode_heads_avx2<4>(heads, hd, a.scale, p, np); break;
    }
  }
}
#endif

// The implementation for this CPU and head dim, and the floats of scratch it needs per item.
struct DecodeKernel {
  void (*run)(const DecodeAttentionCall&, int64_t, float* scores, float* q_rot);
  int64_t scratch_heads;
};

DecodeKernel decode_kernel(int64_t heads_per_kv, int64_t head_dim) {
#if defined(__x86_64__)
  if (cpu_has_avx2_fma() && head_dim % 16 == 0) return {decode_item_avx2, 4};
#endif
  return {decode_item_portable, heads_per_kv};
}

// t itself when each row's [heads, hd] is contiguous (a row stride of its own is fine), else a contiguous copy.
torch::Tensor decode_rows(const torch::Tensor& t) {
  return t.dim() == 3 && t.stride(2) == 1 && t.stride(1) == t.size(2) ? t : t.contiguous();
}

}  // namespace

std::vector<int64_t> decode_attention_lengths(const std::vector<int64_t>& slots, const std::vector<int64_t>& starts,
                                              int64_t cache_slots, int64_t max_len) {
  if (slots.size() != starts.size())
    throw Error("decode_attention: " + std::to_string(slots.size()) + " slots for " + std::to_string(starts.size()) + " starts");
  std::vector<int64_t> lens(starts);
  std::vector<bool> taken(static_cast<size_t>(std::max<int64_t>(cache_slots, 0)), false);
  for (size_t b = 0; b < slots.size(); ++b) {
    if (slots[b] < 0 || slots[b] >= cache_slots || starts[b] < 0 || starts[b] >= max_len)
      throw Error("decode_attention: row " + std::to_string(b) + " appends at position " + std::to_string(starts[b]) + " of slot " +
                  std::to_string(slots[b]) + "; the cache holds " + std::to_string(cache_slots) + " slots of " + std::to_string(max_len));
    if (taken[slots[b]]) throw Error("decode_attention: slot " + std::to_string(slots[b]) + " is given to two rows");
    taken[slots[b]] = true;
    lens[b] += 1;
  }
  return lens;
}

void decode_attention_items(const DecodeAttentionCall& call, int64_t begin, int64_t end) {
  if (begin >= end) return;
  int64_t key_len = 1;
  for (int64_t b = begin / call.kv_heads; b <= (end - 1) / call.kv_heads; ++b) key_len = std::max(key_len, call.lens[b]);
  const DecodeKernel kernel = decode_kernel(call.heads / call.kv_heads, call.head_dim);
  std::vector<float> p(static_cast<size_t>(kernel.scratch_heads * ((key_len + 7) / 8 * 8)));
  std::vector<float> q_rot(static_cast<size_t>(call.heads / call.kv_heads * call.head_dim));
  for (int64_t item = begin; item < end; ++item) kernel.run(call, item, p.data(), q_rot.data());
}

bool decode_attention_applies(const torch::Tensor& q, const torch::Tensor& k_cache, const torch::Tensor& v_cache) {
  for (const torch::Tensor* t : {&q, &k_cache, &v_cache})
    if (!t->device().is_cpu() || t->scalar_type() != torch::kFloat) return false;
  return k_cache.is_contiguous() && v_cache.is_contiguous();
}

torch::Tensor decode_attention(const torch::Tensor& q_in, const torch::Tensor& k_in, const torch::Tensor& v_in, torch::Tensor& k_cache,
                               torch::Tensor& v_cache, const std::vector<int64_t>& slots, const std::vector<int64_t>& starts,
                               double scale, const torch::Tensor& cos_in, const torch::Tensor& sin_in) {
  if (!decode_attention_applies(q_in, k_cache, v_cache) || k_in.scalar_type() != torch::kFloat || v_in.scalar_type() != torch::kFloat)
    throw Error("decode_attention: needs CPU fp32 tensors and a contiguous cache");
  const torch::Tensor q = decode_rows(q_in), k_new = decode_rows(k_in), v_new = decode_rows(v_in);
  if (q.dim() != 3 || k_cache.dim() != 4 || k_cache.sizes() != v_cache.sizes())
    throw Error("decode_attention: q must be [B, H, hd] and both caches [slots, KV, max_len, hd] of one shape");
  const int64_t B = q.size(0), H = q.size(1), hd = q.size(2), KV = k_cache.size(1), L = k_cache.size(2);
  const std::vector<int64_t> new_shape = {B, KV, hd};
  if (k_cache.size(3) != hd || H % KV != 0 || k_new.sizes() != new_shape || v_new.sizes() != new_shape ||
      static_cast<int64_t>(slots.size()) != B || static_cast<int64_t>(starts.size()) != B)
    throw Error("decode_attention: q [B, H, hd] = " + std::to_string(B) + "x" + std::to_string(H) + "x" + std::to_string(hd) +
                " does not fit the new keys/values [B, KV, hd], the cache [slots, KV, max_len, hd], slots and starts");
  torch::Tensor cos, sin;
  if (cos_in.defined() || sin_in.defined()) {
    const std::vector<int64_t> angle_shape = {B, hd / 2};
    if (!cos_in.defined() || !sin_in.defined() || hd % 2 != 0 || cos_in.sizes() != angle_shape || sin_in.sizes() != angle_shape)
      throw Error("decode_attention: cos and sin must both be [B, hd / 2] = " + std::to_string(B) + "x" + std::to_string(hd / 2));
    cos = cos_in.to(torch::kFloat).contiguous();
    sin = sin_in.to(torch::kFloat).contiguous();
  }
  const std::vector<int64_t> lens = decode_attention_lengths(slots, starts, k_cache.size(0), L);
  torch::Tensor out = torch::empty({B, H, hd}, q.options());
  const DecodeAttentionCall call{q.data_ptr<float>(), k_new.data_ptr<float>(), v_new.data_ptr<float>(), k_cache.data_ptr<float>(),
                                 v_cache.data_ptr<float>(), out.data_ptr<float>(), cos.defined() ? cos.data_ptr<float>() : nullptr,
                                 sin.defined() ? sin.data_ptr<float>() : nullptr, slots.data(), lens.data(), H, KV, L, hd,
                                 q.stride(0), k_new.stride(0), v_new.stride(0), static_cast<float>(scale)};
  grpo::parallel_for(0, B * KV, 1, [&](int64_t begin, int64_t end) { decode_attention_items(call, begin, end); });
  return out;
}

}  // namespace grpo::policies::detail
