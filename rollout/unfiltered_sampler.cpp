// unfiltered_sampler.cpp: per row, pass 1 finds the max (and the argmax of a
// greedy row), pass 2 sums exp(y - max) per block of 64; the draw then walks
// the block sums and recomputes the weights of the one block it lands in.
#include "rollout/unfiltered_sampler.h"

#include <ATen/Parallel.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <optional>
#include <tuple>

#if defined(__x86_64__)
#include <immintrin.h>
#endif

#include "core/cpu_exp.h"
#include "core/error.h"

namespace grpo::rollout::detail {

namespace {

constexpr int64_t kSamplerBlock = 64;  // weights per block sum: 8 AVX2 registers

#if defined(__x86_64__)
// One row: y = x / t (t = 1: y = x), padded with -inf to whole blocks when
// read through sampler_block_y.
struct SamplerRow {
  const float* x;
  int64_t v;
  float t;
};

// y of the block starting at j into out[64], -inf past the end of the row.
__attribute__((target("avx2,fma"))) void sampler_block_y(const SamplerRow& r, int64_t j, float* out) {
  const int64_t n = std::min(kSamplerBlock, r.v - j);
  const __m256 t = _mm256_set1_ps(r.t);
  if (n == kSamplerBlock) {
    for (int64_t i = 0; i < kSamplerBlock; i += 8) _mm256_storeu_ps(out + i, _mm256_div_ps(_mm256_loadu_ps(r.x + j + i), t));
    return;
  }
  for (int64_t i = 0; i < n; ++i) out[i] = r.x[j + i] / r.t;
  std::fill(out + n, out + kSamplerBlock, -std::numeric_limits<float>::infinity());
}

// Token and log-prob of one row, or token -1 when its logits are not all
// finite-or--inf (NaN or +inf: the caller leaves those to the general path);
// blocks: scratch, one float64 per block.
__attribute__((target("avx2,fma"))) std::pair<int64_t, float> sample_row_avx2(const SamplerRow& r, bool greedy, double u,
                                                                                std::vector<double>& blocks) {
  alignas(32) float y[kSamplerBlock];
  const int64_t nblocks = static_cast<int64_t>(blocks.size());
  __m256 mv = _mm256_set1_ps(-std::numeric_limits<float>::infinity());
  for (int64_t b = 0; b < nblocks; ++b) {
    sampler_block_y(r, b * kSamplerBlock, y);
    for (int64_t i = 0; i < kSamplerBlock; i += 8) mv = _mm256_max_ps(mv, _mm256_loadu_ps(y + i));
  }
  alignas(32) float lanes[8];
  _mm256_store_ps(lanes, mv);
  const float max = *std::max_element(lanes, lanes + 8);
  double total = 0;
  alignas(32) float e[kSamplerBlock];
  if (std::isfinite(max))
    for (int64_t b = 0; b < nblocks; ++b) {
      sampler_block_y(r, b * kSamplerBlock, y);
      total += blocks[b] = cpu_exp_sum(y, max, e, kSamplerBlock);
    }
  if (!(total > 0) || !std::isfinite(total)) return {-1, 0.0f};  // a NaN or +inf logit, or every logit -inf
  const double lse = static_cast<double>(max) + std::log(total);
  auto y_at = [&](int64_t j) { return r.t == 1.0f ? r.x[j] : r.x[j] / r.t; };
  int64_t token = 0;
  if (greedy) {
    while (y_at(token) != max) ++token;  // the first maximum, as argmax
  } else {
    const double target = u * total;
    double cum = 0;
    int64_t b = 0, last = 0;  // last: the last block with weight
    for (; b < nblocks; ++b) {
      if (blocks[b] > 0) last = b;
      if (cum + blocks[b] > target) break;
      cum += blocks[b];
    }
    const bool at_top = b == nblocks;  // rounding put the target at the very top: the last token with weight
    if (at_top) b = last;
    sampler_block_y(r, b * kSamplerBlock, y);
    cpu_exp_sum(y, max, e, kSamplerBlock);
    int64_t k = 0, last_with_weight = 0;
    for (int64_t i = 0; i < kSamplerBlock; ++i)
      if (e[i] > 0) last_with_weight = i;
    if (at_top) {
      k = last_with_weight;
    } else {
      while (k < kSamplerBlock && !(e[k] > 0 && (cum += e[k]) > target)) ++k;
      if (k == kSamplerBlock) k = last_with_weight;  // the block's float32 sum rounded above its float64 running sum
    }
    token = b * kSamplerBlock + k;
  }
  return {token, static_cast<float>(static_cast<double>(y_at(token)) - lse)};
}
#endif

}  // namespace

bool unfiltered_sampler_available() {
#if defined(__x86_64__)
  static const bool avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  return avx2;
#else
  return false;
#endif
}

std::optional<SampledTokens> sample_unfiltered_rows(const torch::Tensor& logits_in, const std::vector<RowSampling>& rows,
                                                    const std::vector<double>& uniforms) {
  if (!unfiltered_sampler_available()) throw Error("sample_unfiltered_rows: needs an x86-64 CPU with AVX2 and FMA");
  if (!logits_in.device().is_cpu() || logits_in.scalar_type() != torch::kFloat || logits_in.dim() != 2)
    throw Error("sample_unfiltered_rows: logits must be [N, V] float32 on the CPU");
  const torch::Tensor logits = logits_in.contiguous();
  const int64_t n = logits.size(0), v = logits.size(1);
  auto tokens = torch::empty({n}, torch::kInt64);
  auto logprobs = torch::empty({n}, torch::kFloat32);
#if defined(__x86_64__)
  int64_t* tok = tokens.data_ptr<int64_t>();
  float* lp = logprobs.data_ptr<float>();
  const float* x = logits.data_ptr<float>();
  at::parallel_for(0, n, 1, [&](int64_t begin, int64_t end) {
    std::vector<double> blocks(static_cast<size_t>((v + kSamplerBlock - 1) / kSamplerBlock));
    for (int64_t i = begin; i < end; ++i) {
      const bool greedy = rows[i].temperature <= 0;
      const SamplerRow r{x + i * v, v, greedy ? 1.0f : static_cast<float>(rows[i].temperature)};
      std::tie(tok[i], lp[i]) = sample_row_avx2(r, greedy, uniforms[i], blocks);
    }
  });
  for (int64_t i = 0; i < n; ++i)
    if (tok[i] < 0) return std::nullopt;
#endif
  return SampledTokens{tokens, logprobs};
}

}  // namespace grpo::rollout::detail
