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
// baseline only); core/cpu_exp.h's cpu_exp is. Sums written as kCpuLanes
// partial sums vectorise without -ffast-math; their order differs from ATen's
// (fp32 rounding, ~1e-6 relative).
#pragma once

#include <cstdint>

#include "core/cpu_exp.h"  // GRPO_CPU_INLINE, grpo::cpu_exp (vectorisable e^x)

namespace grpo {

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

}  // namespace grpo
