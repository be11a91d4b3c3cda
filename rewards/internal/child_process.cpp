// child_process.cpp: see child_process.h.
#include "rewards/internal/child_process.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "core/error.h"

extern char** environ;

namespace grpo::rewards::internal {

namespace {

int millis_until(ChildProcess::Deadline deadline) {
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now()).count();
  return left <= 0 ? 0 : static_cast<int>(std::min<long long>(left, 1000 * 60 * 60));
}

}  // namespace

ChildProcess::ChildProcess(const std::vector<std::string>& argv, const std::vector<std::string>& extra_env) {
  if (argv.empty()) throw Error("reward command: empty command");
  int sv[2];
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0)
    throw Error(std::string("reward command: socketpair failed: ") + std::strerror(errno));
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, sv[1], 0);
  posix_spawn_file_actions_adddup2(&actions, sv[1], 1);
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  std::vector<std::string> env_storage;
  for (char** e = environ; e && *e; ++e) env_storage.emplace_back(*e);
  for (const auto& e : extra_env) env_storage.push_back(e);
  std::vector<char*> env;
  for (auto& e : env_storage) env.push_back(e.data());
  env.push_back(nullptr);
  int rc = posix_spawnp(&pid_, args[0], &actions, nullptr, args.data(), env.data());
  posix_spawn_file_actions_destroy(&actions);
  close(sv[1]);
  if (rc != 0) {
    close(sv[0]);
    throw Error("reward command: cannot start '" + argv[0] + "': " + std::strerror(rc) +
                " (is it installed and on PATH? paths are relative to the working directory)");
  }
  fd_ = sv[0];
  fcntl(fd_, F_SETFL, fcntl(fd_, F_GETFL) | O_NONBLOCK);
}

ChildProcess::~ChildProcess() {
  kill_now();
  if (fd_ >= 0) close(fd_);
}

void ChildProcess::kill_now() {
  if (pid_ > 0 && !reaped_) {
    ::kill(pid_, SIGKILL);
    if (waitpid(pid_, &status_, 0) == pid_) reaped_ = true;
  }
}

std::string ChildProcess::exit_description() {
  if (!reaped_ && pid_ > 0) {
    // The socket closed: the child is exiting; reap it (blocks only briefly).
    if (waitpid(pid_, &status_, 0) == pid_) reaped_ = true;
  }
  if (!reaped_) return "";
  if (WIFEXITED(status_)) return "exit status " + std::to_string(WEXITSTATUS(status_));
  if (WIFSIGNALED(status_)) return "killed by signal " + std::to_string(WTERMSIG(status_));
  return "ended";
}

bool ChildProcess::pump_read(std::vector<std::string>* lines) {
  char buf[65536];
  for (;;) {
    ssize_t n = recv(fd_, buf, sizeof buf, 0);
    if (n > 0) {
      partial_.append(buf, static_cast<size_t>(n));
      size_t start = 0, nl;
      while ((nl = partial_.find('\n', start)) != std::string::npos) {
        lines->push_back(partial_.substr(start, nl - start));
        start = nl + 1;
      }
      partial_.erase(0, start);
      continue;
    }
    if (n == 0) return false;
    if (errno == EAGAIN || errno == EWOULDBLOCK) return true;
    if (errno == EINTR) continue;
    return false;
  }
}

ChildProcess::Io ChildProcess::write_all(const std::string& data, std::vector<std::string>* lines, Deadline deadline) {
  size_t sent = 0;
  while (sent < data.size()) {
    pollfd p{fd_, POLLIN | POLLOUT, 0};
    int rc = poll(&p, 1, millis_until(deadline));
    if (rc == 0) return Io::kTimeout;
    if (rc < 0) {
      if (errno == EINTR) continue;
      return Io::kClosed;
    }
    if (p.revents & POLLIN) {
      if (!pump_read(lines)) return Io::kClosed;
    }
    if (p.revents & POLLOUT) {
      ssize_t n = send(fd_, data.data() + sent, data.size() - sent, MSG_NOSIGNAL);
      if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) return Io::kClosed;
      if (n > 0) sent += static_cast<size_t>(n);
    }
    if ((p.revents & (POLLHUP | POLLERR)) && !(p.revents & POLLIN)) return Io::kClosed;
  }
  return Io::kOk;
}

ChildProcess::Io ChildProcess::read_lines(size_t want, std::vector<std::string>* lines, Deadline deadline) {
  while (lines->size() < want) {
    pollfd p{fd_, POLLIN, 0};
    int rc = poll(&p, 1, millis_until(deadline));
    if (rc == 0) return Io::kTimeout;
    if (rc < 0) {
      if (errno == EINTR) continue;
      return Io::kClosed;
    }
    if (!pump_read(lines)) return lines->size() >= want ? Io::kOk : Io::kClosed;
  }
  return Io::kOk;
}

}  // namespace grpo::rewards::internal
