// isolated_runner.cpp: host side of a sandboxed run (see isolated_runner.h).
#include "sandbox/isolated_runner.h"

#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <thread>

#include "core/error.h"
#include "sandbox/internal/cgroup.h"
#include "sandbox/internal/init_program.h"
#include "sandbox/internal/landlock.h"
#include "sandbox/internal/process_tree.h"
#include "sandbox/internal/seccomp_filter.h"

namespace grpo::sandbox {
namespace {

using internal::InitReport;
constexpr uid_t kInnerId = 1000;  // the program's uid and gid inside the user namespace
constexpr int kMaxSlots = 1024;
constexpr int64_t kKillGraceMs = 3000;  // after a kill, how long the tree may take to die

int64_t now_ms() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(steady_clock::now().time_since_epoch()).count();
}

// Owns a file descriptor.
struct Fd {
  int fd = -1;
  Fd() = default;
  explicit Fd(int f) : fd(f) {}
  ~Fd() { reset(); }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  void reset(int f = -1) {
    if (fd >= 0) ::close(fd);
    fd = f;
  }
};

struct Pipe {
  Fd read, write;
  bool open() {
    int p[2];
    if (pipe2(p, O_CLOEXEC) != 0) return false;
    read.reset(p[0]);
    write.reset(p[1]);
    return true;
  }
};

int make_memfd(const char* name, const std::string& content) {
  int fd = memfd_create(name, MFD_CLOEXEC);
  if (fd < 0) return -1;
  size_t done = 0;
  while (done < content.size()) {
    ssize_t n = ::write(fd, content.data() + done, content.size() - done);
    if (n <= 0) {
      ::close(fd);
      return -1;
    }
    done += static_cast<size_t>(n);
  }
  lseek(fd, 0, SEEK_SET);  // the program reads stdin from the start
  return fd;
}

bool write_text(const std::string& path, const std::string& text) {
  Fd fd(::open(path.c_str(), O_WRONLY | O_CLOEXEC));
  return fd.fd >= 0 && ::write(fd.fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
}

std::string scratch_root(const SandboxConfig& config) {
  std::string base = config.scratch_dir;
  if (base.empty()) {
    const char* tmp = std::getenv("TMPDIR");
    base = tmp && *tmp ? tmp : "/tmp";
  }
  return base + "/grpo-sandbox-" + std::to_string(geteuid());
}

bool contains(const std::string& text, const char* needle) { return text.find(needle) != std::string::npos; }

}  // namespace

IsolatedRunner::IsolatedRunner(SandboxConfig config, SandboxPlan plan)
    : config_(std::move(config)), plan_(std::move(plan)), namespaces_(plan_.tier == "namespace"),
      scratch_(scratch_root(config_)), slot_fds_(kMaxSlots, -1) {
  if (plan_.tier.empty()) throw Error("sandbox: no isolation tier can run here: " + plan_.refusal);
  if (plan_.caps.init_program.empty()) throw Error("sandbox: " + plan_.caps.init_program_detail);
  init_ = std::make_unique<internal::InitProgram>(plan_.caps.init_program);
  std::error_code ec;
  std::filesystem::create_directories(scratch_, ec);
  if (ec) throw IoError(scratch_, "cannot create the sandbox scratch directory: " + ec.message() + "; set sandbox.scratch_dir");
  ::chmod(scratch_.c_str(), 0711);  // the sandbox uid must traverse it (Landlock tier)
  const sock_fprog& seccomp = internal::seccomp_program(!namespaces_);
  base_.seccomp.assign(seccomp.filter, seccomp.filter + seccomp.len);
  base_.namespaces = namespaces_;
  base_.kill_rest_on_exit = namespaces_;
  if (namespaces_) prepare_root();
}

// The namespace tier's root: what the child mounts, as host paths under scratch/root.
void IsolatedRunner::prepare_root() {
  const std::string root = scratch_ + "/root";
  std::error_code ec;
  std::filesystem::create_directories(root, ec);
  if (ec) throw IoError(root, "cannot create the sandbox root mount point: " + ec.message());
  base_.root = root;
  base_.dev_dir = root + "/dev";
  base_.proc_dir = root + "/proc";
  base_.tmp_dir = root + "/tmp";
  base_.work_dir = root + "/work";
  base_.dev_options = "size=64k,nr_inodes=64,mode=0755";
  base_.run_dir = "/work";
  base_.dirs = {root + "/etc", base_.dev_dir, base_.proc_dir, base_.tmp_dir, base_.work_dir};
  base_.binds.push_back({"/usr", root + "/usr", true, true});
  for (const char* top : {"/bin", "/sbin", "/lib", "/lib64", "/lib32", "/libx32"}) {
    struct stat st;
    if (lstat(top, &st) != 0) continue;
    if (S_ISLNK(st.st_mode)) {
      char target[4096];
      ssize_t n = readlink(top, target, sizeof target - 1);
      if (n > 0) base_.symlinks.push_back({std::string(target, static_cast<size_t>(n)), root + top});
    } else if (S_ISDIR(st.st_mode)) {
      base_.binds.push_back({top, root + top, true, true});
    }
  }
  // Only what the dynamic loader and compilers read; no passwd, no secrets.
  for (const char* etc : {"/etc/ld.so.cache", "/etc/alternatives"}) {
    struct stat st;
    if (stat(etc, &st) == 0) base_.binds.push_back({etc, root + etc, S_ISDIR(st.st_mode), true});
  }
  for (const char* dev : {"/dev/null", "/dev/zero", "/dev/urandom", "/dev/random"})
    base_.binds.push_back({dev, root + dev, false, false});
  base_.symlinks.push_back({"/proc/self/fd", root + "/dev/fd"});
  base_.symlinks.push_back({"/proc/self/fd/0", root + "/dev/stdin"});
  base_.symlinks.push_back({"/proc/self/fd/1", root + "/dev/stdout"});
  base_.symlinks.push_back({"/proc/self/fd/2", root + "/dev/stderr"});
}

std::vector<internal::Rlimit> IsolatedRunner::rlimits(const Limits& l) const {
  const rlim_t mb = 1 << 20;
  const bool memcg = !plan_.caps.cgroups.memory_version.empty();
  // With a memory cgroup the address space limit is only a backstop (virtual
  // sizes of runtimes run far above their resident memory).
  const rlim_t address_space = memcg ? static_cast<rlim_t>(l.memory_mb) * 2 * mb + 256 * mb
                                     : static_cast<rlim_t>(l.memory_mb) * mb + 64 * mb;
  const rlim_t stack = std::min<rlim_t>(static_cast<rlim_t>(l.memory_mb), 64) * mb;
  return {
      {RLIMIT_CPU, static_cast<rlim_t>((l.cpu_ms + 999) / 1000)},
      {RLIMIT_AS, address_space},
      {RLIMIT_STACK, stack},  // also the default thread stack size: keep it modest
      {RLIMIT_FSIZE, static_cast<rlim_t>(l.file_mb) * mb},
      {RLIMIT_NOFILE, static_cast<rlim_t>(l.max_open_files)},
      {RLIMIT_NPROC, static_cast<rlim_t>(l.max_processes) + (namespaces_ ? 1 : 0)},  // + init (same uid)
      {RLIMIT_CORE, 0},
      {RLIMIT_MEMLOCK, 64 * 1024},
      {RLIMIT_MSGQUEUE, 0},
  };
}

// Slots (and so Landlock-tier uids) are unique across processes: each is an
// flock()ed file in the scratch directory, held for the run.
int IsolatedRunner::acquire_slot() {
  std::lock_guard<std::mutex> lock(slots_mutex_);
  for (int i = 0; i < kMaxSlots; ++i) {
    if (slot_fds_[i] >= 0) continue;
    std::string path = scratch_ + "/slot-" + std::to_string(i) + ".lock";
    int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) continue;
    if (flock(fd, LOCK_EX | LOCK_NB) == 0) {
      slot_fds_[i] = fd;
      return i;
    }
    ::close(fd);
  }
  throw Error("sandbox: no free Landlock-tier slot among " + std::to_string(kMaxSlots) + " in " + scratch_);
}

