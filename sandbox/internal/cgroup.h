// cgroup.h: per-run control groups for memory and process limits, on cgroup
// v1 (separate `memory` and `pids` hierarchies) or v2 (one hierarchy with the
// controllers delegated), whichever is writable. Host side only.
//
//   CgroupSupport s = detect_cgroups();          // once; creates <own cgroup>/grpo-sandbox
//   RunCgroup cg(s, "run-42", limits);           // one per run
//   cg.add(pid); ... cg.peak_bytes(); cg.oom_kills(); // removed on destruction
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

#include "sandbox/limits.h"

namespace grpo::sandbox::internal {

// Where run cgroups can be created, per controller ("" when unavailable).
struct CgroupSupport {
  std::string memory_version;  // "v1", "v2" or ""
  std::string pids_version;
  std::string memory_parent;   // directory holding the runs' memory cgroups
  std::string pids_parent;
  std::string detail;          // why a controller is unavailable, for doctor
};

// Probes the hierarchies (v2 first, then v1) by creating a cgroup under our own.
CgroupSupport detect_cgroups();

// The cgroups of one run. Not thread-safe; one per run.
class RunCgroup {
 public:
  RunCgroup(const CgroupSupport& support, const std::string& name, const Limits& limits);
  ~RunCgroup();
  RunCgroup(const RunCgroup&) = delete;
  RunCgroup& operator=(const RunCgroup&) = delete;

  // Errors while creating or limiting (empty when fine); a run must not start otherwise.
  const std::string& error() const { return error_; }
  bool has_memory() const { return !memory_dir_.empty(); }
  // Moves `pid` (and so its future children) into every run cgroup.
  bool add(pid_t pid);
  int64_t peak_bytes() const;  // -1 when unknown
  int64_t oom_kills() const;   // OOM kills inside the memory cgroup
  // Processes still in the run cgroups.
  std::vector<pid_t> members() const;
  // SIGKILLs every live member but `except` (cgroup.kill on v2 when there is no exception);
  // a few rounds, for processes forked meanwhile. Zombies stay until their parent reaps them.
  void kill_all(pid_t except = -1);

 private:
  std::string memory_dir_, pids_dir_;
  bool memory_v2_ = false, pids_v2_ = false;
  std::string error_;
};

}  // namespace grpo::sandbox::internal
