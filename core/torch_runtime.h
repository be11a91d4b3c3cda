// torch_runtime.h: process-wide LibTorch settings a grpo process applies at
// start: intra-op threads from the cores available, bounded OpenMP spinning,
// and a heap that keeps freed tensor memory for reuse.
#pragma once

#include <string>

namespace grpo {

// Re-executes the current program once with OMP_WAIT_POLICY=ACTIVE and
// GOMP_SPINCOUNT=300000 (spin ~0.3 ms, then sleep) when the user has set
// neither. libgomp reads them when it loads, before main, so setting them later
// has no effect. Measured on 2 cores (bench/omp_wait_policy.sh): PASSIVE made
// `grpo generate` 3.7x and `grpo train` with a worker process 4.1x slower, and
// unbounded ACTIVE spinning starves the second process (train with a worker
// 1.9x slower). Call first thing in main. Returns normally when nothing had to
// change.
void ensure_openmp_wait_policy(int argc, char** argv);

// Has glibc's malloc keep freed memory for reuse instead of handing it back to
// the kernel. By default every block above the mmap threshold (dynamic, at most
// 32 MB) is a fresh mapping, unmapped again on free, so each training step or
// prefill page-faults and zeroes its large activations anew (~12% of a GRPO
// step, perf; bench/learner/README.md). Call first thing in main, before large
// allocations; the heap then stays at its peak. A no-op off glibc.
void keep_freed_memory_for_reuse();

// Sets LibTorch's intra-op thread count: `threads` > 0 as given, else the
// cores available to this process. Returns the count in force.
int configure_torch_threads(int threads = 0);

// One line on the runtime: LibTorch version, BLAS, threads, CUDA.
std::string torch_runtime_summary();

}  // namespace grpo
