// pool.h: runs many programs at once, as many as the cores and the memory
// budget allow (each run may use its memory limit).
//
//   SandboxPool pool(runner, config);                // workers = min(cores, budget / memory_mb)
//   auto f = pool.submit({Language::kPython, src});  // std::future<Execution>
//   std::vector<Execution> all = pool.run_all(programs, limits);
//
// Thread-safe. The runner must outlive the pool.
#pragma once

#include <future>
#include <vector>

#include "core/thread_pool.h"
#include "sandbox/runner.h"

namespace grpo::sandbox {

// Concurrent runs for a host with `cores` cores and `budget_mb` of memory when
// each run may use `run_memory_mb`: min(cores, budget / run), at least 1.
int pool_workers(int cores, int64_t budget_mb, int64_t run_memory_mb);

// 3/4 of MemAvailable in MiB (/proc/meminfo); 1024 when unknown.
int64_t default_memory_budget_mb();

class SandboxPool {
 public:
  SandboxPool(Runner& runner, const SandboxConfig& config);
  size_t workers() const { return threads_.size(); }
  std::future<Execution> submit(Program program, Limits limits);
  std::future<Execution> submit(Program program) { return submit(std::move(program), limits_); }
  // Runs every program; results in the same order.
  std::vector<Execution> run_all(const std::vector<Program>& programs, const Limits& limits);
  // Any job on the pool's threads (a code reward judging one completion).
  template <class F> auto submit_job(F&& f) { return threads_.submit(std::forward<F>(f)); }

 private:
  Runner& runner_;
  Limits limits_;
  ThreadPool threads_;
};

}  // namespace grpo::sandbox
