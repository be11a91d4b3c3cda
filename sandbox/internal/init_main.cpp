// init_main.cpp: the sandbox's init process, run in the child of clone().
//
// It is a copy of a possibly multithreaded host, so it only makes system calls
// and reads its LaunchPlan: no malloc, no locks, no exceptions, no stdio.
// Namespace tier: PID 1 of a new PID namespace; sets up the minimal root,
// forks the program, reaps, reports, exits (which kills the namespace).
// Landlock tier: a child subreaper that forks the program, reports when it
// ends and reaps every orphan until none is left (the host kills them).
#include "sandbox/internal/launch_plan.h"

#include <fcntl.h>
#include <grp.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

namespace grpo::sandbox::internal {
namespace {

bool write_all(int fd, const void* data, size_t size) {
  const char* p = static_cast<const char*>(data);
  while (size > 0) {
    ssize_t n = ::write(fd, p, size);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    p += n;
    size -= static_cast<size_t>(n);
  }
  return true;
}

[[noreturn]] void fail(const LaunchPlan& plan, int32_t step) {
  InitReport r{};
  r.setup_step = step;
  r.setup_errno = errno;
  write_all(plan.report_fd, &r, sizeof r);
  _exit(127);
}

// Closes every descriptor >= 3 except the sorted `keep` ones.
void close_other_fds(const int* keep, size_t n) {
  unsigned lo = 3;
  for (size_t i = 0; i < n; ++i) {
    if (keep[i] < static_cast<int>(lo)) continue;
    if (static_cast<unsigned>(keep[i]) > lo) syscall(SYS_close_range, lo, static_cast<unsigned>(keep[i]) - 1, 0);
    lo = static_cast<unsigned>(keep[i]) + 1;
  }
  syscall(SYS_close_range, lo, ~0U, 0);
}

// Flags a read-only remount must keep: a user namespace may not clear them (bubblewrap does the same).
unsigned long locked_flags(const char* path) {
  struct statfs st;
  if (statfs(path, &st) != 0) return 0;
  return static_cast<unsigned long>(st.f_flags) & (ST_NODEV | ST_NOEXEC | ST_NOATIME | ST_NODIRATIME | ST_RELATIME);
}

bool copy_fd_to_path(const LaunchPlan& plan, int in_fd, const char* path, int mode) {
  int out = ::open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
  if (out < 0) return false;
  if (!plan.namespaces && plan.change_ids && fchown(out, plan.uid, plan.gid) != 0) return false;
  char buf[1 << 16];
  off_t off = 0;
  for (;;) {
    ssize_t n = ::pread(in_fd, buf, sizeof buf, off);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return false;
    if (n == 0) break;
    if (!write_all(out, buf, static_cast<size_t>(n))) return false;
    off += n;
  }
  fchmod(out, mode);
  return ::close(out) == 0;
}

// Copies the program's output file (the compiled binary) to the host's descriptor.
// O_NOFOLLOW and the regular-file check stop a symlink planted by the program.
bool copy_path_to_fd(const char* path, int out_fd) {
  int in = ::open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  if (in < 0) return false;
  struct stat st;
  if (fstat(in, &st) != 0 || !S_ISREG(st.st_mode)) return false;
  char buf[1 << 16];
  for (;;) {
    ssize_t n = ::read(in, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return false;
    if (n == 0) break;
    if (!write_all(out_fd, buf, static_cast<size_t>(n))) return false;
  }
  ::close(in);
  return true;
}

void wipe_host_strings(const LaunchPlan& plan) {
  // /proc/1/cmdline of the namespace would show the host's command line and
  // /proc/1/environ its secrets: they are our copy of the host's memory.
  if (plan.arg_end > plan.arg_start) std::memset(reinterpret_cast<void*>(plan.arg_start), 0, plan.arg_end - plan.arg_start);
  if (plan.env_end > plan.env_start) std::memset(reinterpret_cast<void*>(plan.env_start), 0, plan.env_end - plan.env_start);
}

void set_ids(const LaunchPlan& plan) {
  // Raw system calls: glibc's wrappers would signal the host threads it
  // believes we still have (its setxid broadcast) and wait for them forever.
  if (plan.drop_groups && syscall(SYS_setgroups, 0, nullptr) != 0) fail(plan, kStepIds);
  if (syscall(SYS_setresgid, plan.gid, plan.gid, plan.gid) != 0) fail(plan, kStepIds);
  if (syscall(SYS_setresuid, plan.uid, plan.uid, plan.uid) != 0) fail(plan, kStepIds);
}

void mount_tmpfs(const LaunchPlan& plan, const std::string& dir, const std::string& options) {
  if (mount("tmpfs", dir.c_str(), "tmpfs", MS_NOSUID | MS_NODEV, options.c_str()) != 0) fail(plan, kStepTmpfs);
}

void copy_in_files(const LaunchPlan& plan) {
  for (const InFile& f : plan.files) {
    if (!copy_fd_to_path(plan, f.fd, f.path.c_str(), f.mode)) fail(plan, kStepCopyIn);
  }
}

// The namespace tier's file system: a read-only tmpfs root holding read-only
// binds of /usr (and the /bin, /lib links), a few devices, its own /proc, and
// private size-limited tmpfs /tmp and /work. The host's root is detached.
void build_root(const LaunchPlan& plan) {
  if (mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) fail(plan, kStepMountPrivate);
  if (mount("tmpfs", plan.root.c_str(), "tmpfs", MS_NOSUID | MS_NODEV, "size=1m,nr_inodes=256,mode=0755") != 0) fail(plan, kStepMountRoot);
  for (const std::string& d : plan.dirs) {
    if (mkdir(d.c_str(), 0755) != 0 && errno != EEXIST) fail(plan, kStepMkdir);
  }
  if (mount("tmpfs", plan.dev_dir.c_str(), "tmpfs", MS_NOSUID | MS_NOEXEC, plan.dev_options.c_str()) != 0) fail(plan, kStepTmpfs);
  for (const BindMount& b : plan.binds) {
    if (b.directory) {
      if (mkdir(b.target.c_str(), 0755) != 0 && errno != EEXIST) fail(plan, kStepMkdir);
    } else {
      int fd = ::open(b.target.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
      if (fd < 0) fail(plan, kStepMkdir);
      ::close(fd);
    }
    if (mount(b.source.c_str(), b.target.c_str(), nullptr, MS_BIND | MS_REC, nullptr) != 0) fail(plan, kStepBind);
    if (b.read_only) {
      unsigned long flags = MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | locked_flags(b.target.c_str());
      if (mount(nullptr, b.target.c_str(), nullptr, flags, nullptr) != 0) fail(plan, kStepRemount);
    }
  }
  for (const Symlink& s : plan.symlinks) {
    if (symlink(s.target.c_str(), s.link.c_str()) != 0) fail(plan, kStepSymlink);
  }
  // A fresh /proc shows only this namespace. Not fatal: nothing we run needs it.
  mount("proc", plan.proc_dir.c_str(), "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, nullptr);
  mount_tmpfs(plan, plan.tmp_dir, plan.tmp_options);
  mount_tmpfs(plan, plan.work_dir, plan.work_options);
  copy_in_files(plan);
  if (chdir(plan.root.c_str()) != 0) fail(plan, kStepPivot);
  // pivot_root(".", ".") stacks the old root under the new one; detaching it leaves only ours.
  if (syscall(SYS_pivot_root, ".", ".") != 0) fail(plan, kStepPivot);
  if (umount2(".", MNT_DETACH) != 0) fail(plan, kStepPivot);
  if (chdir("/") != 0) fail(plan, kStepPivot);
  if (mount(nullptr, "/", nullptr, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV, nullptr) != 0) fail(plan, kStepRootReadOnly);
}

// The program's process: stdio, limits, identity, no_new_privs, Landlock, seccomp, exec.
[[noreturn]] void exec_program(const LaunchPlan& plan, int error_fd) {
  setsid();
  if (dup2(plan.stdin_fd, 0) < 0 || dup2(plan.stdout_fd, 1) < 0 || dup2(plan.stderr_fd, 2) < 0) goto failed;
  {
    int keep[2] = {error_fd, plan.landlock_fd};
    if (keep[1] >= 0 && keep[1] < keep[0]) std::swap(keep[0], keep[1]);
    close_other_fds(keep[0] < 0 ? keep + 1 : keep, keep[0] < 0 ? 1 : 2);
  }
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  {
    // Under memory pressure the kernel must pick the program, never the init.
    int oom = ::open("/proc/self/oom_score_adj", O_WRONLY | O_CLOEXEC);
    if (oom >= 0) {
      write_all(oom, "1000", 4);
      ::close(oom);
    }
  }
  for (const Rlimit& r : plan.rlimits) {
    struct rlimit value{r.value, r.value};
    if (r.resource == RLIMIT_CPU) value.rlim_max = r.value + 1;  // SIGXCPU at the soft limit, SIGKILL a second later
    if (setrlimit(r.resource, &value) != 0) goto failed;
  }
  if (!plan.namespaces && plan.change_ids) {
    if (syscall(SYS_setgroups, 0, nullptr) != 0 || syscall(SYS_setresgid, plan.gid, plan.gid, plan.gid) != 0 ||
        syscall(SYS_setresuid, plan.uid, plan.uid, plan.uid) != 0)
      goto failed;
  }
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) goto failed;
  if (plan.landlock_fd >= 0) {
    if (syscall(SYS_landlock_restrict_self, plan.landlock_fd, 0) != 0) goto failed;
    ::close(plan.landlock_fd);
  }
  if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &plan.seccomp) != 0) goto failed;
  execve(plan.argv_ptrs[0], plan.argv_ptrs.data(), plan.envp_ptrs.data());
failed:
  int e = errno;
  write_all(error_fd, &e, sizeof e);
  _exit(127);
}

}  // namespace

const char* setup_step_name(int32_t step) {
  static const char* const names[] = {"none", "waiting for the host", "setting ids", "making mounts private",
                                      "mounting the root tmpfs", "making a directory", "bind mount", "read-only remount",
                                      "symlink", "tmpfs mount", "copying program files in", "pivot_root",
                                      "read-only root", "chdir", "fork", "copying the output file out", "chown"};
  return step >= 0 && step <= kStepChown ? names[step] : "unknown step";
}

void init_main(const LaunchPlan& plan) {
  close_other_fds(plan.keep_fds.data(), plan.keep_fds.size());
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  char go = 0;
  if (::read(plan.sync_fd, &go, 1) != 1) _exit(127);  // the host gave up on this run
  ::close(plan.sync_fd);
  wipe_host_strings(plan);
  prctl(PR_SET_DUMPABLE, 0);
  if (plan.namespaces) {
    if (plan.change_ids) set_ids(plan);
    sethostname(plan.hostname.c_str(), plan.hostname.size());
    build_root(plan);
  } else {
    prctl(PR_SET_CHILD_SUBREAPER, 1);
    copy_in_files(plan);
  }
  if (chdir(plan.run_dir.c_str()) != 0) fail(plan, kStepChdir);

  int exec_pipe[2];
  if (pipe2(exec_pipe, O_CLOEXEC) != 0) fail(plan, kStepFork);
  // vfork: no atfork handlers (which could take locks another host thread
  // held when we were cloned) and no copy of our page tables (a copy of the
  // host's); we are suspended until the program has exec'd.
  pid_t main_pid = vfork();
  if (main_pid < 0) fail(plan, kStepFork);
  if (main_pid == 0) {
    ::close(exec_pipe[0]);
    exec_program(plan, exec_pipe[1]);
  }
  ::close(exec_pipe[1]);
  ::close(plan.stdin_fd);
  ::close(plan.stdout_fd);
  ::close(plan.stderr_fd);
  InitReport report{};
  int exec_errno = 0;
  if (::read(exec_pipe[0], &exec_errno, sizeof exec_errno) == sizeof exec_errno) report.exec_errno = exec_errno;
  ::close(exec_pipe[0]);

  bool reported = false;
  for (;;) {
    int status = 0;
    struct rusage ru{};
    pid_t pid = wait4(-1, &status, __WALL, &ru);
    if (pid < 0) {
      if (errno == EINTR) continue;
      break;  // ECHILD: nothing left
    }
    report.cpu_us += (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000LL + ru.ru_utime.tv_usec + ru.ru_stime.tv_usec;
    if (ru.ru_maxrss > report.max_rss_kb) report.max_rss_kb = ru.ru_maxrss;
    if (pid != main_pid) continue;
    report.wait_status = status;
    if (plan.out_fd >= 0 && WIFEXITED(status) && WEXITSTATUS(status) == 0 && !copy_path_to_fd(plan.out_path.c_str(), plan.out_fd)) {
      report.setup_step = kStepCopyOut;
      report.setup_errno = errno;
    }
    write_all(plan.report_fd, &report, sizeof report);
    reported = true;
    if (plan.kill_rest_on_exit) break;  // PID 1 exiting kills the whole namespace
  }
  if (!reported) write_all(plan.report_fd, &report, sizeof report);
  _exit(0);
}

}  // namespace grpo::sandbox::internal
