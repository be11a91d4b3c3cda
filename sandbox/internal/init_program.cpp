// init_program.cpp: finding and starting grpo-sandbox-init (see init_program.h).
#include "sandbox/internal/init_program.h"

#include <fcntl.h>
#include <linux/capability.h>
#include <sched.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "core/error.h"
#include "sandbox/internal/vfork_clone.h"

namespace grpo::sandbox::internal {
namespace {

constexpr const char* kInitName = "grpo-sandbox-init";

// What the child of vfork_clone() needs; it writes `error` (our memory) when execve fails.
struct StartArgs {
  int exe_fd;
  const int* inherit;
  size_t inherit_count;
  bool keep_capabilities;
  char* const* argv;
  char* const* envp;
  int error;
};

// Runs in the child, on our memory: system calls only (see vfork_clone.h).
int start_child(void* p) {
  StartArgs* a = static_cast<StartArgs*>(p);
  for (size_t i = 0; i < a->inherit_count; ++i) {
    if (syscall(SYS_fcntl, a->inherit[i], F_SETFD, 0) != 0) {
      a->error = errno;
      _exit(127);
    }
  }
  if (a->keep_capabilities) {
    // A new user namespace gives us every capability in it, but execve by a uid
    // that is not the namespace's root clears them; the ambient set keeps them.
    __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
    __user_cap_data_struct data[2];
    if (syscall(SYS_capget, &header, data) != 0) {
      a->error = errno;
      _exit(127);
    }
    data[0].inheritable = data[0].permitted;
    data[1].inheritable = data[1].permitted;
    if (syscall(SYS_capset, &header, data) != 0) {
      a->error = errno;
      _exit(127);
    }
    for (long cap = 0; cap < 64; ++cap) syscall(SYS_prctl, PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, cap, 0, 0);  // EINVAL past the last
  }
  syscall(SYS_execveat, a->exe_fd, "", a->argv, a->envp, AT_EMPTY_PATH);
  a->error = errno;
  _exit(127);
}

}  // namespace

std::string find_init_program(std::string* why) {
  std::vector<std::string> candidates;
  std::error_code ec;
  std::filesystem::path self = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (!ec) candidates.push_back((self.parent_path() / kInitName).string());
  candidates.push_back(GRPO_SANDBOX_INIT_BUILD_PATH);  // set by sandbox/CMakeLists.txt
  for (const std::string& c : candidates) {
    if (::access(c.c_str(), X_OK) == 0) return c;
  }
  *why = std::string(kInitName) + " not found at " + candidates.front() +
         (candidates.size() > 1 ? " nor at " + candidates.back() : "") +
         "; build it (ninja -C build grpo-sandbox-init) and keep it next to the grpo binary";
  return "";
}

InitProgram::InitProgram(const std::string& path) : path_(path) {
  fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd_ < 0) throw IoError(path, std::string("cannot open the sandbox init program: ") + std::strerror(errno));
}

InitProgram::~InitProgram() { ::close(fd_); }

pid_t InitProgram::spawn(char* const* argv, unsigned long namespace_flags, const std::vector<int>& inherit,
                         std::string* error) const {
  char* envp[] = {nullptr};
  StartArgs args{fd_, inherit.data(), inherit.size(), (namespace_flags & CLONE_NEWUSER) != 0, argv, envp, 0};
  pid_t pid = vfork_clone(start_child, &args, namespace_flags);
  if (pid < 0) {
    *error = std::string("clone: ") + std::strerror(errno);
    return -1;
  }
  if (args.error != 0) {
    ::waitpid(pid, nullptr, 0);
    *error = "starting the sandbox init " + path_ + ": " + std::strerror(args.error);
    return -1;
  }
  return pid;
}

pid_t InitProgram::start(unsigned long namespace_flags, int plan_fd, int report_fd, const std::vector<int>& inherit,
                         std::string* error) const {
  // Everything the child reads is prepared here: it may not allocate.
  std::string plan_arg = std::to_string(plan_fd), report_arg = std::to_string(report_fd);
  // argv[0] is what /proc/1/cmdline shows inside: no host path.
  char name[] = "sandbox-init";
  char* argv[] = {name, plan_arg.data(), report_arg.data(), nullptr};
  std::vector<int> fds = inherit;
  fds.push_back(plan_fd);
  fds.push_back(report_fd);
  return spawn(argv, namespace_flags, fds, error);
}

void InitProgram::kill_uid(uid_t uid) const {
  char name[] = "sandbox-init", mode[] = "kill-uid";
  std::string uid_arg = std::to_string(uid);
  char* argv[] = {name, mode, uid_arg.data(), nullptr};
  std::string error;
  pid_t pid = spawn(argv, 0, {}, &error);
  if (pid > 0) ::waitpid(pid, nullptr, 0);  // a failed start leaves the cgroup and process walk to do it
}

}  // namespace grpo::sandbox::internal