void IsolatedRunner::release_slot(int slot) {
  std::lock_guard<std::mutex> lock(slots_mutex_);
  ::close(slot_fds_[slot]);
  slot_fds_[slot] = -1;
}

Execution IsolatedRunner::run(const Program& program, const Limits& limits) {
  std::vector<Execution> out = run_inputs(program, {program.stdin_text}, limits, nullptr);
  return out.front();
}

Execution IsolatedRunner::compile(int source_fd, int binary_fd) {
  // The compiler reads model-written code too: it runs in its own sandbox and
  // the binary comes back through a memfd.
  const std::string no_input;
  Step compile;
  compile.argv = {config_.cxx};
  compile.argv.insert(compile.argv.end(), config_.cxx_flags.begin(), config_.cxx_flags.end());
  compile.argv.insert(compile.argv.end(), {"-o", "main", "main.cpp"});
  compile.files = {{source_fd, "main.cpp", 0644}};
  compile.limits = &config_.compile_limits;
  compile.stdin_text = &no_input;
  compile.out_fd = binary_fd;
  compile.out_name = "main";
  Execution built = run_step(compile);
  if (built.verdict == Verdict::kSandboxError || built.verdict == Verdict::kOk) return built;
  built.detail = "compile: " + std::string(verdict_name(built.verdict)) + (built.detail.empty() ? "" : ": " + built.detail);
  built.verdict = Verdict::kCompileError;
  return built;
}

