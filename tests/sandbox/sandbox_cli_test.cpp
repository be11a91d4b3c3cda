// `grpo sandbox run` and `grpo sandbox doctor` end to end, through the binary.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "tests/support/test_env.h"

namespace grpo::testing {
namespace {

TEST(SandboxCliTest, RunPrintsVerdictAndOutputsAsJson) {
  TempDir dir;
  write_file(dir.file("prog.py"), "import sys\nprint(int(sys.stdin.read()) * 3)\n");
  write_file(dir.file("in.txt"), "14\n");
  CommandResult r = run_command(grpo_binary() + " sandbox run " + dir.file("prog.py") + " --stdin " + dir.file("in.txt") +
                                " --limits '{\"cpu_ms\": 1000, \"wall_ms\": 2000}'");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  nlohmann::json j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["verdict"], "ok");
  EXPECT_EQ(j["stdout"], "42\n");
  EXPECT_EQ(j["tier"], "namespace");
}

TEST(SandboxCliTest, RunReportsTimeLimit) {
  TempDir dir;
  write_file(dir.file("loop.py"), "while True:\n    pass\n");
  CommandResult r = run_command(grpo_binary() + " sandbox run " + dir.file("loop.py") + " --limits '{\"cpu_ms\": 500, \"wall_ms\": 1500}'");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(nlohmann::json::parse(r.out)["verdict"], "time_limit");
}

TEST(SandboxCliTest, BadLimitsAreAConfigError) {
  TempDir dir;
  write_file(dir.file("p.py"), "print(1)\n");
  CommandResult r = run_command(grpo_binary() + " sandbox run " + dir.file("p.py") + " --limits '{\"cpu_msec\": 5}'");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("cpu_msec"), std::string::npos) << r.err;
}

TEST(SandboxCliTest, DoctorListsLayers) {
  CommandResult r = run_command(grpo_binary() + " sandbox doctor --json");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  nlohmann::json j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["tier"], "namespace");
  EXPECT_GE(j["layers"].size(), 10u);
  CommandResult text = run_command(grpo_binary() + " sandbox doctor --tier landlock");
  EXPECT_NE(text.out.find("refuses to run"), std::string::npos) << text.out;
}

}  // namespace
}  // namespace grpo::testing
