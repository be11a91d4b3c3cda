// wall_clock.h: the two clock readings the project records: Unix time for
// stored timestamps (run store, reports, TensorBoard) and elapsed seconds for
// step timings.
#pragma once

#include <chrono>

namespace grpo {

// Seconds since the Unix epoch, with sub-second precision (system clock).
inline double unix_seconds() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

// Seconds elapsed since `start` on the monotonic clock.
inline double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace grpo
