// cgroup.cpp: cgroup v1/v2 discovery and per-run cgroups.
#include "sandbox/internal/cgroup.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <fstream>
#include <set>
#include <sstream>
#include <thread>

namespace grpo::sandbox::internal {
namespace {

std::string read_text(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

bool write_text(const std::string& path, const std::string& text, std::string* error = nullptr) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0) {
    if (error) *error = path + ": " + std::strerror(errno);
    return false;
  }
  ssize_t n = ::write(fd, text.data(), text.size());
  int saved = errno;
  ::close(fd);
  if (n != static_cast<ssize_t>(text.size())) {
    if (error) *error = path + ": write '" + text + "': " + std::strerror(saved);
    return false;
  }
  return true;
}

bool make_dir(const std::string& path, std::string* error) {
  if (::mkdir(path.c_str(), 0755) == 0 || errno == EEXIST) return true;
  *error = "mkdir " + path + ": " + std::strerror(errno);
  return false;
}

struct Mount {
  std::string point, root, fstype, options;
};

std::vector<Mount> cgroup_mounts() {
  std::vector<Mount> out;
  std::ifstream in("/proc/self/mountinfo");
  std::string line;
  while (std::getline(in, line)) {
    // id parent maj:min root point opts [optional...] - fstype source superopts
    std::istringstream ls(line);
    std::string id, parent, dev, root, point, opts, tok;
    ls >> id >> parent >> dev >> root >> point >> opts;
    while (ls >> tok && tok != "-") {}
    Mount m;
    m.point = point;
    m.root = root;
    ls >> m.fstype >> tok >> m.options;
    if (m.fstype == "cgroup" || m.fstype == "cgroup2") out.push_back(m);
  }
  return out;
}

// Our own cgroup path per v1 controller ("memory", "pids") and for v2 ("").
std::string own_cgroup(const std::string& controller) {
  std::ifstream in("/proc/self/cgroup");
  std::string line;
  while (std::getline(in, line)) {
    size_t a = line.find(':'), b = line.find(':', a + 1);
    if (a == std::string::npos || b == std::string::npos) continue;
    std::string ctrls = line.substr(a + 1, b - a - 1);
    std::string path = line.substr(b + 1);
    if (controller.empty() ? (line.compare(0, 2, "0:") == 0 && ctrls.empty()) : false) return path;
    std::stringstream cs(ctrls);
    std::string c;
    while (std::getline(cs, c, ',')) {
      if (!controller.empty() && c == controller) return path;
    }
  }
  return "";
}

// Directory of `cgroup_path` inside mount `m` (mount roots other than "/" come from cgroup namespaces).
std::string dir_in_mount(const Mount& m, const std::string& cgroup_path) {
  std::string rel = cgroup_path;
  if (m.root != "/" && rel.compare(0, m.root.size(), m.root) == 0) rel = rel.substr(m.root.size());
  if (rel == "/") rel.clear();
  return m.point + rel;
}

bool has_word(const std::string& list, const std::string& word, char sep) {
  std::stringstream ss(list);
  std::string w;
  while (std::getline(ss, w, sep)) {
    while (!w.empty() && (w.back() == '\n' || w.back() == ' ')) w.pop_back();
    if (w == word) return true;
  }
  return false;
}

// Creates and removes a probe cgroup under `parent` to prove we may.
bool probe_parent(const std::string& parent, std::string* error) {
  if (!make_dir(parent, error)) return false;
  std::string probe = parent + "/probe-" + std::to_string(::getpid());
  if (!make_dir(probe, error)) return false;
  ::rmdir(probe.c_str());
  return true;
}

void detect_v2(const std::vector<Mount>& mounts, CgroupSupport& s, std::string& why) {
  for (const Mount& m : mounts) {
    if (m.fstype != "cgroup2") continue;
    std::string own = dir_in_mount(m, own_cgroup(""));
    std::string controllers = read_text(own + "/cgroup.controllers");
    bool mem = has_word(controllers, "memory", ' '), pids = has_word(controllers, "pids", ' ');
    if (!mem && !pids) {
      why += "v2 at " + m.point + ": no memory/pids controllers delegated to " + own + "; ";
      continue;
    }
    std::string error;
    std::string want = std::string(mem ? "+memory " : "") + (pids ? "+pids" : "");
    // v2 forbids controllers in a cgroup with processes (except the root), so this fails with
    // EBUSY when we are not alone; then we cannot use v2 without moving ourselves.
    std::string parent = own + "/grpo-sandbox";
    if (!write_text(own + "/cgroup.subtree_control", want, &error) || !make_dir(parent, &error) ||
        !write_text(parent + "/cgroup.subtree_control", want, &error) || !probe_parent(parent, &error)) {
      why += "v2 at " + m.point + ": " + error + "; ";
      continue;
    }
    if (mem) s.memory_version = "v2", s.memory_parent = parent;
    if (pids) s.pids_version = "v2", s.pids_parent = parent;
    return;
  }
}

void detect_v1(const std::vector<Mount>& mounts, const std::string& controller, std::string& version,
               std::string& parent, std::string& why) {
  for (const Mount& m : mounts) {
    if (m.fstype != "cgroup" || !has_word(m.options, controller, ',')) continue;
    std::string dir = dir_in_mount(m, own_cgroup(controller)) + "/grpo-sandbox";
    std::string error;
    if (!probe_parent(dir, &error)) {
      why += "v1 " + controller + ": " + error + "; ";
      return;
    }
    version = "v1";
    parent = dir;
    return;
  }
  why += "v1 " + controller + ": not mounted; ";
}

std::string unique_suffix() {
  static std::atomic<int64_t> counter{0};
  return std::to_string(::getpid()) + "-" + std::to_string(counter++);
}

}  // namespace

