// init_main.cpp: grpo-sandbox-init, the init of every sandboxed run: a small
// program of its own (no LibTorch), started by the host with vfork_clone()
// straight into execve (sandbox/internal/init_program.h).
//
//   sandbox-init PLAN_FD REPORT_FD      (no environment)
//   sandbox-init kill-uid UID           (Landlock tier, as root: kill what a run left)
//
// It reads its LaunchPlan from PLAN_FD; set-up failures go to REPORT_FD.
// Namespace tier: PID 1 of a new PID namespace; sets up the minimal root,
// forks the program, reaps, reports, exits (which kills the namespace).
// Landlock tier: a child subreaper that forks the program, reports when it
// ends and reaps every orphan until none is left (the host kills them).
// The program's process is a vfork child sharing our memory until execve:
// exec_program makes system calls only.
#include "sandbox/internal/launch_plan.h"

#include <fcntl.h>
#include <grp.h>
#include <linux/capability.h>
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
#include <cstdlib>
#include <cstring>
#include <string>
#include <utility>
#include <vector>

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

[[noreturn]] void fail_to(int report_fd, int32_t step) {
  InitReport r{};
  r.setup_step = step;
  r.setup_errno = errno;
  write_all(report_fd, &r, sizeof r);
  _exit(127);
}

[[noreturn]] void fail(const LaunchPlan& plan, int32_t step) { fail_to(plan.report_fd, step); }

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

void set_ids(const LaunchPlan& plan) {
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

// What execve and the seccomp call take, pointing into the plan; built before
// vfork (the child may not allocate).
struct ProgramCall {
  std::vector<char*> argv, envp;  // null-terminated
  sock_fprog seccomp{};
  explicit ProgramCall(LaunchPlan& plan) {
    for (std::string& a : plan.argv) argv.push_back(a.data());
    argv.push_back(nullptr);
    for (std::string& e : plan.envp) envp.push_back(e.data());
    envp.push_back(nullptr);
    seccomp.len = static_cast<unsigned short>(plan.seccomp.size());
    seccomp.filter = plan.seccomp.data();
  }
};

// The program's process (a vfork child: system calls only): stdio, limits,
// identity, no_new_privs, Landlock, seccomp, exec.
[[noreturn]] void exec_program(const LaunchPlan& plan, const ProgramCall& call, int error_fd) {
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
  if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &call.seccomp) != 0) goto failed;
  execve(call.argv[0], call.argv.data(), call.envp.data());
failed:
  int e = errno;
  write_all(error_fd, &e, sizeof e);
  _exit(127);
}

// The host hands us its signal mask (all blocked, see vfork_clone.h) and
// maybe ignored signals; the program must start with neither.
void reset_signals() {
  struct sigaction dfl{};
  dfl.sa_handler = SIG_DFL;
  for (int sig = 1; sig < NSIG; ++sig) sigaction(sig, &dfl, nullptr);  // EINVAL for SIGKILL, SIGSTOP, glibc's own
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, nullptr);
}

// The namespace tier starts us with every capability of the new user namespace
// in the ambient set (so that execve kept them); nothing of it may reach the
// program, which inherits ambient and inheritable sets. We keep our permitted
// and effective ones for the mounts.
void drop_inheritable_capabilities() {
  prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
  __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct data[2];
  if (syscall(SYS_capget, &header, data) != 0) return;
  data[0].inheritable = data[1].inheritable = 0;
  syscall(SYS_capset, &header, data);
}

bool read_plan(int fd, LaunchPlan* plan) {
  struct stat st;
  if (fstat(fd, &st) != 0 || st.st_size <= 0) return false;
  std::string bytes(static_cast<size_t>(st.st_size), '\0');
  if (pread(fd, bytes.data(), bytes.size(), 0) != st.st_size) return false;
  ::close(fd);
  return decode_plan(bytes, plan);
}

[[noreturn]] void run(LaunchPlan& plan) {
  close_other_fds(plan.keep_fds.data(), plan.keep_fds.size());
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  char go = 0;
  if (::read(plan.sync_fd, &go, 1) != 1) _exit(127);  // the host gave up on this run
  ::close(plan.sync_fd);
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

  const ProgramCall call(plan);
  int exec_pipe[2];
  if (pipe2(exec_pipe, O_CLOEXEC) != 0) fail(plan, kStepFork);
  // vfork: we are suspended until the program has exec'd (or failed to), and
  // nothing of our memory is copied.
  pid_t main_pid = vfork();
  if (main_pid < 0) fail(plan, kStepFork);
  if (main_pid == 0) {
    ::close(exec_pipe[0]);
    exec_program(plan, call, exec_pipe[1]);
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

// SIGKILLs every process of `uid`: kill(-1) as that uid reaches exactly the
// processes it may signal, escaped ones included.
int kill_uid(const char* uid_text) {
  char* end = nullptr;
  const long long uid = std::strtoll(uid_text, &end, 10);
  if (*uid_text == '\0' || *end != '\0' || uid <= 0 || uid > 0x7fffffff) return 1;  // never root: kill(-1) as root ends everything
  if (syscall(SYS_setgroups, 0, nullptr) != 0 || syscall(SYS_setresgid, uid, uid, uid) != 0 ||
      syscall(SYS_setresuid, uid, uid, uid) != 0)
    return 1;
  // kill(-1) returns 0 whenever other processes exist (even if none is ours),
  // so a few passes, for processes forked during a pass.
  for (int i = 0; i < 4; ++i) ::kill(-1, SIGKILL);
  return 0;
}

}  // namespace
}  // namespace grpo::sandbox::internal

int main(int argc, char** argv) {
  using namespace grpo::sandbox::internal;
  // Our own name in /proc (a comm of a file descriptor number otherwise, on older kernels).
  prctl(PR_SET_NAME, "sandbox-init", 0, 0, 0);
  reset_signals();
  drop_inheritable_capabilities();
  if (argc != 3) return 126;  // only the host starts us
  if (std::strcmp(argv[1], "kill-uid") == 0) return kill_uid(argv[2]);
  const int plan_fd = std::atoi(argv[1]);
  const int report_fd = std::atoi(argv[2]);
  LaunchPlan plan;
  if (!read_plan(plan_fd, &plan)) {
    errno = EPROTO;
    fail_to(report_fd, kStepPlan);
  }
  run(plan);
}
