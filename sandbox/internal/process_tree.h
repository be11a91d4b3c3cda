// process_tree.h (sandbox-internal): the processes below a process, for
// killing what a run left behind and for tests that check nothing was.
#pragma once

#include <sys/types.h>

#include <vector>

namespace grpo::sandbox::internal {

// Every descendant of `root` (children, grandchildren, ...), through
// /proc/<pid>/task/<tid>/children; zombies included.
std::vector<pid_t> descendants(pid_t root);

}  // namespace grpo::sandbox::internal