std::vector<Execution> IsolatedRunner::run_inputs(const Program& program, const std::vector<std::string>& inputs,
                                                  const Limits& limits,
                                                  const std::function<bool(const Execution&, size_t)>& keep_going) {
  std::vector<Execution> out;
  Fd source(make_memfd("source", program.source));
  Fd binary(program.language == Language::kCpp ? memfd_create("binary", MFD_CLOEXEC) : -1);
  if (source.fd < 0 || (program.language == Language::kCpp && binary.fd < 0)) {
    Execution failed;
    failed.detail = std::string("memfd_create: ") + std::strerror(errno);
    return {failed};
  }
  Step step;
  step.limits = &limits;
  if (program.language == Language::kPython) {
    step.argv = {config_.python, "-s", "-B", "main.py"};
    step.files = {{source.fd, "main.py", 0644}};
  } else {
    Execution built = compile(source.fd, binary.fd);
    if (built.verdict != Verdict::kOk) return {built};
    step.argv = {"{work}/main"};
    step.files = {{binary.fd, "main", 0755}};
  }
  for (size_t i = 0; i < inputs.size(); ++i) {
    step.stdin_text = &inputs[i];
    out.push_back(run_step(step));
    if (out.back().verdict == Verdict::kSandboxError) break;
    if (keep_going && !keep_going(out.back(), i)) break;
  }
  return out;
}

