// parallel_phases.cpp: one GOMP_parallel region whose threads walk the phases,
// meeting at GOMP_barrier between them.
#include "core/parallel_phases.h"

#include <ATen/Config.h>
#include <ATen/Parallel.h>

#include <algorithm>
#include <atomic>
#include <exception>

#include "core/internal/libgomp.h"
#include "core/parallel_for.h"

namespace grpo {

namespace {

#if AT_PARALLEL_OPENMP
// The shortest chunk is 1/(kMinChunkFraction·team) of a loop.
constexpr int64_t kMinChunkFraction = 16;

// What the team shares: the phases, the next chunk of each, the first error.
struct PhaseTeam {
  const std::vector<ParallelPhase>* phases;
  std::vector<std::atomic<int64_t>> next;
  std::atomic<bool> failed{false};
  std::atomic_flag first = ATOMIC_FLAG_INIT;
  std::exception_ptr error;
};

void phase_thread(void* data) {
  auto* team = static_cast<PhaseTeam*>(data);
  const int64_t tid = omp_get_thread_num(), size = omp_get_num_threads();
  at::internal::ThreadIdGuard tid_guard(static_cast<int>(tid));
  const std::vector<ParallelPhase>& phases = *team->phases;
  for (size_t i = 0; i < phases.size(); ++i) {
    // After the barrier every thread sees the same `failed`: all skip together, none waits alone.
    if (i > 0) GOMP_barrier();
    if (team->failed.load(std::memory_order_relaxed)) continue;
    const ParallelPhase& phase = phases[i];
    // Guided (parallel_phases.h); the floor keeps the chunks few, as each starts cold.
    const int64_t floor_chunk = std::max(std::max<int64_t>(phase.grain, 1), phase.items / (kMinChunkFraction * size));
    std::atomic<int64_t>& next = team->next[i];
    try {
      int64_t b = next.load(std::memory_order_relaxed);
      while (b < phase.items) {
        const int64_t take = std::max(floor_chunk, (phase.items - b) / (2 * size));
        if (!next.compare_exchange_weak(b, b + take, std::memory_order_relaxed)) continue;
        phase.run(b, std::min(phase.items, b + take));
        b = next.load(std::memory_order_relaxed);
      }
    } catch (...) {
      if (!team->first.test_and_set()) team->error = std::current_exception();
      team->failed.store(true, std::memory_order_relaxed);
    }
  }
}
#endif

}  // namespace

void parallel_phases(const std::vector<ParallelPhase>& phases) {
#if AT_PARALLEL_OPENMP
  if (at::get_num_threads() > 1 && !omp_in_parallel() && !at::in_parallel_region()) {
    PhaseTeam team{&phases, std::vector<std::atomic<int64_t>>(phases.size())};
    GOMP_parallel(phase_thread, &team, 0, 0);  // 0: the intra-op team (see parallel_for.cpp)
    if (team.error) std::rethrow_exception(team.error);
    return;
  }
#endif
  for (const ParallelPhase& phase : phases) grpo::parallel_for(0, phase.items, phase.grain, phase.run);
}

}  // namespace grpo
