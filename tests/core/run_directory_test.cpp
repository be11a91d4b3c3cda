#include "core/run_directory.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "core/error.h"
#include "core/log.h"
#include "tests/support/test_env.h"

namespace grpo {
namespace {

using testing::read_file;
using testing::TempDir;

TEST(RunDirectoryTest, CreateRecordsRecipeAndRoutesTheLog) {
  TempDir d;
  RunConfig run;
  run.dir = d.path();
  run.name = "demo";
  {
    RunDirectory dir = RunDirectory::create(run, R"({"run":{}})", "0.1.0");
    GRPO_LOG_INFO("test", "hello run log");
    EXPECT_EQ(*dir.store().meta("status"), "running");
    EXPECT_EQ(*dir.store().meta("recipe"), R"({"run":{}})");
    EXPECT_TRUE(std::filesystem::is_directory(dir.checkpoints_path()));
    dir.finish("completed");
  }
  EXPECT_NE(read_file(d.file("demo/log.txt")).find("[test] hello run log"), std::string::npos);
  RunStore store(d.file("demo/run.db"), RunStore::Mode::kReadOnly);
  EXPECT_EQ(*store.meta("status"), "completed");
}

TEST(RunDirectoryTest, CreateRefusesToOverwriteARun) {
  TempDir d;
  RunConfig run;
  run.dir = d.path();
  run.name = "demo";
  RunDirectory::create(run, "{}", "0.1.0");
  try {
    RunDirectory::create(run, "{}", "0.1.0");
    FAIL() << "expected IoError";
  } catch (const IoError& e) {
    EXPECT_NE(std::string(e.what()).find("--resume"), std::string::npos) << e.what();
  }
}

TEST(RunDirectoryTest, ResumeNeedsAnExistingRun) {
  TempDir d;
  EXPECT_THROW(RunDirectory::resume(d.file("nothing")), IoError);
  RunConfig run;
  run.dir = d.path();
  run.name = "demo";
  RunDirectory::create(run, "{}", "0.1.0").finish("interrupted");
  RunDirectory again = RunDirectory::resume(d.file("demo"));
  EXPECT_EQ(*again.store().meta("status"), "running");
}

}  // namespace
}  // namespace grpo
