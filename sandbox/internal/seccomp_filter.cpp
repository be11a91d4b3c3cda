// seccomp_filter.cpp: builds the filter with libseccomp and exports its BPF.
#include "sandbox/internal/seccomp_filter.h"

#include <errno.h>
#include <sched.h>
#include <seccomp.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include <memory>
#include <mutex>
#include <vector>

#include "core/error.h"

namespace grpo::sandbox::internal {
namespace {

// Calls that only escape or attack a sandbox; no judged program needs them.
const char* const kKilled[] = {
    "ptrace", "process_vm_readv", "process_vm_writev", "mount", "umount2", "pivot_root", "chroot", "swapon",
    "swapoff", "reboot", "kexec_load", "kexec_file_load", "init_module", "finit_module", "delete_module", "add_key",
    "request_key", "keyctl", "bpf", "perf_event_open", "unshare", "setns", "userfaultfd", "acct", "settimeofday",
    "clock_settime", "clock_adjtime", "adjtimex", "sethostname", "setdomainname", "open_by_handle_at",
    "name_to_handle_at", "lookup_dcookie", "quotactl", "quotactl_fd", "syslog", "vhangup", "fanotify_init", "iopl",
    "ioperm", "kcmp", "fsopen", "fsconfig", "fsmount", "fspick", "move_mount", "open_tree", "mount_setattr",
    "pidfd_getfd", "uselib", "nfsservctl", "personality",
};
const char* const kUnsupported[] = {"clone3", "io_uring_setup", "io_uring_enter", "io_uring_register"};
const unsigned long kNamespaceFlags[] = {CLONE_NEWUSER, CLONE_NEWNS, CLONE_NEWPID, CLONE_NEWNET,
                                         CLONE_NEWIPC,  CLONE_NEWUTS, CLONE_NEWCGROUP};

void add(scmp_filter_ctx ctx, uint32_t action, const char* name, unsigned n = 0, const scmp_arg_cmp* args = nullptr) {
  int nr = seccomp_syscall_resolve_name(name);
  if (nr == __NR_SCMP_ERROR) return;  // not a call on this architecture
  int rc = n == 0 ? seccomp_rule_add(ctx, action, nr, 0) : seccomp_rule_add_array(ctx, action, nr, n, args);
  if (rc != 0) throw Error(std::string("seccomp: cannot add the rule for ") + name + ": error " + std::to_string(rc));
}

std::vector<sock_filter> build(bool no_sockets) {
  std::unique_ptr<void, void (*)(scmp_filter_ctx)> ctx(seccomp_init(SCMP_ACT_ALLOW), seccomp_release);
  if (!ctx) throw Error("seccomp_init failed");
  seccomp_attr_set(ctx.get(), SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_KILL_PROCESS);  // i386/x32 entry points
  for (const char* name : kKilled) add(ctx.get(), SCMP_ACT_KILL_PROCESS, name);
  for (const char* name : kUnsupported) add(ctx.get(), SCMP_ACT_ERRNO(ENOSYS), name);
  for (unsigned long flag : kNamespaceFlags) {
    scmp_arg_cmp cmp = SCMP_A0(SCMP_CMP_MASKED_EQ, flag, flag);
    add(ctx.get(), SCMP_ACT_KILL_PROCESS, "clone", 1, &cmp);
  }
  if (no_sockets) {
    add(ctx.get(), SCMP_ACT_ERRNO(EPERM), "socket");
  } else {
    scmp_arg_cmp cmp = SCMP_A0(SCMP_CMP_NE, AF_UNIX);
    add(ctx.get(), SCMP_ACT_ERRNO(EPERM), "socket", 1, &cmp);
  }
  // Export the BPF through a memfd: libseccomp 2.5 has no in-memory export.
  int fd = memfd_create("seccomp-bpf", MFD_CLOEXEC);
  if (fd < 0) throw Error("seccomp: memfd_create failed");
  int rc = seccomp_export_bpf(ctx.get(), fd);
  off_t size = lseek(fd, 0, SEEK_END);
  std::vector<sock_filter> program(size > 0 ? static_cast<size_t>(size) / sizeof(sock_filter) : 0);
  ssize_t got = pread(fd, program.data(), program.size() * sizeof(sock_filter), 0);
  close(fd);
  if (rc != 0 || program.empty() || got != static_cast<ssize_t>(program.size() * sizeof(sock_filter)))
    throw Error("seccomp: exporting the filter failed (error " + std::to_string(rc) + ")");
  return program;
}

}  // namespace

const sock_fprog& seccomp_program(bool no_sockets) {
  static std::once_flag once[2];
  static std::vector<sock_filter> filters[2];
  static sock_fprog programs[2];
  int i = no_sockets ? 1 : 0;
  std::call_once(once[i], [&] {
    filters[i] = build(no_sockets);
    programs[i].len = static_cast<unsigned short>(filters[i].size());
    programs[i].filter = filters[i].data();
  });
  return programs[i];
}

}  // namespace grpo::sandbox::internal
