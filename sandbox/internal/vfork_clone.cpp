// vfork_clone.cpp: see vfork_clone.h.
#include "sandbox/internal/vfork_clone.h"

#include <sched.h>
#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>

namespace grpo::sandbox::internal {

pid_t vfork_clone(int (*fn)(void*), void* arg, unsigned long flags) {
  // The child's stack: part of our frame, which stays untouched while CLONE_VFORK
  // suspends us. 64 KiB covers a lazy PLT binding in the child (it saves the
  // vector registers on the stack) with a wide margin.
  alignas(64) char stack[64 * 1024];
  // Raw rt_sigprocmask: glibc's wrappers leave its own internal signals unblocked.
  uint64_t all = ~uint64_t{0}, old = 0;
  syscall(SYS_rt_sigprocmask, SIG_SETMASK, &all, &old, sizeof all);
  int pid = ::clone(fn, stack + sizeof stack, static_cast<int>(flags | CLONE_VM | CLONE_VFORK | SIGCHLD), arg);
  int saved = errno;
  syscall(SYS_rt_sigprocmask, SIG_SETMASK, &old, nullptr, sizeof old);
  errno = saved;
  return pid;
}

}  // namespace grpo::sandbox::internal
