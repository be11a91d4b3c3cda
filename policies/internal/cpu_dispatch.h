// cpu_dispatch.h: CPU loops written once and compiled twice, for AVX2+FMA
// (run where the CPU has them; the build targets baseline x86-64) and for the
// baseline. A kernel is a struct whose static `run` is GRPO_CPU_INLINE:
//
//   struct ScaleRows {
//     static GRPO_CPU_INLINE void run(float* x, int64_t n) { for (int64_t i = 0; i < n; ++i) x[i] *= 2; }
//   };
//   cpu_dispatch<ScaleRows>(ptr, n);  // parallel_for outside, one call per range of rows
//
// Only code inlined into `run` gets the AVX2 build, so the helpers it calls
// must be GRPO_CPU_INLINE too (a lambda inside `run` would be compiled for the
// baseline only). Sums written as kCpuLanes partial sums vectorise without
// -ffast-math; their order differs from ATen's (fp32 rounding, ~1e-6 relative).
#pragma once

#include <cmath>
#include <cstdint>
#include <cstring>

#define GRPO_CPU_INLINE __attribute__((always_inline)) inline

namespace grpo::policies::detail {

constexpr int64_t kCpuLanes = 8;  // independent partial sums: a vector register's worth of floats

// Σ a[i]·b[i] in kCpuLanes partial sums, then the lanes and the tail.
GRPO_CPU_INLINE float cpu_lane_dot(const float* a, const float* b, int64_t n) {
  float lane[kCpuLanes] = {};
  int64_t i = 0;
  for (; i + kCpuLanes <= n; i += kCpuLanes)
    for (int64_t l = 0; l < kCpuLanes; ++l) lane[l] += a[i + l] * b[i + l];
  float s = 0;
  for (int64_t l = 0; l < kCpuLanes; ++l) s += lane[l];
  for (; i < n; ++i) s += a[i] * b[i];
  return s;
}

// e^x, Cephes' expf (within 2 ulp of libm's): x = n·ln2 + r with |r| <= ln2/2, a degree-7 polynomial in r,
// times 2^n built in the exponent bits. Branch-free (loops over it vectorise);
// x clamped to [-87, 87] keeps 2^n a normal float.
GRPO_CPU_INLINE float cpu_exp(float x) {
  x = std::fmin(std::fmax(x, -87.0f), 87.0f);
  const float n = (x * 1.44269504088896341f + 12582912.0f) - 12582912.0f;  // round(x / ln2): 1.5·2^23 rounds to an integer
  const float r = (x - n * 0.693359375f) + n * 2.12194440e-4f;              // ln2 in two parts (Cody-Waite)
  float p = 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  const float e = p * r * r + r + 1.0f;
  const int32_t bits = (static_cast<int32_t>(n) + 127) << 23;
  float scale;
  std::memcpy(&scale, &bits, sizeof scale);
  return e * scale;
}

template <typename Kernel, typename... Args>
void cpu_dispatch_baseline(Args... args) {
  Kernel::run(args...);
}

#if defined(__x86_64__)
template <typename Kernel, typename... Args>
__attribute__((target("avx2,fma"))) void cpu_dispatch_avx2(Args... args) {
  Kernel::run(args...);
}

// Whether this CPU has AVX2 and FMA (asked once).
inline bool cpu_has_avx2_fma() {
  static const bool yes = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  return yes;
}
#endif

// Kernel::run(args...) in the build for this CPU.
template <typename Kernel, typename... Args>
void cpu_dispatch(Args... args) {
#if defined(__x86_64__)
  if (cpu_has_avx2_fma()) return cpu_dispatch_avx2<Kernel>(args...);
#endif
  cpu_dispatch_baseline<Kernel>(args...);
}

}  // namespace grpo::policies::detail
