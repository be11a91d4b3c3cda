// The hostile-program suite: each program attacks the sandbox or the host; each
// test asserts the verdict and that the host is unharmed afterwards (no process
// left: the test process is a subreaper, so even escaped ones would be its
// descendants; host files untouched). Runs on both tiers: the
// namespace tier and the weaker Landlock tier (forced here even though this
// host allows namespaces, so CI covers both).
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <future>
#include <thread>

#include "sandbox_fixture.h"
#include "tests/support/test_env.h"

namespace grpo::sandbox::testing {
namespace {

class HostileTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    adopt_orphans();
    canary_ = dir_.file("canary.txt");
    grpo::testing::write_file(canary_, "host data");
  }
  void TearDown() override {
    EXPECT_EQ(live_descendants(), 0) << "a sandboxed process outlived its run";
    EXPECT_EQ(grpo::testing::read_file(canary_), "host data");
  }
  Execution run(const std::string& source, const Limits& limits = short_limits()) {
    Execution e = run_python(GetParam(), source, "", limits);
    EXPECT_NE(e.verdict, Verdict::kSandboxError) << e.detail;
    return e;
  }
  grpo::testing::TempDir dir_;
  std::string canary_;
};

TEST_P(HostileTest, InfiniteLoopHitsCpuLimit) {
  Execution e = run("while True:\n    pass\n");
  EXPECT_EQ(e.verdict, Verdict::kTimeLimit) << show_execution(e);
}

TEST_P(HostileTest, SleepHitsWallClock) {
  Execution e = run("import time\ntime.sleep(100)\n");
  EXPECT_EQ(e.verdict, Verdict::kTimeLimit) << show_execution(e);
  EXPECT_NE(e.detail.find("wall clock"), std::string::npos) << show_execution(e);
}

TEST_P(HostileTest, MemoryBombHitsMemoryLimit) {
  Execution e = run("a = []\nwhile True:\n    a.append(b'x' * 10**7)\n");
  EXPECT_EQ(e.verdict, Verdict::kMemoryLimit) << show_execution(e);
}

TEST_P(HostileTest, ForkBombIsContained) {
  Execution e = run("import os\nwhile True:\n    try:\n        os.fork()\n    except OSError:\n        pass\n");
  EXPECT_EQ(e.verdict, Verdict::kTimeLimit) << show_execution(e);
}

TEST_P(HostileTest, ThreadBombStopsAtProcessLimit) {
  Execution e = run(
      "import threading, time\nn = 0\ntry:\n    while n < 10000:\n"
      "        threading.Thread(target=time.sleep, args=(100,), daemon=True).start()\n        n += 1\n"
      "except Exception:\n    pass\nprint(n)\n");
  EXPECT_EQ(e.verdict, Verdict::kOk) << show_execution(e);
  EXPECT_LT(std::atoi(e.stdout_text.c_str()), short_limits().max_processes) << show_execution(e);
}

TEST_P(HostileTest, HugeOutputHitsOutputLimit) {
  Execution e = run("while True:\n    print('x' * 1000)\n");
  EXPECT_EQ(e.verdict, Verdict::kOutputLimit) << show_execution(e);
  EXPECT_EQ(e.stdout_text.size(), static_cast<size_t>(short_limits().stdout_kb) * 1024);
}

TEST_P(HostileTest, WritingOutsideTheWorkingDirectoryFails) {
  const std::string target = dir_.file("planted.txt");
  Execution e = run("import os\nfor p in ['" + target + "', '" + canary_ + "', '/usr/planted', '/etc/planted', '/planted']:\n"
                    "    try:\n        open(p, 'w').write('x')\n        print('wrote', p)\n"
                    "    except OSError as e:\n        print('denied')\n"
                    "open('here.txt', 'w').write('ok')\nprint(open('here.txt').read())\n");
  EXPECT_EQ(e.verdict, Verdict::kOk) << show_execution(e);
  EXPECT_EQ(e.stdout_text, "denied\ndenied\ndenied\ndenied\ndenied\nok\n") << show_execution(e);
  EXPECT_FALSE(std::ifstream(target).good());
}

