// unfiltered_sampler.cpp: per row, pass 1 finds the max (and the argmax of a
// greedy row), pass 2 sums exp(y - max) per block of 64; the draw then walks
// the block sums and recomputes the weights of the one block it lands in.
// Plain loops, built for AVX2+FMA and the baseline (core/cpu_dispatch.h).
#include "rollout/unfiltered_sampler.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <optional>

#include "core/cpu_dispatch.h"
#include "core/error.h"
#include "core/parallel_for.h"

namespace grpo::rollout::detail {

namespace {

constexpr int64_t kSamplerBlock = 64;  // weights per block sum

// One row of logits and its temperature: y = x / t (t = 1 for greedy rows; x / 1 == x).
struct SamplerRow {
  const float* x;
  int64_t v;
  float t;
};

GRPO_CPU_INLINE float sampler_y(const SamplerRow& r, int64_t j) { return r.x[j] / r.t; }

// y of the block starting at j into out[64], -inf past the end of the row.
GRPO_CPU_INLINE void sampler_block_y(const SamplerRow& r, int64_t j, float* out) {
  const int64_t n = std::min(kSamplerBlock, r.v - j);
  for (int64_t i = 0; i < n; ++i) out[i] = r.x[j + i] / r.t;
  for (int64_t i = n; i < kSamplerBlock; ++i) out[i] = -std::numeric_limits<float>::infinity();
}

// max_j y_j = max_j x_j / t (rounding is monotonic), in kCpuLanes partial maxima; NaN is skipped here
// and caught by the exp sum.
GRPO_CPU_INLINE float sampler_row_max(const SamplerRow& r) {
  float lane[kCpuLanes];
  for (float& l : lane) l = -std::numeric_limits<float>::infinity();
  int64_t i = 0;
  for (; i + kCpuLanes <= r.v; i += kCpuLanes)
    for (int64_t l = 0; l < kCpuLanes; ++l) lane[l] = r.x[i + l] > lane[l] ? r.x[i + l] : lane[l];
  float m = lane[0];
  for (float l : lane) m = l > m ? l : m;
  for (; i < r.v; ++i) m = r.x[i] > m ? r.x[i] : m;
  return m / r.t;
}

// Token and log-prob of one row, or token -1 when its logits are not all
// finite-or--inf (NaN or +inf: the caller leaves those to the general path);
// blocks: scratch, one float64 per block.
GRPO_CPU_INLINE void sample_unfiltered_row(const SamplerRow& r, bool greedy, double u, double* blocks, int64_t nblocks,
                                           int64_t* token_out, float* logprob_out) {
  alignas(32) float y[kSamplerBlock], e[kSamplerBlock];
  const float max = sampler_row_max(r);
  double total = 0;
  if (std::isfinite(max))
    for (int64_t b = 0; b < nblocks; ++b) {
      sampler_block_y(r, b * kSamplerBlock, y);
      total += blocks[b] = cpu_exp_sum(y, max, e, kSamplerBlock);
    }
  if (!(total > 0) || !std::isfinite(total)) {  // a NaN or +inf logit, or every logit -inf
    *token_out = -1;
    return;
  }
  int64_t token = 0;
  if (greedy) {
    while (sampler_y(r, token) != max) ++token;  // the first maximum, as argmax
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
  *token_out = token;
  *logprob_out = static_cast<float>(static_cast<double>(sampler_y(r, token)) - (static_cast<double>(max) + std::log(total)));
}

// Rows [begin, end) of [N, V] logits x.
struct UnfilteredSamplerRows {
  static GRPO_CPU_INLINE void run(const float* x, int64_t v, const RowSampling* rows, const double* uniforms, int64_t* tokens,
                                  float* logprobs, double* blocks, int64_t begin, int64_t end) {
    const int64_t nblocks = (v + kSamplerBlock - 1) / kSamplerBlock;
    for (int64_t i = begin; i < end; ++i) {
      const bool greedy = rows[i].temperature <= 0;
      const SamplerRow r{x + i * v, v, greedy ? 1.0f : static_cast<float>(rows[i].temperature)};
      sample_unfiltered_row(r, greedy, uniforms[i], blocks, nblocks, tokens + i, logprobs + i);
    }
  }
};

}  // namespace

std::optional<SampledTokens> sample_unfiltered_rows(const torch::Tensor& logits_in, const std::vector<RowSampling>& rows,
                                                    const std::vector<double>& uniforms) {
  if (!logits_in.device().is_cpu() || logits_in.scalar_type() != torch::kFloat || logits_in.dim() != 2 ||
      logits_in.size(0) != static_cast<int64_t>(rows.size()) || uniforms.size() != rows.size())
    throw Error("sample_unfiltered_rows: logits must be [N, V] float32 on the CPU with N = rows = uniforms");
  const torch::Tensor logits = logits_in.contiguous();
  const int64_t n = logits.size(0), v = logits.size(1);
  auto tokens = torch::empty({n}, torch::kInt64);
  auto logprobs = torch::empty({n}, torch::kFloat32);
  int64_t* tok = tokens.data_ptr<int64_t>();
  float* lp = logprobs.data_ptr<float>();
  const float* x = logits.data_ptr<float>();
  grpo::parallel_for(0, n, 1, [&](int64_t begin, int64_t end) {
    std::vector<double> blocks(static_cast<size_t>((v + kSamplerBlock - 1) / kSamplerBlock));
    cpu_dispatch<UnfilteredSamplerRows>(x, v, rows.data(), uniforms.data(), tok, lp, blocks.data(), begin, end);
  });
  for (int64_t i = 0; i < n; ++i)
    if (tok[i] < 0) return std::nullopt;
  return SampledTokens{tokens, logprobs};
}

}  // namespace grpo::rollout::detail