Execution IsolatedRunner::run_step(const Step& step) {
  Execution ex;
  const Limits& limits = *step.limits;
  // Process-wide: several runners in one process must not share a run directory name.
  static std::atomic<int64_t> run_counter{0};
  const int64_t id = run_counter++;
  internal::LaunchPlan plan = base_;

  // --- per-run directories and identity
  int slot = -1;
  std::string host_dir;
  struct SlotGuard {
    IsolatedRunner* self;
    int& slot;
    std::string& dir;
    ~SlotGuard() {
      std::error_code ec;
      if (!dir.empty()) std::filesystem::remove_all(dir, ec);
      if (slot >= 0) self->release_slot(slot);
    }
  } guard{this, slot, host_dir};
  const bool root = plan_.caps.root;
  if (namespaces_) {
    plan.change_ids = true;
    plan.drop_groups = root;
    plan.uid = kInnerId;
    plan.gid = kInnerId;
    plan.work_options = "size=" + std::to_string(limits.file_mb) + "m,nr_inodes=" + std::to_string(limits.max_files) + ",mode=0755";
    plan.tmp_options = "size=" + std::to_string(limits.file_mb) + "m,nr_inodes=" + std::to_string(limits.max_files) + ",mode=1777";
  } else {
    slot = acquire_slot();
    host_dir = scratch_ + "/run-" + std::to_string(getpid()) + "-" + std::to_string(id);
    plan.work_dir = host_dir + "/work";
    plan.tmp_dir = host_dir + "/tmp";
    plan.run_dir = plan.work_dir;
    plan.change_ids = root;
    plan.uid = root ? static_cast<uid_t>(config_.sandbox_uid + 1 + slot) : geteuid();
    plan.gid = root ? static_cast<gid_t>(config_.sandbox_uid + 1 + slot) : getegid();
    for (const std::string& d : {host_dir, plan.work_dir, plan.tmp_dir}) {
      if (::mkdir(d.c_str(), d == host_dir ? 0711 : 0700) != 0) {
        ex.detail = "mkdir " + d + ": " + std::strerror(errno);
        return ex;
      }
      if (root && d != host_dir && ::chown(d.c_str(), plan.uid, plan.gid) != 0) {
        ex.detail = "chown " + d + ": " + std::strerror(errno);
        return ex;
      }
    }
  }
  const std::string work_seen = namespaces_ ? "/work" : plan.work_dir;

  // --- the command line and environment
  plan.argv.clear();
  for (std::string a : step.argv) {
    if (a.compare(0, 6, "{work}") == 0) a = work_seen + a.substr(6);
    plan.argv.push_back(a);
  }
  plan.envp = {"PATH=/usr/bin:/bin", "HOME=" + work_seen, "TMPDIR=" + (namespaces_ ? std::string("/tmp") : plan.tmp_dir),
               "LANG=C.UTF-8", "PYTHONHASHSEED=0", "PYTHONDONTWRITEBYTECODE=1"};
  for (const File& f : step.files)
    plan.files.push_back({f.fd, (namespaces_ ? plan.work_dir : plan.work_dir) + "/" + f.name, f.mode});
  plan.out_fd = step.out_fd;
  plan.out_path = work_seen + "/" + step.out_name;
  plan.rlimits = rlimits(limits);

  // --- descriptors
  Fd stdin_fd(make_memfd("stdin", *step.stdin_text));
  Pipe out, err, report, sync;
  if (stdin_fd.fd < 0 || !out.open() || !err.open() || !report.open() || !sync.open()) {
    ex.detail = std::string("pipes: ") + std::strerror(errno);
    return ex;
  }
  Fd landlock;
  if (!namespaces_) {
    std::string error;
    landlock.reset(internal::make_landlock_ruleset(
        {"/usr", "/bin", "/sbin", "/lib", "/lib64", "/etc/ld.so.cache", "/etc/alternatives", "/etc/localtime"},
        {"/dev/null", "/dev/zero", "/dev/urandom", "/dev/random"}, {plan.work_dir, plan.tmp_dir}, &error));
    if (landlock.fd < 0) {
      ex.detail = error;
      return ex;
    }
  }
  plan.sync_fd = sync.read.fd;
  plan.report_fd = report.write.fd;
  plan.stdin_fd = stdin_fd.fd;
  plan.stdout_fd = out.write.fd;
  plan.stderr_fd = err.write.fd;
  plan.landlock_fd = landlock.fd;
  plan.keep_fds = {plan.sync_fd, plan.report_fd, plan.stdin_fd, plan.stdout_fd, plan.stderr_fd};
  if (plan.landlock_fd >= 0) plan.keep_fds.push_back(plan.landlock_fd);
  if (plan.out_fd >= 0) plan.keep_fds.push_back(plan.out_fd);
  for (const auto& f : plan.files) plan.keep_fds.push_back(f.fd);
  std::sort(plan.keep_fds.begin(), plan.keep_fds.end());
  Fd plan_fd(make_memfd("launch-plan", internal::encode_plan(plan)));
  if (plan_fd.fd < 0) {
    ex.detail = std::string("memfd_create: ") + std::strerror(errno);
    return ex;
  }

  internal::RunCgroup cgroup(plan_.caps.cgroups, "run", limits);
  if (!cgroup.error().empty()) {
    ex.detail = "cgroup: " + cgroup.error();
    return ex;
  }

  // --- launch
  const int64_t start = now_ms();
  std::string start_error;
  const pid_t pid = init_->start(namespaces_ ? internal::kRunNamespaceFlags : 0, plan_fd.fd, plan.report_fd, plan.keep_fds, &start_error);
  if (pid < 0) {
    ex.detail = start_error;
    return ex;
  }
  plan_fd.reset();
  out.write.reset();
  err.write.reset();
  report.write.reset();
  sync.read.reset();
  stdin_fd.reset();
  landlock.reset();

  std::string setup_error;
  if (namespaces_) {
    const std::string proc = "/proc/" + std::to_string(pid);
    const uid_t host_uid = root ? static_cast<uid_t>(config_.sandbox_uid) : geteuid();
    const gid_t host_gid = root ? static_cast<gid_t>(config_.sandbox_uid) : getegid();
    // An unprivileged writer must deny setgroups before mapping gids.
    if (!root) write_text(proc + "/setgroups", "deny");
    if (!write_text(proc + "/uid_map", std::to_string(kInnerId) + " " + std::to_string(host_uid) + " 1\n") ||
        !write_text(proc + "/gid_map", std::to_string(kInnerId) + " " + std::to_string(host_gid) + " 1\n"))
      setup_error = std::string("writing the uid/gid map: ") + std::strerror(errno);
  }
  if (setup_error.empty() && !cgroup.add(pid)) setup_error = "cgroup: " + cgroup.error();
  if (setup_error.empty() && ::write(sync.write.fd, "g", 1) != 1) setup_error = "cannot release the sandbox init";
  sync.write.reset();
  if (!setup_error.empty()) ::kill(pid, SIGKILL);

  // --- watch: outputs, the report, the init's exit, the wall clock
  Fd pidfd(static_cast<int>(syscall(SYS_pidfd_open, pid, 0)));
  const size_t stdout_cap = static_cast<size_t>(limits.stdout_kb) * 1024;
  const size_t stderr_cap = static_cast<size_t>(limits.stderr_kb) * 1024;
  const int64_t deadline = start + limits.wall_ms;
  bool timed_out = false, output_over = false, have_report = false, killed = false, exited = false;
  InitReport rep{};
  size_t report_got = 0;
  int64_t kill_time = 0;
  auto kill_tree = [&](bool including_init) {
    if (!namespaces_) {
      for (int round = 0; round < 100; ++round) {
        std::vector<pid_t> left = internal::descendants(pid);
        if (left.empty()) break;
        for (pid_t p : left) ::kill(p, SIGKILL);
      }
      if (plan.change_ids) init_->kill_uid(plan.uid);
      cgroup.kill_all(/*except=*/pid);
    }
    if (including_init) {
      ::kill(pid, SIGKILL);
      if (!killed) kill_time = now_ms();
      killed = true;
    }
  };
  char buf[65536];
  bool out_open = true, err_open = true, report_open = true;
  while (!exited || out_open || err_open) {
    int64_t now = now_ms();
    if (!exited && !killed && now >= deadline) {
      timed_out = true;
      kill_tree(true);
    }
    if (killed && now - kill_time > kKillGraceMs && !exited) {
      setup_error = "the sandboxed process tree did not die after SIGKILL";
      break;
    }
    if (exited && now - kill_time > kKillGraceMs && kill_time > 0) break;  // writers that never close
    pollfd fds[4] = {{out.read.fd, POLLIN, 0}, {err.read.fd, POLLIN, 0}, {report.read.fd, POLLIN, 0}, {pidfd.fd, POLLIN, 0}};
    fds[0].fd = out_open ? out.read.fd : -1;
    fds[1].fd = err_open ? err.read.fd : -1;
    fds[2].fd = report_open ? report.read.fd : -1;
    fds[3].fd = exited ? -1 : pidfd.fd;
    int64_t wait = exited ? 50 : std::max<int64_t>(1, (killed ? kill_time + kKillGraceMs : deadline) - now);
    int n = ::poll(fds, 4, static_cast<int>(std::min<int64_t>(wait, 1000)));
    if (n < 0 && errno != EINTR) break;
    if (n <= 0) {
      if (exited) break;  // no more output after the tree died
      continue;
    }
    if (fds[0].revents) {
      ssize_t got = ::read(out.read.fd, buf, sizeof buf);
      if (got <= 0) {
        out_open = false;
      } else {
        size_t room = stdout_cap - std::min(stdout_cap, ex.stdout_text.size());
        ex.stdout_text.append(buf, std::min(room, static_cast<size_t>(got)));
        if (static_cast<size_t>(got) > room && !output_over) {
          output_over = true;
          ex.stdout_truncated = true;
          kill_tree(true);
        }
      }
    }
    if (fds[1].revents) {
      ssize_t got = ::read(err.read.fd, buf, sizeof buf);
      if (got <= 0) {
        err_open = false;
      } else {
        size_t room = stderr_cap - std::min(stderr_cap, ex.stderr_text.size());
        ex.stderr_text.append(buf, std::min(room, static_cast<size_t>(got)));
        if (static_cast<size_t>(got) > room) ex.stderr_truncated = true;
      }
    }
    if (fds[2].revents) {
      ssize_t got = ::read(report.read.fd, reinterpret_cast<char*>(&rep) + report_got, sizeof rep - report_got);
      if (got <= 0) {
        report_open = false;
      } else {
        report_got += static_cast<size_t>(got);
        if (report_got == sizeof rep) {
          have_report = true;
          report_open = false;
          if (!namespaces_) kill_tree(false);  // the program ended: its leftovers go now
        }
      }
    }
    if (fds[3].revents) {
      exited = true;
      if (kill_time == 0) kill_time = now_ms();  // bounds the drain below
    }
  }
  if (!exited) ::kill(pid, SIGKILL);
  int init_status = 0;
  struct rusage ru{};
  wait4(pid, &init_status, 0, &ru);
  if (!namespaces_) kill_tree(false);
  ex.wall_ms = now_ms() - start;
  ex.cpu_ms = (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000 + (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1000;
  if (have_report) ex.cpu_ms = std::max<int64_t>(ex.cpu_ms, rep.cpu_us / 1000);
  int64_t peak = cgroup.peak_bytes();
  ex.peak_memory_kb = peak >= 0 ? peak / 1024 : rep.max_rss_kb;

  // --- verdict
  if (!setup_error.empty()) {
    ex.verdict = Verdict::kSandboxError;
    ex.detail = setup_error;
    return ex;
  }
  if (have_report && rep.setup_step != 0) {
    ex.verdict = Verdict::kSandboxError;
    ex.detail = std::string("sandbox set-up failed while ") + internal::setup_step_name(rep.setup_step) + ": " + std::strerror(rep.setup_errno);
    return ex;
  }
  if (have_report && rep.exec_errno != 0) {
    ex.verdict = Verdict::kSandboxError;
    ex.detail = "starting " + plan.argv[0] + " failed: " + std::strerror(rep.exec_errno);
    return ex;
  }
  if (timed_out) {
    ex.verdict = Verdict::kTimeLimit;
    ex.detail = "wall clock limit " + std::to_string(limits.wall_ms) + " ms";
    return ex;
  }
  if (output_over) {
    ex.verdict = Verdict::kOutputLimit;
    ex.detail = "stdout over " + std::to_string(limits.stdout_kb) + " KiB";
    return ex;
  }
  if (!have_report && cgroup.oom_kills() > 0) {
    ex.verdict = Verdict::kMemoryLimit;  // the kernel's OOM killer chose the init
    ex.detail = "memory cgroup limit " + std::to_string(limits.memory_mb) + " MiB";
    return ex;
  }
  if (!have_report) {
    ex.verdict = Verdict::kSandboxError;
    ex.detail = "the sandbox init ended without a report (status " + std::to_string(init_status) + ")";
    return ex;
  }
  const int ws = rep.wait_status;
  if (WIFEXITED(ws)) ex.exit_code = WEXITSTATUS(ws);
  if (WIFSIGNALED(ws)) ex.signal = WTERMSIG(ws);
  if (cgroup.oom_kills() > 0) {
    ex.verdict = Verdict::kMemoryLimit;
    ex.detail = "memory cgroup limit " + std::to_string(limits.memory_mb) + " MiB";
  } else if (ex.signal == SIGXCPU || ex.cpu_ms > limits.cpu_ms) {
    ex.verdict = Verdict::kTimeLimit;
    ex.detail = "CPU limit " + std::to_string(limits.cpu_ms) + " ms";
  } else if (ex.signal == SIGSYS) {
    ex.verdict = Verdict::kBlocked;
    ex.detail = "seccomp: a forbidden system call";
  } else if (ex.signal == SIGXFSZ) {
    ex.verdict = Verdict::kOutputLimit;
    ex.detail = "file size limit " + std::to_string(limits.file_mb) + " MiB";
  } else if (ex.exit_code == 0) {
    ex.verdict = Verdict::kOk;
  } else if (contains(ex.stderr_text, "MemoryError") || contains(ex.stderr_text, "std::bad_alloc")) {
    ex.verdict = Verdict::kMemoryLimit;
    ex.detail = "the program ran out of memory (limit " + std::to_string(limits.memory_mb) + " MiB)";
  } else {
    ex.verdict = Verdict::kRuntimeError;
    ex.detail = ex.signal ? std::string("killed by signal ") + strsignal(ex.signal) : "exit code " + std::to_string(ex.exit_code);
  }
  return ex;
}

std::unique_ptr<Runner> make_runner(const SandboxConfig& config) {
  SandboxPlan plan = plan_sandbox(probe_capabilities(config), config);
  if (!plan.refusal.empty()) throw Error("sandbox: " + plan.refusal);
  return std::make_unique<IsolatedRunner>(config, std::move(plan));
}

}  // namespace grpo::sandbox
