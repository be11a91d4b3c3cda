// limits.h: the resource limits of one sandboxed execution. A plain config
// struct (fields() as in core/config_fields.h) so a recipe, `grpo sandbox run
// --limits '{...}'` and tests all set it by name.
#pragma once

#include <cstdint>

namespace grpo::sandbox {

// Every limit of one run. Exceeding one gives its own verdict (execution.h).
struct Limits {
  // --- time
  int64_t cpu_ms = 2000;   // CPU time of the whole process tree (RLIMIT_CPU per process, summed on exit).
  int64_t wall_ms = 5000;  // Wall clock from launch; the whole tree is killed at the deadline.
  // --- memory and files
  int64_t memory_mb = 256;            // cgroup memory limit (tmpfs pages included); RLIMIT_AS is a looser backstop.
  int64_t file_mb = 16;               // Largest file (RLIMIT_FSIZE) and size of each tmpfs (/work, /tmp).
  int64_t max_files = 512;            // Inodes of each tmpfs (/work, /tmp).
  int max_open_files = 64;            // RLIMIT_NOFILE.
  int max_processes = 32;             // Processes and threads of the tree (cgroup pids.max, RLIMIT_NPROC).
  // --- output
  int64_t stdout_kb = 1024;  // Stdout beyond this is an output-limit verdict (the run is killed).
  int64_t stderr_kb = 64;    // Stderr beyond this is dropped (marked truncated), the run goes on.

  template <class V> void fields(V& v) {
    v.field("cpu_ms", cpu_ms, "CPU time limit of the program's process tree, in milliseconds.");
    v.field("wall_ms", wall_ms, "Wall-clock limit in milliseconds; the whole process tree is killed at the deadline.");
    v.field("memory_mb", memory_mb, "Memory limit in MiB (cgroup where writable, else RLIMIT_AS).");
    v.field("file_mb", file_mb, "Largest file the program may write, and size of its private /work and /tmp, in MiB.");
    v.field("max_files", max_files, "Number of files (inodes) in each of /work and /tmp.");
    v.field("max_open_files", max_open_files, "Open file descriptors per process (RLIMIT_NOFILE).");
    v.field("max_processes", max_processes, "Processes and threads of the whole tree (cgroup pids.max and RLIMIT_NPROC).");
    v.field("stdout_kb", stdout_kb, "Stdout limit in KiB; more is an output-limit verdict.");
    v.field("stderr_kb", stderr_kb, "Stderr kept in KiB; the rest is dropped.");
    v.check(cpu_ms >= 1, "cpu_ms", "must be >= 1");
    v.check(wall_ms >= 1, "wall_ms", "must be >= 1");
    v.check(memory_mb >= 16, "memory_mb", "must be >= 16 (an interpreter needs that much to start)");
    v.check(file_mb >= 1, "file_mb", "must be >= 1");
    v.check(max_files >= 16, "max_files", "must be >= 16");
    v.check(max_open_files >= 8, "max_open_files", "must be >= 8 (stdio, the interpreter's own files)");
    v.check(max_processes >= 1, "max_processes", "must be >= 1");
    v.check(stdout_kb >= 1, "stdout_kb", "must be >= 1");
    v.check(stderr_kb >= 1, "stderr_kb", "must be >= 1");
  }
};

// Limits of the C++ compile step: g++ needs far more than a judged program.
inline Limits default_compile_limits() {
  Limits l;
  l.cpu_ms = 30000;
  l.wall_ms = 60000;
  l.memory_mb = 1024;
  l.file_mb = 64;
  l.max_open_files = 256;
  l.max_processes = 16;
  l.stdout_kb = 64;
  l.stderr_kb = 64;
  return l;
}

}  // namespace grpo::sandbox
