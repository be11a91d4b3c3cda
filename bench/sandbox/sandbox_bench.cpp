// sandbox_bench: what the sandbox costs per execution, side by side in one run.
//
//   BM_Sandbox_PythonTrivial   a trivial Python program through the SandboxPool
//                              (namespace tier, every layer), `kBatch` runs per iteration
//   BM_Bare_PythonSpawn        the same program as bare /usr/bin/python3 processes
//                              (posix_spawn, pipes for stdout), same parallelism
// Argument host_mb: this process first maps and touches that much memory, as a
// trainer holding a model does (a fork() of the host would copy its page tables).
// Counter executions_per_s; the goal is sandbox >= 0.8x bare (under 25% extra cost).
// Run: build/bench/sandbox/sandbox_bench --benchmark_min_time=4
#include <benchmark/benchmark.h>
#include <fcntl.h>
#include <spawn.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <string>

#include "core/thread_pool.h"
#include "sandbox/pool.h"
#include "sandbox/runner.h"

namespace {

constexpr int kBatch = 16;
const char* const kProgram = "print(sum(range(10)))\n";

// `mb` MiB of touched anonymous memory, held while a benchmark runs.
class HostMemory {
 public:
  explicit HostMemory(int64_t mb) : bytes_(static_cast<size_t>(mb) << 20) {
    if (bytes_ == 0) return;
    data_ = mmap(nullptr, bytes_, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (data_ == MAP_FAILED) {
      data_ = nullptr;
      return;
    }
    for (size_t i = 0; i < bytes_; i += 4096) static_cast<volatile char*>(data_)[i] = 1;
  }
  ~HostMemory() {
    if (data_) munmap(data_, bytes_);
  }
  bool ok() const { return bytes_ == 0 || data_ != nullptr; }

 private:
  size_t bytes_;
  void* data_ = nullptr;
};

grpo::sandbox::SandboxConfig bench_config() {
  grpo::sandbox::SandboxConfig c;
  c.workers = grpo::available_cores();
  return c;
}

void BM_Sandbox_PythonTrivial(benchmark::State& state) {
  HostMemory host(state.range(0));
  if (!host.ok()) state.SkipWithError("cannot map the host memory");
  grpo::sandbox::SandboxConfig config = bench_config();
  auto runner = grpo::sandbox::make_runner(config);
  grpo::sandbox::SandboxPool pool(*runner, config);
  std::vector<grpo::sandbox::Program> programs(kBatch, {grpo::sandbox::Language::kPython, kProgram, ""});
  int64_t runs = 0;
  for (auto _ : state) {
    for (const auto& e : pool.run_all(programs, config.limits)) {
      if (e.stdout_text != "45\n") state.SkipWithError(("sandbox run failed: " + e.to_json().dump()).c_str());
    }
    runs += kBatch;
  }
  state.counters["executions_per_s"] = benchmark::Counter(static_cast<double>(runs), benchmark::Counter::kIsRate);
  state.counters["workers"] = static_cast<double>(pool.workers());
}

// One bare interpreter process, as a judge without a sandbox would start it.
std::string bare_python(const std::string& script) {
  int out[2];
  if (pipe2(out, O_CLOEXEC) != 0) return "";
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, out[1], 1);
  const char* argv[] = {"/usr/bin/python3", "-s", "-B", script.c_str(), nullptr};
  pid_t pid = 0;
  // The sandbox's environment, so both interpreters start the same way.
  const char* env[] = {"PATH=/usr/bin:/bin", "HOME=/tmp", "LANG=C.UTF-8", "PYTHONHASHSEED=0", "PYTHONDONTWRITEBYTECODE=1", nullptr};
  posix_spawn(&pid, argv[0], &fa, nullptr, const_cast<char**>(argv), const_cast<char**>(env));
  posix_spawn_file_actions_destroy(&fa);
  close(out[1]);
  std::string text;
  char buf[4096];
  for (ssize_t n; (n = read(out[0], buf, sizeof buf)) > 0;) text.append(buf, static_cast<size_t>(n));
  close(out[0]);
  waitpid(pid, nullptr, 0);
  return text;
}

void BM_Bare_PythonSpawn(benchmark::State& state) {
  HostMemory host(state.range(0));
  if (!host.ok()) state.SkipWithError("cannot map the host memory");
  const std::string script = "/tmp/grpo-bench-trivial-" + std::to_string(getpid()) + ".py";
  std::ofstream(script) << kProgram;
  grpo::ThreadPool threads(static_cast<size_t>(bench_config().workers));
  int64_t runs = 0;
  for (auto _ : state) {
    std::vector<std::future<std::string>> futures;
    for (int i = 0; i < kBatch; ++i) futures.push_back(threads.submit([&] { return bare_python(script); }));
    for (auto& f : futures) {
      if (f.get() != "45\n") state.SkipWithError("bare python failed");
    }
    runs += kBatch;
  }
  std::remove(script.c_str());
  state.counters["executions_per_s"] = benchmark::Counter(static_cast<double>(runs), benchmark::Counter::kIsRate);
}

// Bare and sandboxed alternate, so that both see the same load.
BENCHMARK(BM_Bare_PythonSpawn)->ArgName("host_mb")->Arg(0)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_Sandbox_PythonTrivial)->ArgName("host_mb")->Arg(0)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_Bare_PythonSpawn)->ArgName("host_mb")->Arg(1024)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_Sandbox_PythonTrivial)->ArgName("host_mb")->Arg(1024)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
