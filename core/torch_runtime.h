// torch_runtime.h: process-wide LibTorch settings a grpo process applies at
// start: intra-op threads from the cores available, and passive OpenMP waiting.
#pragma once

#include <string>

namespace grpo {

// Re-executes the current program once with OMP_WAIT_POLICY=PASSIVE when the
// user has not set it. libgomp reads the variable when it loads, before main,
// so setting it later has no effect; spinning OpenMP threads fight the BLAS
// pool on small machines (a decode loop ran 5.7x slower on 2 cores). Call
// first thing in main. Returns normally when nothing had to change.
void ensure_passive_openmp(int argc, char** argv);

// Sets LibTorch's intra-op thread count: `threads` > 0 as given, else the
// cores available to this process. Returns the count in force.
int configure_torch_threads(int threads = 0);

// One line on the runtime: LibTorch version, BLAS, threads, CUDA.
std::string torch_runtime_summary();

}  // namespace grpo