CgroupSupport detect_cgroups() {
  CgroupSupport s;
  std::vector<Mount> mounts = cgroup_mounts();
  std::string why;
  detect_v2(mounts, s, why);
  if (s.memory_version.empty()) detect_v1(mounts, "memory", s.memory_version, s.memory_parent, why);
  if (s.pids_version.empty()) detect_v1(mounts, "pids", s.pids_version, s.pids_parent, why);
  s.detail = why;
  return s;
}

RunCgroup::RunCgroup(const CgroupSupport& support, const std::string& name, const Limits& limits) {
  const std::string leaf = "/" + name + "-" + unique_suffix();
  const int64_t bytes = limits.memory_mb << 20;
  if (!support.memory_version.empty()) {
    memory_dir_ = support.memory_parent + leaf;
    memory_v2_ = support.memory_version == "v2";
    if (!make_dir(memory_dir_, &error_)) {
      memory_dir_.clear();
      return;
    }
    if (memory_v2_) {
      write_text(memory_dir_ + "/memory.max", std::to_string(bytes), &error_);
      write_text(memory_dir_ + "/memory.swap.max", "0");  // absent without swap accounting
    } else {
      write_text(memory_dir_ + "/memory.limit_in_bytes", std::to_string(bytes), &error_);
      write_text(memory_dir_ + "/memory.memsw.limit_in_bytes", std::to_string(bytes));  // absent without swap accounting
    }
  }
  if (!support.pids_version.empty()) {
    pids_v2_ = support.pids_version == "v2";
    if (pids_v2_ && memory_v2_) {
      pids_dir_ = memory_dir_;
    } else {
      pids_dir_ = support.pids_parent + leaf;
      if (!make_dir(pids_dir_, &error_)) {
        pids_dir_.clear();
        return;
      }
    }
    // +1: the sandbox's own init process lives in the cgroup too.
    write_text(pids_dir_ + "/pids.max", std::to_string(limits.max_processes + 1), &error_);
  }
}

RunCgroup::~RunCgroup() {
  kill_all();  // nothing should be left; this is the last line of defence
  // A memory cgroup may need a moment after its last process is reaped.
  for (int i = 0; i < 50; ++i) {
    bool done = true;
    if (!memory_dir_.empty() && ::rmdir(memory_dir_.c_str()) != 0 && errno != ENOENT) done = false;
    if (!pids_dir_.empty() && pids_dir_ != memory_dir_ && ::rmdir(pids_dir_.c_str()) != 0 && errno != ENOENT) done = false;
    if (done) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
}

bool RunCgroup::add(pid_t pid) {
  std::string p = std::to_string(pid);
  bool ok = true;
  if (!memory_dir_.empty()) ok &= write_text(memory_dir_ + "/cgroup.procs", p, &error_);
  if (!pids_dir_.empty() && pids_dir_ != memory_dir_) ok &= write_text(pids_dir_ + "/cgroup.procs", p, &error_);
  return ok;
}

int64_t RunCgroup::peak_bytes() const {
  if (memory_dir_.empty()) return -1;
  std::string t = read_text(memory_dir_ + (memory_v2_ ? "/memory.peak" : "/memory.max_usage_in_bytes"));
  return t.empty() ? -1 : std::stoll(t);
}

int64_t RunCgroup::oom_kills() const {
  if (memory_dir_.empty()) return 0;
  std::istringstream in(read_text(memory_dir_ + (memory_v2_ ? "/memory.events" : "/memory.oom_control")));
  std::string key;
  int64_t value = 0;
  while (in >> key >> value) {
    if (key == "oom_kill") return value;
  }
  return 0;
}

std::vector<pid_t> RunCgroup::members() const {
  std::set<pid_t> pids;
  for (const std::string& dir : {memory_dir_, pids_dir_}) {
    if (dir.empty()) continue;
    std::istringstream in(read_text(dir + "/cgroup.procs"));
    pid_t p;
    while (in >> p) pids.insert(p);
  }
  return {pids.begin(), pids.end()};
}

bool alive(pid_t pid) {
  std::string stat = read_text("/proc/" + std::to_string(pid) + "/stat");
  size_t close = stat.rfind(')');
  return close != std::string::npos && close + 2 < stat.size() && stat[close + 2] != 'Z' && stat[close + 2] != 'X';
}

void RunCgroup::kill_all(pid_t except) {
  if (except < 0 && memory_v2_) write_text(memory_dir_ + "/cgroup.kill", "1");
  else if (except < 0 && pids_v2_) write_text(pids_dir_ + "/cgroup.kill", "1");
  for (int round = 0; round < 20; ++round) {
    bool any = false;
    for (pid_t p : members()) {
      if (p == except || !alive(p)) continue;
      ::kill(p, SIGKILL);
      any = true;
    }
    if (!any) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
}

}  // namespace grpo::sandbox::internal
