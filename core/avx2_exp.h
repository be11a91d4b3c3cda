// avx2_exp.h: exp of 8 floats at once with AVX2+FMA, for kernels that pick
// AVX2 at run time (functions compiled with __attribute__((target("avx2,fma")))
// while the build targets baseline x86-64, so ATen's Vectorized<float> cannot
// be used there).
//
// Numerics: Cephes' expf (range reduction by n·ln 2 in two parts, degree-5
// polynomial), within 2 ulp of std::exp for x in [-87.3, 88.3]. Below
// ln FLT_MIN (-87.34) the result is 0 (std::exp gives a subnormal there, at
// most 1.2e-38), so exp(-inf) = 0 and masked scores weigh nothing; above
// 88.376 the input is clamped (finite 3.4e38). NaN gives NaN.
#pragma once

#if defined(__x86_64__)
#include <immintrin.h>

namespace grpo {

__attribute__((target("avx2,fma"), always_inline)) inline __m256 exp_avx2(__m256 x) {
  const __m256 lowest = _mm256_set1_ps(-87.3365447505531f);  // ln FLT_MIN: 2^n stays a normal float
  const __m256 below = _mm256_cmp_ps(x, lowest, _CMP_LT_OQ);
  // min/max return their second operand when one is NaN: x second, so NaN stays NaN.
  x = _mm256_min_ps(_mm256_set1_ps(88.3762626647949f), x);
  x = _mm256_max_ps(lowest, x);
  // n = round(x / ln 2); r = x - n ln 2 with ln 2 split so that n·C1 is exact.
  const __m256 n = _mm256_floor_ps(_mm256_fmadd_ps(x, _mm256_set1_ps(1.44269504088896341f), _mm256_set1_ps(0.5f)));
  __m256 r = _mm256_fnmadd_ps(n, _mm256_set1_ps(0.693359375f), x);
  r = _mm256_fnmadd_ps(n, _mm256_set1_ps(-2.12194440e-4f), r);
  __m256 p = _mm256_set1_ps(1.9875691500e-4f);
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.3981999507e-3f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(8.3334519073e-3f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(4.1665795894e-2f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.6666665459e-1f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(5.0000001201e-1f));
  p = _mm256_add_ps(_mm256_fmadd_ps(p, _mm256_mul_ps(r, r), r), _mm256_set1_ps(1.0f));
  // 2^n through the exponent bits; n >= -127 by the clamp (-127 gives 0).
  const __m256i e = _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvttps_epi32(n), _mm256_set1_epi32(127)), 23);
  return _mm256_andnot_ps(below, _mm256_mul_ps(p, _mm256_castsi256_ps(e)));
}

}  // namespace grpo
#endif
