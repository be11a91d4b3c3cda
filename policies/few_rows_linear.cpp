// few_rows_linear.cpp: the dot-product kernel (AVX2+FMA intrinsics, chosen at
// run time; the build targets baseline x86-64) and its split over threads.
#include "policies/few_rows_linear.h"

#include <algorithm>

#if defined(__x86_64__)
#include <immintrin.h>
#endif

#include "core/cpu_dispatch.h"
#include "core/parallel_for.h"

namespace grpo::policies::detail {

constexpr int64_t kFewRowsWeights = 4;  // weight rows per micro-kernel (and per prefetched block)

#if defined(__x86_64__)
namespace {

constexpr int64_t kFewRowsTile = 3;  // input rows per micro-kernel

// y[i][j] = x_i · w_j (+ bias_j) for MR input rows and NR weight rows.
template <int MR, int NR>
__attribute__((target("avx2,fma"), always_inline)) inline void few_rows_tile(const FewRowsProduct& a, const float* x,
                                                                             const float* w, int64_t col, float* y) {
  __m256 acc[MR][NR];
  for (int i = 0; i < MR; ++i)
    for (int j = 0; j < NR; ++j) acc[i][j] = _mm256_setzero_ps();
  for (int64_t k = 0; k < a.in; k += 8) {
    __m256 xv[MR];
    for (int i = 0; i < MR; ++i) xv[i] = _mm256_loadu_ps(x + i * a.in + k);
    for (int j = 0; j < NR; ++j) {
      const __m256 wv = _mm256_loadu_ps(w + j * a.in + k);
      for (int i = 0; i < MR; ++i) acc[i][j] = _mm256_fmadd_ps(xv[i], wv, acc[i][j]);
    }
  }
  for (int i = 0; i < MR; ++i) {
    if constexpr (NR == 4) {  // the four sums at once: [Σ acc0, Σ acc1, Σ acc2, Σ acc3]
      const __m256 h = _mm256_hadd_ps(_mm256_hadd_ps(acc[i][0], acc[i][1]), _mm256_hadd_ps(acc[i][2], acc[i][3]));
      __m128 s = _mm_add_ps(_mm256_castps256_ps128(h), _mm256_extractf128_ps(h, 1));
      if (a.bias) s = _mm_add_ps(s, _mm_loadu_ps(a.bias + col));
      if (a.accumulate) s = _mm_add_ps(_mm_loadu_ps(y + i * a.out), s);
      _mm_storeu_ps(y + i * a.out, s);
    } else {
      for (int j = 0; j < NR; ++j) {
        __m128 s = _mm_add_ps(_mm256_castps256_ps128(acc[i][j]), _mm256_extractf128_ps(acc[i][j], 1));
        s = _mm_hadd_ps(s, s);
        s = _mm_hadd_ps(s, s);
        const float sum = _mm_cvtss_f32(s) + (a.bias ? a.bias[col + j] : 0.0f);
        y[i * a.out + j] = a.accumulate ? y[i * a.out + j] + sum : sum;
      }
    }
  }
}

// Every input row times NR weight rows from column `col`; the `next_bytes` at
// `next` (the following weight rows) are prefetched a share per row tile, so
// they are in L1 when their turn comes.
template <int NR>
__attribute__((target("avx2,fma"))) void few_rows_block(const FewRowsProduct& a, int64_t col, const char* next,
                                                        int64_t next_bytes) {
  const float* w = a.w + col * a.in;
  // Rows left over by the 3-row tiles: 1 or 2 rows as one tile, but 4 as two
  // 2-row tiles (a lone row loads 5 vectors per 4 FMAs).
  const int64_t tail = a.rows % kFewRowsTile == 1 && a.rows >= 4 ? 4 : a.rows % kFewRowsTile;
  const int64_t tiles = (a.rows - tail) / kFewRowsTile, lines = next_bytes / 64;
  const int64_t per_tile = tiles > 0 ? (lines + tiles - 1) / tiles : lines;
  int64_t r = 0;
  for (int64_t t = 0; t < std::max<int64_t>(tiles, 1); ++t) {
    for (int64_t l = t * per_tile; l < std::min(lines, (t + 1) * per_tile); ++l)
      _mm_prefetch(next + l * 64, _MM_HINT_T0);
    if (t >= tiles) break;
    few_rows_tile<kFewRowsTile, NR>(a, a.x + r * a.in, w, col, a.y + r * a.out + col);
    r += kFewRowsTile;
  }
  for (; a.rows - r >= 2; r += 2) few_rows_tile<2, NR>(a, a.x + r * a.in, w, col, a.y + r * a.out + col);
  if (a.rows - r == 1) few_rows_tile<1, NR>(a, a.x + r * a.in, w, col, a.y + r * a.out + col);
}

// Weight blocks [begin, end) of kFewRowsWeights rows (the last may be short).
__attribute__((target("avx2,fma"))) void few_rows_range(const FewRowsProduct& a, int64_t begin, int64_t end) {
  const int64_t block_bytes = kFewRowsWeights * a.in * static_cast<int64_t>(sizeof(float));
  for (int64_t l = 0; l < block_bytes / 64; ++l)
    _mm_prefetch(reinterpret_cast<const char*>(a.w + begin * kFewRowsWeights * a.in) + l * 64, _MM_HINT_T0);
  for (int64_t b = begin; b < end; ++b) {
    const int64_t col = b * kFewRowsWeights, n = std::min(kFewRowsWeights, a.out - col);
    const bool has_next = b + 1 < end;
    const char* next = has_next ? reinterpret_cast<const char*>(a.w + (col + kFewRowsWeights) * a.in) : nullptr;
    const int64_t next_bytes = has_next ? std::min(block_bytes, (a.out - col - kFewRowsWeights) * a.in * 4) : 0;
    switch (n) {
      case 4: few_rows_block<4>(a, col, next, next_bytes); break;
      case 3: few_rows_block<3>(a, col, next, next_bytes); break;
      case 2: few_rows_block<2>(a, col, next, next_bytes); break;
      default: few_rows_block<1>(a, col, next, next_bytes); break;
    }
  }
}

}  // namespace
#endif

bool few_rows_kernel_runs(int64_t in) {
#if defined(__x86_64__)
  return cpu_has_avx2_fma() && in > 0 && in % 8 == 0;
#else
  return false;
#endif
}

int64_t few_rows_blocks(const FewRowsProduct& p) { return (p.out + kFewRowsWeights - 1) / kFewRowsWeights; }

// A thread's share at least ~25 us of work (less, and waking the other thread
// costs more than it saves), counting a weight's read from memory as 16 rows'
// multiply-adds: at one row the products are memory reads, which two threads
// issue twice as fast.
int64_t few_rows_grain(const FewRowsProduct& p) {
  return std::max<int64_t>(1, (int64_t{1} << 21) / ((p.rows + 16) * p.in * kFewRowsWeights));
}

void few_rows_run(const FewRowsProduct& p, int64_t begin, int64_t end) {
#if defined(__x86_64__)
  few_rows_range(p, begin, end);
#endif
}

torch::Tensor few_rows_linear(const torch::Tensor& x, const torch::Tensor& weight, const torch::Tensor& bias) {
#if defined(__x86_64__)
  const int64_t in = weight.dim() == 2 ? weight.size(1) : -1;
  if (!few_rows_kernel_runs(in) || x.dim() < 1 || x.size(-1) != in || !x.device().is_cpu() ||
      x.scalar_type() != torch::kFloat || !weight.device().is_cpu() || weight.scalar_type() != torch::kFloat ||
      !weight.is_contiguous() || x.numel() / in > kFewRowsMax || x.numel() == 0)
    return {};
  if (bias.defined() && (bias.scalar_type() != torch::kFloat || !bias.is_contiguous() || bias.numel() != weight.size(0)))
    return {};
  const torch::Tensor xc = x.contiguous();
  const int64_t rows = x.numel() / in, out = weight.size(0);
  std::vector<int64_t> shape = x.sizes().vec();
  shape.back() = out;
  torch::Tensor y = torch::empty(shape, x.options());
  const FewRowsProduct args{xc.data_ptr<float>(), weight.data_ptr<float>(), bias.defined() ? bias.data_ptr<float>() : nullptr,
                            y.data_ptr<float>(), rows, in, out};
  grpo::parallel_for(0, few_rows_blocks(args), few_rows_grain(args), [&](int64_t begin, int64_t end) { few_rows_range(args, begin, end); });
  return y;
#else
  return {};
#endif
}

}  // namespace grpo::policies::detail