TEST_P(HostileTest, HostFilesAndEnvironmentSecretsAreHidden) {
  ::setenv("GRPO_TEST_SECRET", "hunter2-secret", 1);
  Execution e = run("import os\nprint(sorted(os.environ.items()))\n"
                    "for p in ['/etc/shadow', '/etc/passwd', '/root/.bashrc', '" + canary_ + "']:\n"
                    "    try:\n        print(open(p).read()[:20])\n    except OSError:\n        print('hidden')\n");
  ::unsetenv("GRPO_TEST_SECRET");
  EXPECT_EQ(e.verdict, Verdict::kOk) << show_execution(e);
  EXPECT_EQ(e.stdout_text.find("hunter2"), std::string::npos) << show_execution(e);
  EXPECT_EQ(e.stdout_text.find("host data"), std::string::npos) << show_execution(e);
  EXPECT_NE(e.stdout_text.find("hidden\nhidden\nhidden\nhidden\n"), std::string::npos) << show_execution(e);
}

TEST_P(HostileTest, NetworkIsBlocked) {
  // A listener on the host's loopback: nothing may reach it.
  int listener = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(listener, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ASSERT_EQ(::listen(listener, 4), 0);
  socklen_t len = sizeof addr;
  ::getsockname(listener, reinterpret_cast<sockaddr*>(&addr), &len);
  const std::string port = std::to_string(ntohs(addr.sin_port));
  Execution e = run(
      "import socket\nfor fam, host in [(socket.AF_INET, '127.0.0.1'), (socket.AF_INET, '127.0.0.1'), (socket.AF_INET6, '::1')]:\n"
      "    try:\n        s = socket.socket(fam, socket.SOCK_STREAM)\n        s.settimeout(0.5)\n"
      "        s.connect((host, " + port + "))\n        print('connected')\n"
      "    except OSError as e:\n        print('blocked')\n"
      "try:\n    socket.socket(socket.AF_INET, socket.SOCK_DGRAM).sendto(b'x', ('127.0.0.1', 9))\n    print('sent')\n"
      "except OSError:\n    print('blocked')\n");
  EXPECT_EQ(e.verdict, Verdict::kOk) << show_execution(e);
  EXPECT_EQ(e.stdout_text, "blocked\nblocked\nblocked\nblocked\n") << show_execution(e);
  EXPECT_LT(::accept(listener, nullptr, nullptr), 0) << "a sandboxed program reached the host's loopback";
  ::close(listener);
}

TEST_P(HostileTest, KillingTheParentFails) {
  const std::string host_pid = std::to_string(::getpid());
  Execution e = run("import os, signal\nfor pid in [os.getppid(), 1, " + host_pid + "]:\n"
                    "    try:\n        os.kill(pid, signal.SIGKILL)\n    except OSError:\n        pass\n"
                    "try:\n    os.kill(-1, signal.SIGKILL)\nexcept OSError:\n    pass\nprint('still here')\n");
  // kill(-1) may take the program itself down; either way the host lives and the verdict is not a sandbox error.
  EXPECT_TRUE(e.verdict == Verdict::kOk || e.verdict == Verdict::kRuntimeError) << show_execution(e);
  EXPECT_EQ(::kill(::getpid(), 0), 0);
}

TEST_P(HostileTest, DaemonisedChildDiesWithTheRun) {
  Execution e = run("import os, time\nif os.fork() == 0:\n    os.setsid()\n    if os.fork() == 0:\n"
                    "        time.sleep(60)\n    os._exit(0)\nprint('parent done')\n");
  EXPECT_EQ(e.verdict, Verdict::kOk) << show_execution(e);
  EXPECT_EQ(e.stdout_text, "parent done\n");
  // TearDown: no process of the sandbox uids is left.
}

TEST_P(HostileTest, ProcShowsNoHostProcess) {
  Execution e = run("import os\ntry:\n    pids = [p for p in os.listdir('/proc') if p.isdigit()]\n    print(len(pids))\n"
                    "    for p in pids:\n        try:\n            print(open('/proc/%s/cmdline' % p, 'rb').read())\n"
                    "        except OSError:\n            pass\n        try:\n"
                    "            print(open('/proc/%s/environ' % p, 'rb').read())\n        except OSError:\n            pass\n"
                    "except OSError:\n    print('no proc')\n");
  EXPECT_EQ(e.verdict, Verdict::kOk) << show_execution(e);
  EXPECT_EQ(e.stdout_text.find("sandbox_tests"), std::string::npos) << show_execution(e);
  EXPECT_EQ(e.stdout_text.find("GRPO_"), std::string::npos) << show_execution(e);
  if (e.stdout_text != "no proc\n") EXPECT_LE(std::atoi(e.stdout_text.c_str()), 3) << show_execution(e);
}

TEST_P(HostileTest, PtraceIsBlocked) {
  Execution e = run("import ctypes\nlibc = ctypes.CDLL(None)\nprint(libc.ptrace(0, 0, 0, 0))\n");
  EXPECT_EQ(e.verdict, Verdict::kBlocked) << show_execution(e);
}

TEST_P(HostileTest, ManyFilesAreBounded) {
  Execution e = run("n = 0\ntry:\n    while n < 100000:\n        open('f%d' % n, 'w').close()\n        n += 1\n"
                    "except OSError:\n    pass\nprint(n)\n");
  EXPECT_TRUE(e.verdict == Verdict::kOk || e.verdict == Verdict::kTimeLimit) << show_execution(e);
  if (GetParam() == "namespace") EXPECT_LT(std::atoi(e.stdout_text.c_str()), 100000) << show_execution(e);
}

TEST_P(HostileTest, SymlinkTricksStayInside) {
  Execution e = run("import os\nfor i, t in enumerate(['/etc/shadow', '" + canary_ + "', '/proc/1/root/etc/shadow', '../../../../../../etc/shadow']):\n"
                    "    os.symlink(t, 'l%d' % i)\n    try:\n        print(open('l%d' % i).read()[:20])\n"
                    "    except OSError:\n        print('no')\n");
  EXPECT_EQ(e.verdict, Verdict::kOk) << show_execution(e);
  EXPECT_EQ(e.stdout_text, "no\nno\nno\nno\n") << show_execution(e);
}

TEST_P(HostileTest, ClosingStdoutIsFine) {
  Execution e = run("import os\nprint('before', flush=True)\nos.close(1)\nos.close(2)\n");
  EXPECT_EQ(e.verdict, Verdict::kOk) << show_execution(e);
  EXPECT_EQ(e.stdout_text, "before\n");
}

TEST_P(HostileTest, BinaryOutputIsKeptExactly) {
  Execution e = run("import sys\nsys.stdout.buffer.write(bytes(range(256)) * 4)\n");
  EXPECT_EQ(e.verdict, Verdict::kOk) << show_execution(e);
  std::string expected;
  for (int r = 0; r < 4; ++r)
    for (int i = 0; i < 256; ++i) expected.push_back(static_cast<char>(i));
  EXPECT_EQ(e.stdout_text, expected);
  EXPECT_NO_THROW(e.to_json().dump());
}

TEST_P(HostileTest, DeepRecursionEndsInAVerdict) {
  // Python 3.11 keeps Python frames on the heap: unbounded recursion exhausts memory or the C stack.
  Execution e = run("import sys\nsys.setrecursionlimit(10**9)\ndef f(n):\n    return f(n + 1) + 1\nf(0)\n");
  EXPECT_TRUE(e.verdict == Verdict::kRuntimeError || e.verdict == Verdict::kMemoryLimit) << show_execution(e);
}

TEST_P(HostileTest, HostileRunDoesNotDisturbAConcurrentOne) {
  auto bomb = std::async(std::launch::async, [&] {
    return run_python(GetParam(), "import os\nwhile True:\n    try:\n        os.fork()\n    except OSError:\n        pass\n");
  });
  auto memory = std::async(std::launch::async, [&] { return run_python(GetParam(), "a = []\nwhile True:\n    a.append(b'x' * 10**7)\n"); });
  Execution good = run("import sys\nprint(sum(int(x) for x in sys.stdin.read().split()) if False else 42)\n");
  EXPECT_EQ(good.verdict, Verdict::kOk) << show_execution(good);
  EXPECT_EQ(good.stdout_text, "42\n");
  EXPECT_EQ(bomb.get().verdict, Verdict::kTimeLimit);
  EXPECT_EQ(memory.get().verdict, Verdict::kMemoryLimit);
}

INSTANTIATE_TEST_SUITE_P(Tiers, HostileTest, ::testing::Values("namespace", "landlock"),
                         [](const auto& info) { return info.param == "namespace" ? "Namespace" : "Landlock"; });

}  // namespace
}  // namespace grpo::sandbox::testing
