// parallel_for.cpp: parallel_for through libgomp's GOMP_parallel where
// LibTorch's intra-op backend is OpenMP, else through at::parallel_for
// (ATen's native pool, compiled inside LibTorch).
#include "core/parallel_for.h"

#include <ATen/Config.h>
#include <ATen/Parallel.h>

#include <algorithm>
#include <atomic>
#include <exception>

#include "core/internal/libgomp.h"

namespace grpo::detail {

#if AT_PARALLEL_OPENMP
namespace {

// What each thread of the team needs: the range, its minimum share, the body.
struct ParallelForTeam {
  int64_t begin, end, grain;
  void (*body)(void*, int64_t, int64_t);
  void* context;
  std::atomic_flag failed = ATOMIC_FLAG_INIT;
  std::exception_ptr error;
};

// One thread's share: equal consecutive ranges over as many threads as the
// range holds whole grains (ATen rounds that up, so its ranges can fall
// below the grain).
void parallel_for_thread(void* data) {
  auto* team = static_cast<ParallelForTeam*>(data);
  const int64_t n = team->end - team->begin;
  const int64_t threads = std::min<int64_t>(omp_get_num_threads(), n / team->grain);
  const int64_t tid = omp_get_thread_num(), chunk = (n + threads - 1) / threads;
  const int64_t b = team->begin + tid * chunk;
  if (tid >= threads || b >= team->end) return;
  try {
    at::internal::ThreadIdGuard tid_guard(static_cast<int>(tid));
    team->body(team->context, b, std::min(team->end, b + chunk));
  } catch (...) {
    if (!team->failed.test_and_set()) team->error = std::current_exception();
  }
}

}  // namespace
#endif

void parallel_for_ranges(int64_t begin, int64_t end, int64_t grain, void (*body)(void*, int64_t, int64_t),
                         void* context) {
#if AT_PARALLEL_OPENMP
  grain = std::max<int64_t>(grain, 1);
  if ((end - begin) / grain >= 2 && at::get_num_threads() > 1 && !omp_in_parallel() && !at::in_parallel_region()) {
    ParallelForTeam team{begin, end, grain, body, context};
    // num_threads 0: the team the intra-op settings give (as ATen, which never
    // passes a count: varying counts make libgomp rebuild its pool).
    GOMP_parallel(parallel_for_thread, &team, 0, 0);
    if (team.error) std::rethrow_exception(team.error);
    return;
  }
  at::internal::ThreadIdGuard tid_guard(0);
  body(context, begin, end);
#else
  at::parallel_for(begin, end, grain, [&](int64_t b, int64_t e) { body(context, b, e); });
#endif
}

}  // namespace grpo::detail
