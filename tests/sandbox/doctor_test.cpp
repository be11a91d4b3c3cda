// Tests of the tier plan and the refusal to run weaker (sandbox/doctor.h),
// on synthetic capabilities, and of what this host reports.
#include "sandbox/doctor.h"

#include <gtest/gtest.h>

#include "core/error.h"
#include "sandbox/runner.h"

namespace grpo::sandbox {
namespace {

Capabilities full_caps() {
  Capabilities c;
  c.root = true;
  c.user_namespaces = true;
  c.seccomp = true;
  c.landlock_abi = 6;
  c.cgroups.memory_version = "v1";
  c.cgroups.pids_version = "v1";
  c.python = c.cxx = true;
  c.init_program = "/opt/grpo/bin/grpo-sandbox-init";
  return c;
}

TEST(SandboxPlanTest, FullKernelGivesNamespaceTierWithEveryLayer) {
  SandboxPlan p = plan_sandbox(full_caps(), SandboxConfig{});
  EXPECT_EQ(p.tier, "namespace");
  EXPECT_FALSE(p.weaker());
  EXPECT_EQ(p.refusal, "");
}

TEST(SandboxPlanTest, MissingCgroupRefusesUnlessAccepted) {
  Capabilities c = full_caps();
  c.cgroups.memory_version.clear();
  SandboxConfig config;
  SandboxPlan p = plan_sandbox(c, config);
  EXPECT_TRUE(p.weaker());
  EXPECT_NE(p.refusal.find("cgroup memory"), std::string::npos) << p.refusal;
  EXPECT_NE(p.refusal.find("accept_weaker"), std::string::npos) << p.refusal;
  config.accept_weaker = true;
  EXPECT_EQ(plan_sandbox(c, config).refusal, "");
}

TEST(SandboxPlanTest, NoUserNamespacesFallsBackToLandlockAsWeaker) {
  Capabilities c = full_caps();
  c.user_namespaces = false;
  c.user_namespaces_detail = "clone refused";
  SandboxConfig config;
  SandboxPlan p = plan_sandbox(c, config);
  EXPECT_EQ(p.tier, "landlock");
  EXPECT_NE(p.refusal, "");
  std::vector<std::string> missing = p.missing();
  EXPECT_NE(std::find(missing.begin(), missing.end(), "namespaces"), missing.end());
  config.accept_weaker = true;
  EXPECT_EQ(plan_sandbox(c, config).refusal, "");
}

TEST(SandboxPlanTest, NamespaceTierRequestedButRefused) {
  Capabilities c = full_caps();
  c.user_namespaces = false;
  SandboxConfig config;
  config.tier = "namespace";
  config.accept_weaker = true;
  SandboxPlan p = plan_sandbox(c, config);
  EXPECT_EQ(p.tier, "");
  EXPECT_NE(p.refusal.find("tier = namespace"), std::string::npos) << p.refusal;
}

TEST(SandboxPlanTest, NothingRunsWithoutSeccomp) {
  Capabilities c = full_caps();
  c.seccomp = false;
  SandboxConfig config;
  config.accept_weaker = true;
  EXPECT_NE(plan_sandbox(c, config).refusal.find("seccomp"), std::string::npos);
}

TEST(SandboxPlanTest, NothingRunsWithoutTheInitProgram) {
  Capabilities c = full_caps();
  c.init_program.clear();
  c.init_program_detail = "grpo-sandbox-init not found at /opt/grpo/bin/grpo-sandbox-init";
  SandboxConfig config;
  config.accept_weaker = true;  // a missing program is no weaker layer to accept
  SandboxPlan p = plan_sandbox(c, config);
  EXPECT_NE(p.refusal.find("grpo-sandbox-init not found at /opt/grpo/bin"), std::string::npos) << p.refusal;
  EXPECT_FALSE(p.weaker());
}

TEST(SandboxPlanTest, MakeRunnerThrowsTheRefusal) {
  SandboxConfig config;
  config.tier = "landlock";  // always weaker than namespaces
  config.accept_weaker = false;
  EXPECT_THROW(make_runner(config), Error);
}

// This host (and CI, as root) has user namespaces and seccomp: the sandbox must plan the namespace tier.
TEST(SandboxPlanTest, ThisHostPlansTheNamespaceTier) {
  SandboxConfig config;
  config.accept_weaker = true;
  SandboxPlan p = plan_sandbox(probe_capabilities(config), config);
  EXPECT_EQ(p.tier, "namespace") << p.to_text();
  EXPECT_NE(p.to_text().find("[on ] seccomp filter"), std::string::npos) << p.to_text();
  EXPECT_NE(p.to_text().find("[on ] sandbox init: /"), std::string::npos) << p.to_text();
}

}  // namespace
}  // namespace grpo::sandbox
