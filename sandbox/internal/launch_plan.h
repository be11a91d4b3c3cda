// launch_plan.h: everything the sandbox's init process needs, computed on the
// host before clone(). The cloned child is a copy of a multithreaded process:
// it may only make system calls and read this plan (no malloc, no locks, no
// exceptions), so every string and array is prepared here.
#pragma once

#include <linux/filter.h>
#include <sys/resource.h>
#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

namespace grpo::sandbox::internal {

// A host path bound into the new root (namespace tier).
struct BindMount {
  std::string source;  // host path
  std::string target;  // path under the new root, e.g. <root>/usr
  bool directory = true;
  bool read_only = true;
};

// A symlink created in the new root: <root>/<link> -> <target>.
struct Symlink {
  std::string target, link;
};

// A file copied into the working directory from a host descriptor (read with pread from 0).
struct InFile {
  int fd = -1;
  std::string path;  // absolute path as init sees it when copying
  int mode = 0644;
};

struct Rlimit {
  int resource;
  rlim_t value;
};

// Init's report to the host, written once on the report pipe.
struct InitReport {
  int32_t setup_step = 0;   // 0 = set-up succeeded; else a SetupStep
  int32_t setup_errno = 0;
  int32_t wait_status = 0;  // of the main program
  int32_t exec_errno = 0;   // execve failure of the main program
  int64_t cpu_us = 0;       // main program + everything init reaped
  int64_t max_rss_kb = 0;   // largest max RSS among them
};

// Which set-up step failed (names in setup_step_name()).
enum SetupStep : int32_t {
  kStepNone = 0, kStepSync, kStepIds, kStepMountPrivate, kStepMountRoot, kStepMkdir, kStepBind, kStepRemount,
  kStepSymlink, kStepTmpfs, kStepCopyIn, kStepPivot, kStepRootReadOnly, kStepChdir, kStepFork, kStepCopyOut,
  kStepChown,
};
const char* setup_step_name(int32_t step);

struct LaunchPlan {
  bool namespaces = true;  // namespace tier; false: Landlock tier
  // --- descriptors (host numbers; all others are closed in the child)
  int sync_fd = -1;    // init blocks on it until the host has set ids and cgroups
  int report_fd = -1;  // InitReport goes here
  int stdin_fd = -1, stdout_fd = -1, stderr_fd = -1;
  int landlock_fd = -1;
  std::vector<int> keep_fds;  // sorted: everything above plus file fds
  // --- identity
  bool drop_groups = false;  // setgroups(0) (allowed when the host is root)
  bool change_ids = false;
  uid_t uid = 0;
  gid_t gid = 0;
  // --- host memory to wipe in init (its argv/environ copy, readable in /proc/1)
  uintptr_t arg_start = 0, arg_end = 0, env_start = 0, env_end = 0;
  // --- namespace tier: the new root
  std::string root;                  // empty host directory to mount the root tmpfs on
  std::vector<std::string> dirs;     // created under the root before binds
  std::vector<BindMount> binds;
  std::vector<Symlink> symlinks;
  std::string proc_dir, dev_dir, tmp_dir, work_dir;  // under root (ns tier) or on the host (Landlock tier)
  std::string work_options, tmp_options, dev_options;  // tmpfs mount options (size, inodes, mode)
  std::string hostname = "sandbox";
  // --- files
  std::vector<InFile> files;
  int out_fd = -1;           // when >= 0, init copies out_path into it after a successful run
  std::string out_path;
  std::string run_dir;       // working directory of the program (as it sees it)
  // --- the program
  std::vector<std::string> argv, envp;
  std::vector<char*> argv_ptrs, envp_ptrs;  // null-terminated, point into argv/envp
  std::vector<Rlimit> rlimits;
  sock_fprog seccomp{};  // points into a cached filter
  bool kill_rest_on_exit = true;  // ns tier: init exits (killing the namespace) once main is reaped
};

// Body of the cloned init process. Never returns.
[[noreturn]] void init_main(const LaunchPlan& plan);

}  // namespace grpo::sandbox::internal
