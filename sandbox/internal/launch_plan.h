// launch_plan.h: everything the sandbox's init needs, computed on the host.
// The host encodes it (encode_plan) into a memfd; the init program
// (sandbox/init/init_main.cpp, a separate executable) decodes it (decode_plan).
// Descriptor numbers are the host's: the init inherits them across execve.
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
  template <class S, class V> static void visit(S& s, V& v) { v(s.source), v(s.target), v(s.directory), v(s.read_only); }
};

// A symlink created in the new root: <root>/<link> -> <target>.
struct Symlink {
  std::string target, link;
  template <class S, class V> static void visit(S& s, V& v) { v(s.target), v(s.link); }
};

// A file copied into the working directory from a host descriptor (read with pread from 0).
struct InFile {
  int fd = -1;
  std::string path;  // absolute path as init sees it when copying
  int mode = 0644;
  template <class S, class V> static void visit(S& s, V& v) { v(s.fd), v(s.path), v(s.mode); }
};

// One setrlimit() of the program.
struct Rlimit {
  int resource;
  rlim_t value;
  template <class S, class V> static void visit(S& s, V& v) { v(s.resource), v(s.value); }
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
  kStepChown, kStepPlan,
};
const char* setup_step_name(int32_t step);

struct LaunchPlan {
  bool namespaces = true;  // namespace tier; false: Landlock tier
  // --- descriptors (host numbers; all others are closed in the init)
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
  std::vector<Rlimit> rlimits;
  std::vector<sock_filter> seccomp;  // the BPF program the program runs under
  bool kill_rest_on_exit = true;  // ns tier: init exits (killing the namespace) once main is reaped

  // Every field, in encoding order (one list for encode_plan and decode_plan).
  template <class S, class V> static void visit(S& s, V& v) {
    v(s.namespaces), v(s.sync_fd), v(s.report_fd), v(s.stdin_fd), v(s.stdout_fd), v(s.stderr_fd), v(s.landlock_fd);
    v(s.keep_fds), v(s.drop_groups), v(s.change_ids), v(s.uid), v(s.gid);
    v(s.root), v(s.dirs), v(s.binds), v(s.symlinks), v(s.proc_dir), v(s.dev_dir), v(s.tmp_dir), v(s.work_dir);
    v(s.work_options), v(s.tmp_options), v(s.dev_options), v(s.hostname);
    v(s.files), v(s.out_fd), v(s.out_path), v(s.run_dir);
    v(s.argv), v(s.envp), v(s.rlimits), v(s.seccomp), v(s.kill_rest_on_exit);
  }
};

// The plan as bytes (a format tag, then every field). The host and the init
// program must come from the same build: decode_plan refuses another tag.
std::string encode_plan(const LaunchPlan& plan);
// False when `bytes` is not a whole plan of this build's format.
bool decode_plan(const std::string& bytes, LaunchPlan* plan);

}  // namespace grpo::sandbox::internal
