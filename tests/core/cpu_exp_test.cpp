// cpu_exp (core/cpu_exp.h), in the baseline build and in the AVX2+FMA build
// of a vectorised loop: within 2 ulp of libm over the range it promises, 0
// below it (-inf included), finite above it, NaN for NaN; cpu_exp_sum.
#include "core/cpu_exp.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <vector>

namespace grpo {
namespace {

void cpu_exp_loop_baseline(const float* x, float* y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) y[i] = cpu_exp(x[i]);
}

#if defined(__x86_64__)
__attribute__((target("avx2,fma"))) void cpu_exp_loop_avx2(const float* x, float* y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) y[i] = cpu_exp(x[i]);
}
#endif

// Both builds of the loop over xs (the AVX2 one only where the CPU has it).
std::vector<std::vector<float>> cpu_exp_both(const std::vector<float>& xs) {
  std::vector<std::vector<float>> out;
  out.emplace_back(xs.size());
  cpu_exp_loop_baseline(xs.data(), out.back().data(), static_cast<int64_t>(xs.size()));
#if defined(__x86_64__)
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) {
    out.emplace_back(xs.size());
    cpu_exp_loop_avx2(xs.data(), out.back().data(), static_cast<int64_t>(xs.size()));
  }
#endif
  return out;
}

int64_t cpu_exp_ulps(float a, float b) {
  int32_t ia, ib;
  std::memcpy(&ia, &a, sizeof ia);
  std::memcpy(&ib, &b, sizeof ib);
  return std::abs(static_cast<int64_t>(ia) - ib);  // both positive: adjacent floats differ by 1
}

TEST(CpuExp, WithinTwoUlpOfLibmInBothBuilds) {
  std::vector<float> xs;
  for (float x = -87.3f; x <= 88.0f; x += 0.00731f) xs.push_back(x);
  xs.push_back(0.0f);
  for (const auto& ys : cpu_exp_both(xs)) {
    int64_t worst = 0;
    float worst_x = 0;
    for (size_t i = 0; i < xs.size(); ++i) {
      const int64_t ulps = cpu_exp_ulps(ys[i], static_cast<float>(std::exp(static_cast<double>(xs[i]))));
      if (ulps > worst) worst = ulps, worst_x = xs[i];
    }
    EXPECT_LE(worst, 2) << "at x = " << worst_x;
    EXPECT_EQ(ys.back(), 1.0f);
  }
}

TEST(CpuExp, BelowTheRangeZeroAboveFiniteNanStaysNan) {
  const float inf = std::numeric_limits<float>::infinity();
  const std::vector<float> xs = {-87.5f, -100.0f, -1e30f, -inf, -87.3f, 88.5f, 1e30f, inf, std::numeric_limits<float>::quiet_NaN()};
  for (const auto& ys : cpu_exp_both(xs)) {
    for (int i = 0; i < 4; ++i) EXPECT_EQ(ys[i], 0.0f) << xs[i];
    EXPECT_GT(ys[4], 0.0f);
    for (int i = 5; i < 8; ++i) EXPECT_TRUE(std::isfinite(ys[i]) && ys[i] > 1e38f) << xs[i] << " -> " << ys[i];
    EXPECT_TRUE(std::isnan(ys[8]));
  }
}

TEST(CpuExp, ExpSumWritesEachExpAndSumsThemInPlaceOrNot) {
  std::vector<float> x(24), out(24);
  for (size_t i = 0; i < x.size(); ++i) x[i] = 0.25f * static_cast<float>(i) - 3.0f;
  x[5] = -std::numeric_limits<float>::infinity();
  const float total = cpu_exp_sum(x.data(), 1.5f, out.data(), 24);
  double want = 0;
  for (size_t i = 0; i < x.size(); ++i) {
    EXPECT_EQ(out[i], cpu_exp(x[i] - 1.5f)) << i;
    want += out[i];
  }
  EXPECT_NEAR(total, want, 1e-5 * want);
  EXPECT_EQ(out[5], 0.0f);
  EXPECT_EQ(cpu_exp_sum(x.data(), 1.5f, x.data(), 24), total) << "in place, the same values and order";
  EXPECT_EQ(x, out);
}

}  // namespace
}  // namespace grpo
