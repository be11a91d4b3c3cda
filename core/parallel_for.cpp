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

std::pair<int64_t, int64_t> parallel_share(int64_t begin, int64_t end, int64_t grain, int64_t team, int64_t tid) {
  const int64_t n = end - begin;
  const int64_t threads = std::max<int64_t>(1, std::min<int64_t>(team, n / std::max<int64_t>(grain, 1)));
  const int64_t chunk = (n + threads - 1) / threads, b = begin + tid * chunk;
  if (tid >= threads || b >= end) return {end, end};
  return {b, std::min(end, b + chunk)};
}

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

void parallel_for_thread(void* data) {
  auto* team = static_cast<ParallelForTeam*>(data);
  const int64_t tid = omp_get_thread_num();
  const auto [b, e] = parallel_share(team->begin, team->end, team->grain, omp_get_num_threads(), tid);
  if (b >= e) return;
  try {
    at::internal::ThreadIdGuard tid_guard(static_cast<int>(tid));
    team->body(team->context, b, e);
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
