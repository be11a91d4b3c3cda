// parallel_phases.h: a sequence of parallel loops run by one team of the
// intra-op threads, with a barrier between consecutive loops, instead of one
// parallel region (a fork and a join) per loop.
//
//   std::vector<ParallelPhase> phases;
//   phases.push_back({rows, 1, [&](int64_t b, int64_t e) { norm_rows(b, e); }});
//   phases.push_back({blocks, 1, [&](int64_t b, int64_t e) { product_blocks(b, e); }});  // sees every row normed
//   parallel_phases(phases);
//
// Why: a decode step of a small model is about a hundred short loops
// (products, norms, attention), each of a few hundred microseconds. As
// separate parallel_for calls, the host work between them (ATen dispatch,
// allocation, the next call's setup) runs on one thread while the other
// waits, and every loop pays a fork and a join. Here the setup is done once,
// up front, and the threads only meet at barriers.
//
// Each loop is cut into chunks of consecutive items that the threads take as
// they finish one, guided: a chunk is 1/(2·team) of the items left, at least
// `grain` and 1/(16·team) of the loop, so the last ones are short. A thread
// slowed down by another process then does not hold the other at the
// barrier: in perf of a 64-row decode step of the 50M model the waits in
// libgomp fell from ~10% of the samples (static halves) to ~5% (fixed
// chunks, four per thread) to ~3% (guided). `run` must give each item the
// same result whatever range holds it.
// An exception in a loop ends the run after that loop (the remaining loops are
// skipped by every thread) and the first one is rethrown. Inside a parallel
// region, or with one intra-op thread, the loops run one after another on the
// calling thread; where LibTorch's intra-op backend is not OpenMP, each loop
// is a parallel_for.
#pragma once

#include <cstdint>
#include <functional>
#include <vector>

namespace grpo {

// One loop of parallel_phases: run(begin, end) over ranges of [0, items).
struct ParallelPhase {
  int64_t items = 0;
  int64_t grain = 1;  // fewest items per thread
  std::function<void(int64_t, int64_t)> run;
};

// Runs the phases in order; every item of a phase is done before any of the next starts.
void parallel_phases(const std::vector<ParallelPhase>& phases);

}  // namespace grpo
