// doctor.cpp: capability probes and the tier/layer plan.
#include "sandbox/doctor.h"

#include <sched.h>
#include <signal.h>
#include <linux/seccomp.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "sandbox/internal/init_program.h"
#include "sandbox/internal/landlock.h"
#include "sandbox/internal/vfork_clone.h"

namespace grpo::sandbox {
namespace {

std::string first_line(const std::string& path) {
  std::ifstream in(path);
  std::string line;
  std::getline(in, line);
  return line;
}

int exit_at_once(void*) { _exit(0); }

// The same clone() flags a run uses (internal/init_program.h).
void probe_user_namespaces(Capabilities& caps) {
  pid_t pid = internal::vfork_clone(exit_at_once, nullptr, internal::kRunNamespaceFlags);
  if (pid < 0) {
    caps.user_namespaces_detail = std::string("clone(CLONE_NEWUSER|...) refused: ") + std::strerror(errno);
    std::string max = first_line("/proc/sys/user/max_user_namespaces");
    if (max == "0") caps.user_namespaces_detail += " (user.max_user_namespaces = 0)";
    std::string unpriv = first_line("/proc/sys/kernel/unprivileged_userns_clone");
    if (unpriv == "0") caps.user_namespaces_detail += " (kernel.unprivileged_userns_clone = 0)";
    return;
  }
  int status = 0;
  waitpid(pid, &status, 0);
  caps.user_namespaces = WIFEXITED(status) && WEXITSTATUS(status) == 0;
  caps.user_namespaces_detail = caps.user_namespaces ? "user, PID, network, mount, IPC, UTS" : "probe child failed";
}

bool probe_seccomp() {
  if (prctl(PR_GET_SECCOMP) < 0) return false;
  uint32_t action = SECCOMP_RET_KILL_PROCESS;
  return syscall(SYS_seccomp, SECCOMP_GET_ACTION_AVAIL, 0, &action) == 0;
}

Layer layer(std::string name, bool active, std::string detail) { return {std::move(name), active, std::move(detail)}; }

std::string cgroup_detail(const std::string& version, const std::string& parent, const std::string& why) {
  return version.empty() ? "unavailable: " + why : "cgroup " + version + " at " + parent;
}

void add_common_layers(SandboxPlan& p, const Capabilities& c, const SandboxConfig& config) {
  p.layers.push_back(layer("seccomp filter", c.seccomp, c.seccomp ? "ptrace, mount, keyring, bpf, namespaces... kill; sockets refused" : "seccomp filters unsupported"));
  p.layers.push_back(layer("no_new_privs", true, "set before exec"));
  p.layers.push_back(layer("rlimits", true, "CPU, address space, file size, open files, processes, stack; core dumps off"));
  p.layers.push_back(layer("cleared environment", true, "PATH=/usr/bin:/bin, HOME, TMPDIR, LANG only"));
  p.layers.push_back(layer("cgroup memory", !c.cgroups.memory_version.empty(), cgroup_detail(c.cgroups.memory_version, c.cgroups.memory_parent, c.cgroups.detail)));
  p.layers.push_back(layer("cgroup pids", !c.cgroups.pids_version.empty(), cgroup_detail(c.cgroups.pids_version, c.cgroups.pids_parent, c.cgroups.detail)));
  p.layers.push_back(layer("python", c.python, config.python));
  p.layers.push_back(layer("c++ compiler", c.cxx, config.cxx));
  p.layers.push_back(layer("sandbox init", !c.init_program.empty(), c.init_program.empty() ? c.init_program_detail : c.init_program));
}

void namespace_layers(SandboxPlan& p, const Capabilities& c, const SandboxConfig& config) {
  p.layers.push_back(layer("fresh working directory", true, "private tmpfs /work, size- and inode-limited"));
  p.layers.push_back(layer("namespaces", true, c.user_namespaces_detail));
  p.layers.push_back(layer("minimal read-only root", true, "tmpfs root with read-only /usr, devices null/zero/random, own /proc, private /tmp"));
  p.layers.push_back(layer("no network", true, "empty network namespace"));
  p.layers.push_back(layer("unprivileged uid", true, c.root ? "uid 1000 in the namespace = host uid " + std::to_string(config.sandbox_uid) : "uid 1000 in the namespace = your own uid"));
  p.layers.push_back(layer("tree kill", true, "init is PID 1 of the namespace; its exit kills every process"));
  add_common_layers(p, c, config);
}

void landlock_layers(SandboxPlan& p, const Capabilities& c, const SandboxConfig& config) {
  p.layers.push_back(layer("namespaces", false, c.user_namespaces ? "available, but the landlock tier was chosen" : c.user_namespaces_detail));
  p.layers.push_back(layer("fresh working directory", true, "per-run directory (disk, not size-limited beyond RLIMIT_FSIZE)"));
  p.layers.push_back(layer("landlock", c.landlock_abi >= 1, "ABI " + std::to_string(c.landlock_abi) + ": read-only /usr, read-write only the run's own directories"));
  p.layers.push_back(layer("landlock signal scope", c.landlock_abi >= 6, c.landlock_abi >= 6 ? "no signals to processes outside the sandbox" : "needs Landlock ABI 6"));
  p.layers.push_back(layer("no network", c.seccomp, "seccomp refuses socket()"));
  p.layers.push_back(layer("unprivileged uid", c.root, c.root ? "host uid " + std::to_string(config.sandbox_uid + 1) + "+slot per run" : "not root: programs run as your own uid"));
  bool tree_kill = c.root || !c.cgroups.pids_version.empty() || !c.cgroups.memory_version.empty();
  p.layers.push_back(layer("tree kill", tree_kill, "subreaper init; kill by uid (root) and cgroup; process walk otherwise"));
  add_common_layers(p, c, config);
}

}  // namespace

Capabilities probe_capabilities(const SandboxConfig& config) {
  Capabilities caps;
  caps.root = geteuid() == 0;
  probe_user_namespaces(caps);
  caps.seccomp = probe_seccomp();
  caps.landlock_abi = internal::landlock_abi();
  caps.cgroups = internal::detect_cgroups();
  caps.python = access(config.python.c_str(), X_OK) == 0;
  caps.cxx = access(config.cxx.c_str(), X_OK) == 0;
  caps.init_program = internal::find_init_program(&caps.init_program_detail);
  return caps;
}

SandboxPlan plan_sandbox(const Capabilities& caps, const SandboxConfig& config) {
  SandboxPlan p;
  p.caps = caps;
  if (config.tier == "namespace" || (config.tier == "auto" && caps.user_namespaces)) {
    if (!caps.user_namespaces) {
      p.refusal = "sandbox.tier = namespace but " + caps.user_namespaces_detail +
                  "; allow user namespaces, or set sandbox.tier = auto and sandbox.accept_weaker = true for the Landlock tier";
      namespace_layers(p, caps, config);
      return p;
    }
    p.tier = "namespace";
    namespace_layers(p, caps, config);
  } else {
    landlock_layers(p, caps, config);
    if (caps.landlock_abi < 1 || !caps.seccomp) {
      p.refusal = "no sandbox tier can run here: user namespaces are refused (" + caps.user_namespaces_detail +
                  ") and Landlock/seccomp are unavailable; run on a kernel with either";
      return p;
    }
    p.tier = "landlock";
  }
  if (!caps.seccomp) {
    p.refusal = "seccomp filters are unavailable; the sandbox cannot run without them";
    return p;
  }
  if (caps.init_program.empty()) {
    p.refusal = "the sandbox cannot start without its init program: " + caps.init_program_detail;
    return p;
  }
  if (p.weaker() && !config.accept_weaker) {
    std::string names;
    for (const std::string& m : p.missing()) names += (names.empty() ? "" : ", ") + m;
    p.refusal = "the sandbox would run without: " + names + " (see `grpo sandbox doctor`); set sandbox.accept_weaker = true to accept this weaker level";
  }
  return p;
}

bool SandboxPlan::weaker() const { return !missing().empty(); }

std::vector<std::string> SandboxPlan::missing() const {
  std::vector<std::string> out;
  for (const Layer& l : layers) {
    // Programs, not isolation layers: a missing one fails runs (or refuses), never weakens them.
    if (!l.active && l.name != "python" && l.name != "c++ compiler" && l.name != "sandbox init") out.push_back(l.name);
  }
  return out;
}

nlohmann::json SandboxPlan::to_json() const {
  nlohmann::json layers_json = nlohmann::json::array();
  for (const Layer& l : layers) layers_json.push_back({{"name", l.name}, {"active", l.active}, {"detail", l.detail}});
  return {{"tier", tier}, {"weaker", weaker()}, {"missing", missing()}, {"refusal", refusal}, {"root", caps.root},
          {"landlock_abi", caps.landlock_abi}, {"layers", layers_json}};
}

std::string SandboxPlan::to_text() const {
  std::ostringstream out;
  out << "tier: " << (tier.empty() ? "none" : tier) << (weaker() ? " (weaker: some layers missing)" : "") << "\n";
  for (const Layer& l : layers) out << "  [" << (l.active ? "on " : "off") << "] " << l.name << ": " << l.detail << "\n";
  out << (refusal.empty() ? "status: ready\n" : "status: refuses to run: " + refusal + "\n");
  return out.str();
}

}  // namespace grpo::sandbox
