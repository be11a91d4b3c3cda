// The init of every run is grpo-sandbox-init, a small program of its own
// (sandbox/internal/init_program.h): not a copy of the host however big the
// host is, and the program it starts gets a clean slate (no capabilities, no
// blocked or host-ignored signals). Both tiers.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <fstream>
#include <future>
#include <sstream>
#include <thread>

#include "sandbox/internal/init_program.h"
#include "sandbox/internal/launch_plan.h"
#include "sandbox/internal/process_tree.h"
#include "sandbox_fixture.h"

namespace grpo::sandbox::testing {
namespace {

class InitProgramTest : public ::testing::TestWithParam<std::string> {};

// `key:` of /proc/<pid>/status ("" when the process is gone).
std::string status_field(pid_t pid, const std::string& key) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.compare(0, key.size() + 1, key + ":") != 0) continue;
    std::istringstream value(line.substr(key.size() + 1));
    std::string first;
    value >> first;
    return first;
  }
  return "";
}

// Like a trainer holding a model: 1 GiB of touched memory in this process.
// The init of a run must be its own few MiB (a fork()ed init would share
// the whole address space, and copying its page tables is what made runs slow).
TEST_P(InitProgramTest, InitIsItsOwnSmallProgramEvenFromABigHost) {
  constexpr size_t kHostBytes = size_t{1} << 30;
  void* big = mmap(nullptr, kHostBytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  ASSERT_NE(big, MAP_FAILED);
  for (size_t i = 0; i < kHostBytes; i += 4096) static_cast<volatile char*>(big)[i] = 1;
  auto running = std::async(std::launch::async, [&] { return run_python(GetParam(), "import time\ntime.sleep(1)\nprint('done')\n"); });
  // Find the init among our descendants while the program sleeps.
  std::string name, vm_size_kb;
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(2);
  while (vm_size_kb.empty() && std::chrono::steady_clock::now() < give_up) {
    for (pid_t p : internal::descendants(getpid())) {
      if (status_field(p, "Name") != "sandbox-init") continue;
      name = "sandbox-init";
      vm_size_kb = status_field(p, "VmSize");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  Execution e = running.get();
  munmap(big, kHostBytes);
  EXPECT_EQ(e.verdict, Verdict::kOk) << show_execution(e);
  EXPECT_EQ(e.stdout_text, "done\n") << show_execution(e);
  ASSERT_EQ(name, "sandbox-init") << "no process named sandbox-init ran the program";
  ASSERT_FALSE(vm_size_kb.empty());
  EXPECT_LT(std::stoll(vm_size_kb), 64 * 1024) << "the init's address space is not its own";
}

// The namespace tier's init holds every capability of its namespace (kept
// across execve in the ambient set); none may reach the program.
TEST_P(InitProgramTest, ProgramHoldsNoCapabilities) {
  Execution e = run_python(GetParam(),
                           "import ctypes\nlibc = ctypes.CDLL(None)\n"
                           "class Header(ctypes.Structure):\n    _fields_ = [('version', ctypes.c_uint32), ('pid', ctypes.c_int)]\n"
                           "class Data(ctypes.Structure):\n    _fields_ = [('effective', ctypes.c_uint32), ('permitted', ctypes.c_uint32), ('inheritable', ctypes.c_uint32)]\n"
                           "h = Header(0x20080522, 0)\nd = (Data * 2)()\n"
                           "print(libc.capget(ctypes.byref(h), d), [(x.effective, x.permitted, x.inheritable) for x in d])\n"
                           "print([c for c in range(64) if libc.prctl(47, 1, c, 0, 0) == 1])\n");  // PR_CAP_AMBIENT_IS_SET
  EXPECT_EQ(e.verdict, Verdict::kOk) << show_execution(e);
  EXPECT_EQ(e.stdout_text, "0 [(0, 0, 0), (0, 0, 0)]\n[]\n") << show_execution(e);
}

// The host blocks every signal around the clone, and may ignore some (nohup
// ignores SIGHUP); the program starts with none blocked and default actions.
TEST_P(InitProgramTest, ProgramStartsWithDefaultSignals) {
  struct sigaction ignore{}, old{};
  ignore.sa_handler = SIG_IGN;
  ASSERT_EQ(sigaction(SIGHUP, &ignore, &old), 0);
  Execution e = run_python(GetParam(), "import signal\nprint(sorted(signal.pthread_sigmask(signal.SIG_BLOCK, [])))\n"
                                       "print(signal.getsignal(signal.SIGHUP) == signal.SIG_DFL)\n");
  sigaction(SIGHUP, &old, nullptr);
  EXPECT_EQ(e.verdict, Verdict::kOk) << show_execution(e);
  EXPECT_EQ(e.stdout_text, "[]\nTrue\n") << show_execution(e);
}

INSTANTIATE_TEST_SUITE_P(Tiers, InitProgramTest, ::testing::Values("namespace", "landlock"),
                         [](const auto& info) { return info.param == "namespace" ? "Namespace" : "Landlock"; });

// An init program from another build must say so, not misread the plan.
TEST(InitProgramStartTest, InitRefusesAPlanOfAnotherFormat) {
  std::string why;
  internal::InitProgram init(internal::find_init_program(&why));
  int plan_fd = memfd_create("plan", MFD_CLOEXEC);
  ASSERT_GE(plan_fd, 0);
  std::string bytes = internal::encode_plan(internal::LaunchPlan{});
  bytes[8] ^= 1;  // the format number, right after the 8-byte tag
  ASSERT_EQ(write(plan_fd, bytes.data(), bytes.size()), static_cast<ssize_t>(bytes.size()));
  int report[2];
  ASSERT_EQ(pipe2(report, O_CLOEXEC), 0);
  std::string error;
  pid_t pid = init.start(0, plan_fd, report[1], {}, &error);
  ASSERT_GT(pid, 0) << error;
  close(report[1]);
  close(plan_fd);
  internal::InitReport r{};
  EXPECT_EQ(read(report[0], &r, sizeof r), static_cast<ssize_t>(sizeof r));
  close(report[0]);
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  EXPECT_EQ(r.setup_step, internal::kStepPlan);
  EXPECT_EQ(r.setup_errno, EPROTO);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 127) << status;
}

// The Landlock tier's last sweep (as root): every process of the run's uid
// dies, whoever its parent. Not root: the init cannot take another uid, and
// so kills nothing.
TEST(InitProgramStartTest, KillUidKillsEveryProcessOfThatUidOnly) {
  constexpr uid_t kUid = 61999;  // below every run uid (sandbox_uid 62000, + 1 + slot in the Landlock tier)
  const bool root = geteuid() == 0;
  pid_t victim = fork();
  ASSERT_GE(victim, 0);
  if (victim == 0) {
    if (root && (syscall(SYS_setresgid, kUid, kUid, kUid) != 0 || syscall(SYS_setresuid, kUid, kUid, kUid) != 0)) _exit(3);
    pause();
    _exit(0);
  }
  const auto started = std::chrono::steady_clock::now() + std::chrono::seconds(2);
  while ((root ? status_field(victim, "Uid") != std::to_string(kUid) : status_field(victim, "Name").empty()) &&
         std::chrono::steady_clock::now() < started)
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  std::string why;
  internal::InitProgram(internal::find_init_program(&why)).kill_uid(kUid);
  int status = 0;
  pid_t waited = 0;
  for (int i = 0; i < 200 && (waited = waitpid(victim, &status, WNOHANG)) == 0; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  if (root) {
    ASSERT_EQ(waited, victim) << "the process of uid " << kUid << " survived";
    EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) << status;
  } else {
    EXPECT_EQ(waited, 0) << "a process of our own uid was killed";
    ::kill(victim, SIGKILL);
    waitpid(victim, &status, 0);
  }
}

}  // namespace
}  // namespace grpo::sandbox::testing
