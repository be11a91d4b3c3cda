// vfork_clone.h: clone() a child that shares our memory (CLONE_VM|CLONE_VFORK)
// until it execs or exits, the way posix_spawn does. Unlike fork() it copies
// no page tables, so it costs the same in a process holding gigabytes (a
// trainer with LibTorch and a model) as in a small one.
#pragma once

#include <sys/types.h>

namespace grpo::sandbox::internal {

// Runs fn(arg) in a new process made with `flags` | CLONE_VM | CLONE_VFORK |
// SIGCHLD, on a stack of its own, with every signal blocked (so no host
// handler runs in it; the mask survives execve). Returns once the child has
// called execve or exited: its pid, or -1 with errno. `fn` runs in our memory
// on another stack: it may only make system calls and write to `arg`, then
// execve or _exit; it must never return.
pid_t vfork_clone(int (*fn)(void*), void* arg, unsigned long flags);

}  // namespace grpo::sandbox::internal
