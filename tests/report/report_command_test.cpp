// `grpo report` as users run it: the binary on a run folder.
#include <gtest/gtest.h>

#include <filesystem>

#include "core/run_store.h"
#include "report/tensorboard_export.h"
#include "tests/report/fake_run.h"
#include "tests/report/page_data.h"
#include "tests/support/test_env.h"

namespace grpo::report {
namespace {

using grpo::testing::grpo_binary;
using grpo::testing::run_command;
using grpo::testing::shell_quote;
using grpo::testing::TempDir;

TEST(ReportCommandTest, WritesTheReportBesideTheStoreAndPrintsItsPath) {
  TempDir d;
  std::string run = d.file("demo");
  std::filesystem::create_directories(run);
  {
    RunStore store(run + "/run.db");
    grpo::testing::FakeRunShape shape;
    shape.steps = 10;
    grpo::testing::write_fake_run(store, shape);
  }
  auto r = run_command(grpo_binary() + " report " + shell_quote(run));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, run + "/report.html\n");
  auto data = grpo::testing::page_data(grpo::testing::read_file(run + "/report.html"));
  EXPECT_EQ(data["steps"]["count"], 10);
}

TEST(ReportCommandTest, OutAndTensorboardOptions) {
  TempDir d;
  std::string run = d.file("demo");
  std::filesystem::create_directories(run);
  {
    RunStore store(run + "/run.db");
    grpo::testing::FakeRunShape shape;
    shape.steps = 4;
    grpo::testing::write_fake_run(store, shape);
  }
  std::string out = d.file("elsewhere/page.html");
  auto r = run_command(grpo_binary() + " report " + shell_quote(run + "/run.db") + " --out " + shell_quote(out) +
                       " --tensorboard --title 'my run'");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, out + "\n" + run + "/tb\n");
  EXPECT_EQ(grpo::testing::page_data(grpo::testing::read_file(out))["title"], "my run");
  EXPECT_TRUE(std::filesystem::exists(run + "/tb/" + kEventFileName));
  // Again: nothing new to append, the event file keeps its size.
  auto size = std::filesystem::file_size(run + "/tb/" + kEventFileName);
  ASSERT_EQ(run_command(grpo_binary() + " report " + shell_quote(run) + " --tensorboard").exit_code, 0);
  EXPECT_EQ(std::filesystem::file_size(run + "/tb/" + kEventFileName), size);
}

TEST(ReportCommandTest, ReportsARunWhoseWriterIsStillOpen) {
  TempDir d;
  std::string run = d.file("live");
  std::filesystem::create_directories(run);
  RunStore writer(run + "/run.db");  // as `grpo train` holds it
  grpo::testing::FakeRunShape shape;
  for (int64_t step = 1; step <= 7; ++step) writer.write_step(grpo::testing::fake_step(step, shape));
  auto r = run_command(grpo_binary() + " report " + shell_quote(run));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(grpo::testing::page_data(grpo::testing::read_file(run + "/report.html"))["steps"]["count"], 7);
  writer.write_step(grpo::testing::fake_step(8, shape));
  ASSERT_EQ(run_command(grpo_binary() + " report " + shell_quote(run)).exit_code, 0);
  EXPECT_EQ(grpo::testing::page_data(grpo::testing::read_file(run + "/report.html"))["steps"]["count"], 8);
}

TEST(ReportCommandTest, AFolderWithoutAStoreIsARuntimeErrorNamingRunDb) {
  TempDir d;
  auto r = run_command(grpo_binary() + " report " + shell_quote(d.path()));
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find(d.path() + "/run.db: no run store here"), std::string::npos) << r.err;
}

TEST(ReportCommandTest, AMissingPathIsAUsageError) {
  TempDir d;
  auto r = run_command(grpo_binary() + " report " + shell_quote(d.file("nope")));
  EXPECT_EQ(r.exit_code, 2) << r.err;
}

}  // namespace
}  // namespace grpo::report
