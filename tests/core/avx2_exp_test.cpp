// exp_avx2 (core/avx2_exp.h): within 2 ulp of std::exp over the range it
// promises, 0 below it (-inf included), finite above it, NaN for NaN.
#include "core/avx2_exp.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>

#if defined(__x86_64__)
namespace grpo {
namespace {

// exp_avx2 of 8 copies of x, first lane.
__attribute__((target("avx2,fma"))) float avx2_exp_of(float x) {
  alignas(32) float out[8];
  _mm256_store_ps(out, exp_avx2(_mm256_set1_ps(x)));
  return out[0];
}

int64_t avx2_exp_ulps(float a, float b) {
  int32_t ia, ib;
  std::memcpy(&ia, &a, sizeof ia);
  std::memcpy(&ib, &b, sizeof ib);
  return std::abs(static_cast<int64_t>(ia) - ib);  // both positive: adjacent floats differ by 1
}

TEST(Avx2Exp, WithinTwoUlpOfStdExp) {
  if (!__builtin_cpu_supports("avx2") || !__builtin_cpu_supports("fma")) GTEST_SKIP() << "this CPU has no AVX2+FMA";
  int64_t worst = 0;
  float worst_x = 0;
  for (float x = -87.3f; x <= 88.3f; x += 0.00731f) {
    const float want = static_cast<float>(std::exp(static_cast<double>(x)));
    const int64_t ulps = avx2_exp_ulps(avx2_exp_of(x), want);
    if (ulps > worst) worst = ulps, worst_x = x;
  }
  EXPECT_LE(worst, 2) << "at x = " << worst_x;
  EXPECT_EQ(avx2_exp_of(0.0f), 1.0f);
}

TEST(Avx2Exp, BelowTheRangeGivesZeroAboveFiniteNanStaysNan) {
  if (!__builtin_cpu_supports("avx2") || !__builtin_cpu_supports("fma")) GTEST_SKIP() << "this CPU has no AVX2+FMA";
  for (float x : {-87.5f, -100.0f, -1e30f, -std::numeric_limits<float>::infinity()}) EXPECT_EQ(avx2_exp_of(x), 0.0f) << x;
  EXPECT_GT(avx2_exp_of(-87.3f), 0.0f);
  EXPECT_TRUE(std::isfinite(avx2_exp_of(1000.0f)));
  EXPECT_TRUE(std::isnan(avx2_exp_of(std::numeric_limits<float>::quiet_NaN())));
}

}  // namespace
}  // namespace grpo
#endif
