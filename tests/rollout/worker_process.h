// worker_process.h: a `grpo rollout-worker` child process for tests, killed
// (SIGKILL) and reaped on destruction. Its stderr goes to a log file.
#pragma once

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "tests/support/test_env.h"

namespace grpo::testing {

class WorkerProcess {
 public:
  WorkerProcess(const std::vector<std::string>& args, const std::string& log_path) {
    std::vector<std::string> argv_s = {grpo_binary(), "--log-level", "debug", "rollout-worker"};
    argv_s.insert(argv_s.end(), args.begin(), args.end());
    pid_ = fork();
    if (pid_ == 0) {
      FILE* log = fopen(log_path.c_str(), "w");
      if (log) {
        dup2(fileno(log), 2);
        dup2(fileno(log), 1);
      }
      std::vector<char*> argv;
      for (auto& a : argv_s) argv.push_back(a.data());
      argv.push_back(nullptr);
      setenv("OMP_NUM_THREADS", "1", 1);
      execv(argv[0], argv.data());
      _exit(127);
    }
  }
  ~WorkerProcess() { kill_now(); }
  WorkerProcess(const WorkerProcess&) = delete;
  WorkerProcess& operator=(const WorkerProcess&) = delete;

  pid_t pid() const { return pid_; }
  void kill_now() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGKILL);
    int status = 0;
    waitpid(pid_, &status, 0);
    pid_ = -1;
  }

 private:
  pid_t pid_ = -1;
};

}  // namespace grpo::testing
