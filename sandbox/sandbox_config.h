// sandbox_config.h: the `sandbox` section of a recipe: which isolation tier,
// whether a weaker level is acceptable, default limits, the pool's size, and
// the system paths of interpreters and compilers. See docs/sandbox.md.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "sandbox/limits.h"

namespace grpo::sandbox {

struct SandboxConfig {
  // --- isolation
  // auto: namespaces where the kernel allows them, else Landlock (weaker).
  std::string tier = "auto";
  // Run even when a layer is missing (doctor lists which). Off: refuse to run.
  bool accept_weaker = false;
  // Host uid (and gid) the programs run as when the toolkit runs as root.
  // The Landlock tier uses uid + 1 + slot so concurrent runs can be told apart.
  int64_t sandbox_uid = 62000;
  // Where the sandbox mounts its roots and keeps per-run directories; "" means $TMPDIR or /tmp.
  std::string scratch_dir;
  // --- programs
  std::string python = "/usr/bin/python3";
  std::string cxx = "/usr/bin/g++";
  std::vector<std::string> cxx_flags = {"-O2", "-std=c++17", "-pipe"};
  Limits limits;                                // default limits of a run
  Limits compile_limits = default_compile_limits();  // limits of the g++ step
  // --- pool
  int workers = 0;              // concurrent runs; 0 = one per core
  int64_t memory_budget_mb = 0; // memory all concurrent runs may use; 0 = 3/4 of MemAvailable

  template <class V> void fields(V& v) {
    v.choice("tier", tier, {"auto", "namespace", "landlock"},
             "Isolation tier: namespace (user/PID/net/mount/IPC/UTS namespaces, read-only minimal root), landlock (weaker: Landlock + seccomp + own uid, for hosts that refuse user namespaces), auto (namespace where allowed).");
    v.field("accept_weaker", accept_weaker, "Run even when an isolation layer is unavailable (see `grpo sandbox doctor`); otherwise the sandbox refuses to start.");
    v.field("sandbox_uid", sandbox_uid, "Unprivileged host uid/gid programs run as when grpo runs as root.");
    v.field("scratch_dir", scratch_dir, "Directory for the sandbox's mount points and per-run files; empty = $TMPDIR or /tmp.");
    v.field("python", python, "Absolute path of the Python 3 interpreter (never looked up in PATH).");
    v.field("cxx", cxx, "Absolute path of the C++ compiler.");
    v.field("cxx_flags", cxx_flags, "Flags of the C++ compile step.");
    v.field("limits", limits, "Default limits of one run.");
    v.field("compile_limits", compile_limits, "Limits of the C++ compile step.");
    v.field("workers", workers, "Concurrent runs in the pool; 0 = one per available core.");
    v.field("memory_budget_mb", memory_budget_mb, "Memory all concurrent runs may use together (bounds the pool); 0 = 3/4 of MemAvailable.");
    v.check(sandbox_uid > 0, "sandbox_uid", "must be > 0 (not root)");
    v.check(!python.empty() && python[0] == '/', "python", "must be an absolute path, e.g. /usr/bin/python3");
    v.check(!cxx.empty() && cxx[0] == '/', "cxx", "must be an absolute path, e.g. /usr/bin/g++");
    v.check(workers >= 0, "workers", "must be >= 0 (0 = one per core)");
    v.check(memory_budget_mb >= 0, "memory_budget_mb", "must be >= 0 (0 = automatic)");
  }
};

}  // namespace grpo::sandbox
