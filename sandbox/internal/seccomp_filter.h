// seccomp_filter.h: the system-call filter every sandboxed program runs under,
// compiled once with libseccomp into a BPF program that the child installs
// with one system call (libseccomp itself allocates, which a child of a
// multithreaded host must not).
#pragma once

#include <linux/filter.h>

namespace grpo::sandbox::internal {

// Policy: kill the process (a `blocked` verdict) on ptrace, process_vm_*,
// mount and friends, kernel keyring, bpf, perf, modules, kexec, reboot,
// namespace creation (unshare, setns, clone with CLONE_NEW*), userfaultfd,
// clock setting, ...; EPERM on socket() outside AF_UNIX (every socket() when
// `no_sockets`); ENOSYS on clone3 (glibc then uses clone, whose flags we can
// inspect) and io_uring. Everything else is allowed.
// The returned program lives for the process; thread-safe.
const sock_fprog& seccomp_program(bool no_sockets);

}  // namespace grpo::sandbox::internal
