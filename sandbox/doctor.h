// doctor.h: what this kernel lets the sandbox use, and the resulting plan:
// the tier, each isolation layer with active/missing and why, and whether the
// sandbox refuses to run. `grpo sandbox doctor` prints it; a run store records it.
//
//   SandboxPlan plan = plan_sandbox(probe_capabilities(config), config);
//   if (!plan.refusal.empty()) throw Error(plan.refusal);
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "sandbox/internal/cgroup.h"
#include "sandbox/sandbox_config.h"

namespace grpo::sandbox {

// Kernel features, each found by trying it.
struct Capabilities {
  bool root = false;                 // effective uid 0
  bool user_namespaces = false;      // clone(CLONE_NEWUSER|NEWPID|NEWNET|NEWNS|NEWIPC|NEWUTS) worked
  std::string user_namespaces_detail;
  bool seccomp = false;              // seccomp filters with SECCOMP_RET_KILL_PROCESS
  int landlock_abi = 0;              // 0: no Landlock
  internal::CgroupSupport cgroups;
  bool python = false, cxx = false;  // the configured interpreter and compiler exist
  std::string init_program;          // path of grpo-sandbox-init; "" when missing
  std::string init_program_detail;   // why it is missing
};

// Probes the kernel (starts one short-lived child). Creates the cgroup parents.
Capabilities probe_capabilities(const SandboxConfig& config);

// One isolation layer of the chosen tier.
struct Layer {
  std::string name;
  bool active = false;
  std::string detail;
};

// The tier to use, its layers, and a refusal when a layer is missing and the config does not accept it.
struct SandboxPlan {
  std::string tier;  // "namespace", "landlock", or "" when none can run
  std::vector<Layer> layers;
  Capabilities caps;
  std::string refusal;  // non-empty: the sandbox must not run; says why and what to set

  bool weaker() const;  // some layer is missing
  std::vector<std::string> missing() const;
  nlohmann::json to_json() const;
  std::string to_text() const;  // the doctor report
};

SandboxPlan plan_sandbox(const Capabilities& caps, const SandboxConfig& config);

}  // namespace grpo::sandbox
