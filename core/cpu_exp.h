// cpu_exp.h: e^x for float loops the compiler vectorises (branch-free, no
// libm call): CPU kernels compiled for AVX2+FMA at run time (functions with
// __attribute__((target("avx2,fma"))) while the build targets baseline
// x86-64, so ATen's Vectorized<float> cannot serve them) call it on each
// element and get 8 at a time.
//
// Numerics: Cephes' expf (x = n·ln2 + r, |r| <= ln2/2, ln2 in two parts, a
// degree-5 polynomial in r, 2^n in the exponent bits), within 2 ulp of libm
// for x in [-87.3, 88] (tests/core/cpu_exp_test.cpp, in both builds).
// Below ln FLT_MIN (-87.34) it gives 0 where libm gives a subnormal (at most
// 1.2e-38): exp(-inf) = 0, so masked logits weigh nothing; above 88 it clamps
// (a finite 1.65e38); NaN stays NaN.
#pragma once

#include <cstdint>
#include <cstring>

// Forces a helper into its caller: only code inlined into a target("avx2,fma")
// function is compiled for AVX2.
#define GRPO_CPU_INLINE __attribute__((always_inline)) inline

namespace grpo {

GRPO_CPU_INLINE float cpu_exp(float x) {
  constexpr float kLowest = -87.3365447505531f;  // ln FLT_MIN: 2^n stays a normal float
  const bool below = x < kLowest;
  x = x > 88.0f ? 88.0f : x;  // comparisons, not fmin/fmax: NaN passes through; 88 keeps 2^n <= 2^127
  x = x < kLowest ? kLowest : x;
  const float n = (x * 1.44269504088896341f + 12582912.0f) - 12582912.0f;  // round(x / ln2): adding 1.5·2^23 rounds
  const float r = (x - n * 0.693359375f) + n * 2.12194440e-4f;
  float p = 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  const float e = p * r * r + r + 1.0f;
  const float n_int = n == n ? n : 0.0f;  // NaN (e is NaN already) would make the int conversion undefined
  const uint32_t bits = static_cast<uint32_t>(static_cast<int32_t>(n_int) + 127) << 23;
  float scale;
  std::memcpy(&scale, &bits, sizeof scale);
  return below ? 0.0f : e * scale;
}

// out[i] = cpu_exp(x[i] - shift) for i < n (n a multiple of 8; out may be x),
// returns their sum: 8 partial sums, then those. The exp loop is kept alone:
// clang vectorises it only so (with a store and a sum in one loop it ran scalar).
GRPO_CPU_INLINE float cpu_exp_sum(const float* x, float shift, float* out, int64_t n) {
  for (int64_t i = 0; i < n; ++i) out[i] = cpu_exp(x[i] - shift);
  float lane[8] = {};
  for (int64_t i = 0; i < n; i += 8)
    for (int64_t l = 0; l < 8; ++l) lane[l] += out[i + l];
  float total = 0;
  for (float l : lane) total += l;
  return total;
}

}  // namespace grpo
