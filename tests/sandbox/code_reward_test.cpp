// Correctness of judging: stdin/stdout and assertion tests (sandbox/code_tests.h),
// the `code` reward (rewards/code_reward.h) with right, wrong and partially
// right solutions, program extraction, and the pool.
#include <gtest/gtest.h>

#include "rewards/code_reward.h"
#include "rewards/reward_registry.h"
#include "sandbox/code_tests.h"
#include "sandbox/pool.h"
#include "sandbox_fixture.h"

namespace grpo::sandbox::testing {
namespace {

using rewards::CodeReward;
using rewards::CodeRewardOptions;
using rewards::Sample;

const std::vector<IoCase> kDoubling = {{"1\n", "2\n"}, {"5\n", "10\n"}, {"7\n", "14\n"}};

CodeTestOptions options() {
  CodeTestOptions o;
  o.limits = short_limits();
  return o;
}

TEST(CodeTestsTest, RightWrongAndPartialStdinStdout) {
  Runner& r = shared_runner("namespace");
  EXPECT_EQ(run_io_tests(r, {Language::kPython, "print(int(input()) * 2)"}, kDoubling, options()).fraction(), 1.0);
  EXPECT_EQ(run_io_tests(r, {Language::kPython, "print(int(input()) + 2)"}, kDoubling, options()).fraction(), 0.0);
  // Right except for 5: passes 2 of 3.
  CodeTestReport partial = run_io_tests(r, {Language::kPython, "n = int(input())\nprint(n * 2 if n != 5 else 11)"}, kDoubling, options());
  EXPECT_EQ(partial.passed, 2u);
  EXPECT_EQ(partial.cases[1].verdict, Verdict::kWrongAnswer);
  EXPECT_EQ(partial.cases[1].detail, "line 1: expected '10', got '11'");
}

TEST(CodeTestsTest, StopOnFirstFailureSkipsTheRest) {
  CodeTestOptions o = options();
  o.stop_on_first_failure = true;
  CodeTestReport r = run_io_tests(shared_runner("namespace"), {Language::kPython, "print(0)"}, kDoubling, o);
  EXPECT_EQ(r.cases.size(), 1u);
  EXPECT_EQ(r.passed, 0u);
  EXPECT_EQ(r.total, 3u);
}

TEST(CodeTestsTest, CppCompilesOnceForAllCases) {
  Program p{Language::kCpp, "#include <cstdio>\nint main(){int n; std::scanf(\"%d\", &n); std::printf(\"%d\\n\", 2 * n);}\n", ""};
  CodeTestReport r = run_io_tests(shared_runner("namespace"), p, kDoubling, options());
  EXPECT_EQ(r.passed, 3u);
}

TEST(CodeTestsTest, AssertionTests) {
  std::vector<std::string> asserts = {"assert add(1, 2) == 3", "assert add(2, 2) == 4", "assert add(0, 0) == 1"};
  CodeTestReport r = run_assert_tests(shared_runner("namespace"), {Language::kPython, "def add(a, b):\n    return a + b\n"}, asserts, options());
  EXPECT_EQ(r.passed, 2u);
  EXPECT_EQ(r.cases[2].verdict, Verdict::kWrongAnswer);
}

TEST(ExtractProgramTest, LastFencedBlockOfTheLanguage) {
  std::string c = "<think>```python\nprint(1)\n```</think>\n```python\nprint(2)\n```\n```text\nnot code\n```\n";
  EXPECT_EQ(rewards::extract_program(c, Language::kPython).value(), "print(2)\n");
  EXPECT_EQ(rewards::extract_program("```\nprint(3)\n```", Language::kPython).value(), "print(3)\n");
  EXPECT_EQ(rewards::extract_program("<answer>print(4)</answer>", Language::kPython).value(), "print(4)");
  EXPECT_FALSE(rewards::extract_program("<answer>print(4)</answer>", Language::kPython, "fenced").has_value());
  EXPECT_FALSE(rewards::extract_program("no code", Language::kPython).has_value());
}

CodeRewardOptions reward_options() {
  CodeRewardOptions o;
  o.tests = options();
  o.sandbox = test_config("namespace");
  o.sandbox.workers = 2;
  return o;
}

Sample apps_sample(const std::string& code) {
  Sample s;
  s.completion = "Here:\n```python\n" + code + "\n```\n";
  s.row = {{"input_output", R"({"inputs": ["1\n", "5\n", "7\n"], "outputs": ["2\n", "10\n", "14\n"]})"}};
  return s;
}

TEST(CodeRewardTest, FractionOfApps) {
  CodeReward reward(reward_options(), shared_runner("namespace"));
  std::vector<rewards::RewardResult> r = reward.score_batch(
      {apps_sample("print(int(input()) * 2)"), apps_sample("n = int(input())\nprint(n * 2 if n != 5 else 0)"),
       apps_sample("print(int(input()) + 3)"), apps_sample("print(undefined_name)")});
  EXPECT_DOUBLE_EQ(r[0].score, 1.0);
  EXPECT_NEAR(r[1].score, 2.0 / 3.0, 1e-12);
  EXPECT_DOUBLE_EQ(r[2].score, 0.0);
  EXPECT_DOUBLE_EQ(r[3].score, 0.0);
  for (const auto& x : r) EXPECT_EQ(x.error, "");
}

TEST(CodeRewardTest, AllOrNothing) {
  CodeRewardOptions o = reward_options();
  o.all_or_nothing = true;
  CodeReward reward(o, shared_runner("namespace"));
  EXPECT_DOUBLE_EQ(reward.score(apps_sample("n = int(input())\nprint(n * 2 if n != 5 else 0)")).score, 0.0);
  EXPECT_DOUBLE_EQ(reward.score(apps_sample("print(int(input()) * 2)")).score, 1.0);
}

TEST(CodeRewardTest, MbppAndHumanEvalAssertions) {
  CodeReward reward(reward_options(), shared_runner("namespace"));
  Sample mbpp;
  mbpp.completion = "```python\ndef square(x):\n    return x * x if x < 3 else 0\n```";
  mbpp.row = {{"test_list", {"assert square(1) == 1", "assert square(2) == 4", "assert square(3) == 9", "assert square(4) == 16"}}};
  EXPECT_DOUBLE_EQ(reward.score(mbpp).score, 0.5);
  Sample he;
  he.completion = "```python\ndef inc(x):\n    return x + 1\n```";
  he.row = {{"test", "def check(candidate):\n    assert candidate(1) == 2\n"}, {"entry_point", "inc"}};
  EXPECT_DOUBLE_EQ(reward.score(he).score, 1.0);
}

TEST(CodeRewardTest, NoCodeScoresZero) {
  CodeReward reward(reward_options(), shared_runner("namespace"));
  Sample s = apps_sample("");
  s.completion = "I don't know.";
  EXPECT_DOUBLE_EQ(reward.score(s).score, 0.0);
}

// A runner whose sandbox always fails.
class BrokenRunner : public Runner {
 public:
  Execution run(const Program&, const Limits&) override {
    Execution e;
    e.detail = "clone: Operation not permitted";
    return e;
  }
  const SandboxPlan& plan() const override { return plan_; }
  SandboxPlan plan_;
};

TEST(CodeRewardTest, SandboxErrorIsAnErrorNotAWrongProgram) {
  BrokenRunner broken;
  CodeReward reward(reward_options(), broken);
  rewards::RewardResult r = reward.score(apps_sample("print(int(input()) * 2)"));
  EXPECT_NE(r.error.find("sandbox error: clone"), std::string::npos) << r.error;
}

TEST(CodeRewardTest, RegisteredAsCode) { EXPECT_TRUE(rewards::RewardRegistry::instance().has("code")); }

TEST(SandboxPoolTest, WorkersBoundedByCoresAndMemory) {
  EXPECT_EQ(pool_workers(8, 1024, 256), 4);
  EXPECT_EQ(pool_workers(2, 4096, 256), 2);
  EXPECT_EQ(pool_workers(8, 100, 256), 1);
}

TEST(SandboxPoolTest, RunsAllInOrder) {
  SandboxConfig c = test_config("namespace");
  c.workers = 2;
  SandboxPool pool(shared_runner("namespace"), c);
  std::vector<Program> programs;
  for (int i = 0; i < 6; ++i) programs.push_back({Language::kPython, "print(" + std::to_string(i) + ")"});
  std::vector<Execution> out = pool.run_all(programs, short_limits());
  ASSERT_EQ(out.size(), 6u);
  for (int i = 0; i < 6; ++i) EXPECT_EQ(out[i].stdout_text, std::to_string(i) + "\n");
}

}  // namespace
}  // namespace grpo::sandbox::testing
