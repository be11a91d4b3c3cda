// The grpo binary's contract with scripts: exit 0 on success, 2 on usage
// errors (with a suggestion), 1 on runtime failures (one line).
#include <gtest/gtest.h>

#include "tests/support/test_env.h"

namespace grpo {
namespace {

using testing::grpo_binary;
using testing::run_command;
using testing::shell_quote;

testing::CommandResult grpo(const std::string& args) { return run_command(shell_quote(grpo_binary()) + " " + args); }

TEST(CliUsageTest, UnknownCommandSuggestsTheNearestAndExits2) {
  auto r = grpo("config shwo x.json");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("unknown command 'shwo' (did you mean 'show'?)"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("grpo config --help"), std::string::npos) << r.err;
}

TEST(CliUsageTest, UnknownOptionExits2WithSuggestion) {
  auto r = grpo("version --verbos");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("--verbos"), std::string::npos) << r.err;
}

TEST(CliUsageTest, MissingArgumentExits2) {
  auto r = grpo("config show");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("recipe is required"), std::string::npos) << r.err;
}

TEST(CliUsageTest, NoCommandExits2) {
  EXPECT_EQ(grpo("").exit_code, 2);
}

TEST(CliUsageTest, BadOptionValueExits2) {
  auto r = grpo("--log-level loud version");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("loud"), std::string::npos) << r.err;
}

TEST(CliUsageTest, HelpWorksAtEveryLevel) {
  for (const char* args : {"--help", "config --help", "config show --help", "config docs --help", "version --help"}) {
    auto r = grpo(args);
    EXPECT_EQ(r.exit_code, 0) << args << ": " << r.err;
    EXPECT_NE(r.out.find("Usage"), std::string::npos) << args;
  }
}

TEST(CliUsageTest, RuntimeFailureExits1WithOneLine) {
  testing::TempDir d;
  testing::write_file(d.file("r.json"), R"({"learner": {"lr": -1}})");
  auto r = grpo("config validate " + d.file("r.json"));
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err, "grpo: error: " + d.file("r.json") + ": learner.lr: must be > 0, got -1\n");
}

TEST(CliUsageTest, VersionNamesTheRuntime) {
  auto r = grpo("version");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("LibTorch"), std::string::npos) << r.out;
}

}  // namespace
}  // namespace grpo
