// init_program.h: the sandbox's init is a small executable of its own,
// grpo-sandbox-init (sandbox/init/; no LibTorch, statically linked), built
// next to `grpo`. Each run starts it with vfork_clone() straight into execve
// and hands it the LaunchPlan in a memfd, so a run costs the same whatever
// the size of the host process (a fork() would copy its page tables).
//
//   std::string why;
//   std::string path = find_init_program(&why);   // "" when missing
//   InitProgram init(path);                        // once
//   pid_t pid = init.start(flags, plan_fd, report_fd, fds, &error);  // per run
//   init.kill_uid(uid);                            // Landlock tier: what a run left
#pragma once

#include <sched.h>
#include <sys/types.h>

#include <string>
#include <vector>

namespace grpo::sandbox::internal {

// The namespaces a run's init starts in (user, pid, network, mount, IPC, UTS);
// the doctor probes with the same flags.
constexpr unsigned long kRunNamespaceFlags =
    CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWNS | CLONE_NEWIPC | CLONE_NEWUTS;

// Where grpo-sandbox-init is: next to the running executable (an installed
// grpo), else where this build wrote it. "" and *why when neither exists.
std::string find_init_program(std::string* why);

// The opened init executable (pinned: a rebuild meanwhile does not change what
// runs). Thread-safe.
class InitProgram {
 public:
  explicit InitProgram(const std::string& path);  // throws IoError when it cannot be opened
  ~InitProgram();
  InitProgram(const InitProgram&) = delete;
  InitProgram& operator=(const InitProgram&) = delete;

  // Starts an init in a new process made with `namespace_flags` (0 for none):
  // it reads its plan from `plan_fd` and reports failures to `report_fd`; the
  // descriptors in `inherit`, `plan_fd` and `report_fd` stay open across
  // execve (the init closes any other that is not close-on-exec first thing).
  // With a new user namespace it keeps the namespace's capabilities across
  // execve (ambient set), and drops them for the program. Returns the pid, or
  // -1 with *error when the init could not be started.
  pid_t start(unsigned long namespace_flags, int plan_fd, int report_fd, const std::vector<int>& inherit,
              std::string* error) const;
  // SIGKILLs every process of host uid `uid` (the Landlock tier's per-run uid;
  // needs root): an init in kill mode takes that uid and kill(-1)s, which
  // reaches exactly the processes the uid may signal, escaped ones included.
  void kill_uid(uid_t uid) const;
  const std::string& path() const { return path_; }

 private:
  pid_t spawn(char* const* argv, unsigned long namespace_flags, const std::vector<int>& inherit, std::string* error) const;

  std::string path_;
  int fd_ = -1;
};

}  // namespace grpo::sandbox::internal
