// pool.cpp: the pool's size and its jobs.
#include "sandbox/pool.h"

#include <algorithm>
#include <fstream>
#include <string>

namespace grpo::sandbox {

int pool_workers(int cores, int64_t budget_mb, int64_t run_memory_mb) {
  int64_t by_memory = run_memory_mb > 0 ? budget_mb / run_memory_mb : cores;
  return static_cast<int>(std::max<int64_t>(1, std::min<int64_t>(cores, by_memory)));
}

int64_t default_memory_budget_mb() {
  std::ifstream in("/proc/meminfo");
  std::string key;
  int64_t kb = 0;
  std::string unit;
  while (in >> key >> kb >> unit) {
    if (key == "MemAvailable:") return kb / 1024 * 3 / 4;
  }
  return 1024;
}

SandboxPool::SandboxPool(Runner& runner, const SandboxConfig& config)
    : runner_(runner),
      limits_(config.limits),
      threads_(static_cast<size_t>(pool_workers(config.workers > 0 ? config.workers : available_cores(),
                                                config.memory_budget_mb > 0 ? config.memory_budget_mb : default_memory_budget_mb(),
                                                config.limits.memory_mb))) {}

std::future<Execution> SandboxPool::submit(Program program, Limits limits) {
  return threads_.submit([this, program = std::move(program), limits] { return runner_.run(program, limits); });
}

std::vector<Execution> SandboxPool::run_all(const std::vector<Program>& programs, const Limits& limits) {
  std::vector<std::future<Execution>> futures;
  futures.reserve(programs.size());
  for (const Program& p : programs) futures.push_back(submit(p, limits));
  std::vector<Execution> out;
  out.reserve(programs.size());
  for (auto& f : futures) out.push_back(f.get());
  return out;
}

}  // namespace grpo::sandbox
