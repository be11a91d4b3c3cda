// The launch plan's byte format (sandbox/internal/launch_plan.h): what the
// host encodes, the init program decodes field for field; anything else is refused.
#include "sandbox/internal/launch_plan.h"

#include <gtest/gtest.h>

namespace grpo::sandbox::internal {
namespace {

LaunchPlan full_plan() {
  LaunchPlan p;
  p.namespaces = false;
  p.sync_fd = 3, p.report_fd = 4, p.stdin_fd = 5, p.stdout_fd = 6, p.stderr_fd = 7, p.landlock_fd = 8;
  p.keep_fds = {3, 4, 5, 6, 7, 8, 11};
  p.drop_groups = p.change_ids = true;
  p.uid = 62001, p.gid = 62002;
  p.root = "/tmp/r", p.dirs = {"/tmp/r/etc", "/tmp/r/dev"};
  p.binds = {{"/usr", "/tmp/r/usr", true, true}, {"/dev/null", "/tmp/r/dev/null", false, false}};
  p.symlinks = {{"usr/bin", "/tmp/r/bin"}};
  p.proc_dir = "/tmp/r/proc", p.dev_dir = "/tmp/r/dev", p.tmp_dir = "/tmp/r/tmp", p.work_dir = "/tmp/r/work";
  p.work_options = "size=4m", p.tmp_options = "size=2m", p.dev_options = "size=64k", p.hostname = "box";
  p.files = {{11, "/tmp/r/work/main.py", 0755}};
  p.out_fd = 12, p.out_path = "/work/main", p.run_dir = "/work";
  p.argv = {"/usr/bin/python3", "-s", "main.py", std::string("nul\0byte", 8)};
  p.envp = {"PATH=/usr/bin", ""};
  p.rlimits = {{RLIMIT_CPU, 2}, {RLIMIT_AS, rlim_t{1} << 40}};
  p.seccomp = {{0x20, 0, 0, 4}, {0x06, 1, 2, 0x7fff0000}};
  p.kill_rest_on_exit = false;
  return p;
}

TEST(LaunchPlanTest, DecodesWhatWasEncoded) {
  const LaunchPlan in = full_plan();
  const std::string bytes = encode_plan(in);
  LaunchPlan out;
  ASSERT_TRUE(decode_plan(bytes, &out));
  EXPECT_EQ(encode_plan(out), bytes);
  EXPECT_FALSE(out.namespaces);
  EXPECT_EQ(out.keep_fds, in.keep_fds);
  EXPECT_EQ(out.uid, 62001u);
  EXPECT_EQ(out.binds[1].target, "/tmp/r/dev/null");
  EXPECT_FALSE(out.binds[1].directory);
  EXPECT_EQ(out.symlinks[0].target, "usr/bin");
  EXPECT_EQ(out.files[0].mode, 0755);
  EXPECT_EQ(out.argv, in.argv);
  EXPECT_EQ(out.envp, in.envp);
  EXPECT_EQ(out.rlimits[1].value, rlim_t{1} << 40);
  ASSERT_EQ(out.seccomp.size(), 2u);
  EXPECT_EQ(out.seccomp[1].k, 0x7fff0000u);
  EXPECT_EQ(out.seccomp[1].jf, 2);
  EXPECT_FALSE(out.kill_rest_on_exit);
}

TEST(LaunchPlanTest, RefusesTruncatedExtendedOrForeignBytes) {
  const std::string bytes = encode_plan(full_plan());
  LaunchPlan out;
  for (size_t n = 0; n < bytes.size(); ++n) EXPECT_FALSE(decode_plan(bytes.substr(0, n), &out)) << n;
  EXPECT_FALSE(decode_plan(bytes + "x", &out));
  std::string other = bytes;
  other[8] ^= 1;  // another format number
  EXPECT_FALSE(decode_plan(other, &out));
  other = bytes;
  other[0] = 'G';  // another tag
  EXPECT_FALSE(decode_plan(other, &out));
}

}  // namespace
}  // namespace grpo::sandbox::internal
