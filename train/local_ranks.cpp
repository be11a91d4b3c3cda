// local_ranks.cpp: see local_ranks.h. fork + execve of /proc/self/exe with
// the argv of /proc/self/cmdline; everything the child needs is built before fork.
#include "train/local_ranks.h"

#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <string>

#include "core/error.h"
#include "core/loopback_port.h"

extern char** environ;

namespace grpo::train {
namespace {

std::vector<std::string> own_command_line() {
  std::ifstream in("/proc/self/cmdline", std::ios::binary);
  std::string all((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::vector<std::string> args;
  for (size_t start = 0; start < all.size();) {
    size_t end = all.find('\0', start);
    if (end == std::string::npos) end = all.size();
    args.push_back(all.substr(start, end - start));
    start = end + 1;
  }
  if (args.empty()) throw Error("--nproc: cannot read this process's command line (/proc/self/cmdline)");
  return args;
}

std::vector<char*> pointers(std::vector<std::string>& strings) {
  std::vector<char*> out;
  for (auto& s : strings) out.push_back(s.data());
  out.push_back(nullptr);
  return out;
}

}  // namespace

LocalRanks::LocalRanks(int nproc) {
  const std::string port = std::to_string(free_loopback_port("--nproc (learner rendezvous)"));
  const std::string world = std::to_string(nproc);
  ::setenv("RANK", "0", 1);
  ::setenv("LOCAL_RANK", "0", 1);  // one host: rank r takes cuda:r when the model is on CUDA
  ::setenv("WORLD_SIZE", world.c_str(), 1);
  ::setenv("MASTER_ADDR", "127.0.0.1", 1);
  ::setenv("MASTER_PORT", port.c_str(), 1);
  std::vector<std::string> args = own_command_line();
  std::vector<char*> argv = pointers(args);
  const pid_t parent = ::getpid();
  for (int rank = 1; rank < nproc; ++rank) {
    std::vector<std::string> env;
    for (char** e = environ; *e != nullptr; ++e)
      if (std::strncmp(*e, "RANK=", 5) != 0 && std::strncmp(*e, "LOCAL_RANK=", 11) != 0) env.emplace_back(*e);
    env.push_back("RANK=" + std::to_string(rank));
    env.push_back("LOCAL_RANK=" + std::to_string(rank));
    std::vector<char*> envp = pointers(env);
    const pid_t pid = ::fork();
    if (pid < 0) throw Error(std::string("--nproc: fork failed: ") + std::strerror(errno));
    if (pid == 0) {
      ::prctl(PR_SET_PDEATHSIG, SIGKILL);
      if (::getppid() != parent) ::_exit(1);
      ::execve("/proc/self/exe", argv.data(), envp.data());
      ::_exit(127);
    }
    pids_.push_back(pid);
  }
}

LocalRanks::~LocalRanks() {
  for (pid_t pid : pids_) {
    ::kill(pid, SIGKILL);
    ::waitpid(pid, nullptr, 0);
  }
}

void LocalRanks::wait() {
  std::string failed;
  for (size_t i = 0; i < pids_.size(); ++i) {
    int status = 0;
    if (::waitpid(pids_[i], &status, 0) < 0) continue;
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
      failed += " rank " + std::to_string(i + 1) +
                (WIFSIGNALED(status) ? " (signal " + std::to_string(WTERMSIG(status)) + ")"
                                     : " (exit " + std::to_string(WEXITSTATUS(status)) + ")");
  }
  pids_.clear();
  if (!failed.empty()) throw Error("--nproc: learner ranks failed:" + failed + "; their errors are above");
}

}  // namespace grpo::train
