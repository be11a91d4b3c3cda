// torch_runtime.h: process-wide LibTorch settings a grpo process applies at
// start: intra-op threads from the cores available, and bounded OpenMP spinning.
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

// Sets LibTorch's intra-op thread count: `threads` > 0 as given, else the
// cores available to this process. Returns the count in force.
int configure_torch_threads(int threads = 0);

// One line on the runtime: LibTorch version, BLAS, threads, CUDA.
std::string torch_runtime_summary();

}  // namespace grpo
