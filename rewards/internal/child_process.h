// child_process.h (rewards internal): a child process whose stdin and stdout
// are one Unix socket, so that writing to a dead child returns EPIPE instead
// of raising SIGPIPE (send with MSG_NOSIGNAL), with no process-wide signal
// setup. stderr is inherited: a Python traceback shows up in our log.
// Not thread-safe; the owner serialises use.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <string>
#include <vector>

namespace grpo::rewards::internal {

class ChildProcess {
 public:
  // Starts argv[0] (looked up in PATH) with `extra_env` ("KEY=VALUE") added.
  // Throws grpo::Error naming the program when it cannot be started.
  ChildProcess(const std::vector<std::string>& argv, const std::vector<std::string>& extra_env);
  ~ChildProcess();  // kills and reaps the child
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  using Deadline = std::chrono::steady_clock::time_point;
  enum class Io { kOk, kTimeout, kClosed };

  // Writes all of `data` while collecting complete output lines into `lines`
  // (so neither side blocks on a full buffer). kClosed when the child is gone.
  Io write_all(const std::string& data, std::vector<std::string>* lines, Deadline deadline);
  // Reads until at least `want` lines are collected in total.
  Io read_lines(size_t want, std::vector<std::string>* lines, Deadline deadline);

  // Exit description once the child has ended ("exit status 1", "killed by signal 9"), else "".
  std::string exit_description();
  void kill_now();
  pid_t pid() const { return pid_; }

 private:
  bool pump_read(std::vector<std::string>* lines);  // false on EOF/error

  pid_t pid_ = -1;
  int fd_ = -1;
  std::string partial_;  // output after the last newline
  int status_ = 0;
  bool reaped_ = false;
};

}  // namespace grpo::rewards::internal
