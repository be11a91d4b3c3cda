// parallel_for.h: at::parallel_for's contract (ranges of [begin, end) split
// over the intra-op threads, at least `grain` items each, serial inside a
// parallel region) for the project's own kernels, on LibTorch's own threads.
//
// Why not at::parallel_for: it is a header template whose OpenMP branch
// compiles only where _OPENMP is defined. This project's code is built
// without -fopenmp (clang's OpenMP runtime is not the libgomp LibTorch
// loads, and two runtimes would mean two thread pools on the same cores), so
// there at::parallel_for silently ran every range on the calling thread.
// parallel_for.cpp enters LibTorch's libgomp directly (GOMP_parallel, what
// GCC emits for `#pragma omp parallel`): the same threads, thread count and
// wait policy as ATen's and oneDNN's own loops.
#pragma once

#include <cstdint>
#include <type_traits>

namespace grpo {

namespace detail {
// Runs body(context, begin, end) over [begin, end) in parallel (see parallel_for).
void parallel_for_ranges(int64_t begin, int64_t end, int64_t grain, void (*body)(void*, int64_t, int64_t),
                         void* context);
}  // namespace detail

// f(begin, end) over consecutive sub-ranges of [begin, end) on the intra-op
// threads (at::get_num_threads()), each range at least `grain` items (as
// many threads as the range holds whole grains), or on the calling thread
// when it holds fewer than two or the call is inside a parallel region. at::get_thread_num() inside f says which thread runs it.
template <typename F>
void parallel_for(int64_t begin, int64_t end, int64_t grain, const F& f) {
  if (begin >= end) return;
  detail::parallel_for_ranges(
      begin, end, grain,
      [](void* context, int64_t b, int64_t e) { (*static_cast<const F*>(context))(b, e); },
      const_cast<void*>(static_cast<const void*>(&f)));
}

}  // namespace grpo
