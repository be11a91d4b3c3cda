// Tests of the external-process reward: the JSON-lines protocol, and what
// happens when the process is slow, crashes or writes malformed output.
#include <gtest/gtest.h>

#include "core/error.h"
#include "rewards/command_reward.h"
#include "tests/rewards/answer_sample.h"
#include "tests/rewards/rewards_test_env.h"
#include "tests/support/test_env.h"

namespace grpo::rewards {
namespace {

std::vector<std::string> script_command() {
  return {test::python(), test::source_dir() + "/tests/rewards/fixtures/scripted_reward.py"};
}

// A sample of a row whose answer is 42 (scripted_reward.py scores 1 when the completion holds it).
Sample scripted_sample(const std::string& completion) { return test::answer_sample(completion, "42"); }

TEST(CommandRewardTest, ScoresABatchThroughOneProcess) {
  CommandReward reward(script_command(), /*timeout_s=*/30);
  auto r = reward.score_batch({scripted_sample("it is 42"), scripted_sample("it is 41"), scripted_sample("42!")});
  ASSERT_EQ(r.size(), 3u);
  EXPECT_EQ(r[0].score, 1.0);
  EXPECT_EQ(r[1].score, 0.0);
  EXPECT_EQ(r[2].score, 1.0);
  for (const auto& x : r) EXPECT_TRUE(x.error.empty()) << x.error;
  EXPECT_EQ(reward.score(scripted_sample("42")).score, 1.0);
  EXPECT_EQ(reward.starts(), 1) << "the process must persist between batches";
}

TEST(CommandRewardTest, LargeBatchDoesNotDeadlock) {
  // 2000 samples of 2 KB: more than a socket buffer each way.
  CommandReward reward(script_command(), 60);
  std::vector<Sample> batch;
  for (int i = 0; i < 2000; ++i) batch.push_back(scripted_sample(std::string(2000, 'x') + (i % 2 ? "42" : "")));
  auto r = reward.score_batch(batch);
  for (int i = 0; i < 2000; ++i) ASSERT_EQ(r[i].score, i % 2 ? 1.0 : 0.0) << i << " " << r[i].error;
}

TEST(CommandRewardTest, SlowProcessTimesOutAndIsRestarted) {
  CommandReward reward(script_command(), /*timeout_s=*/0.5);
  auto r = reward.score_batch({scripted_sample("slow")});
  EXPECT_EQ(r[0].score, 0.0);
  EXPECT_NE(r[0].error.find("no answer within 0.5 s"), std::string::npos) << r[0].error;
  EXPECT_EQ(reward.score(scripted_sample("42")).score, 1.0);
  EXPECT_EQ(reward.starts(), 2);
}

TEST(CommandRewardTest, CrashIsReportedAndTheProcessRestarted) {
  CommandReward reward(script_command(), 30);
  auto r = reward.score_batch({scripted_sample("crash")});
  EXPECT_EQ(r[0].score, 0.0);
  EXPECT_NE(r[0].error.find("ended before answering"), std::string::npos) << r[0].error;
  EXPECT_NE(r[0].error.find("exit status 3"), std::string::npos) << r[0].error;
  EXPECT_EQ(reward.score(scripted_sample("42")).score, 1.0);
  EXPECT_EQ(reward.starts(), 2);
}

TEST(CommandRewardTest, AnswersBeforeACrashAreKept) {
  CommandReward reward(script_command(), 30);
  auto r = reward.score_batch({scripted_sample("42"), scripted_sample("crash"), scripted_sample("42")});
  EXPECT_EQ(r[0].score, 1.0);
  EXPECT_TRUE(r[0].error.empty());
  EXPECT_FALSE(r[1].error.empty());
  EXPECT_FALSE(r[2].error.empty());
}

TEST(CommandRewardTest, MalformedOutputIsAClearError) {
  CommandReward reward(script_command(), 30);
  auto r = reward.score_batch({scripted_sample("garbage")});
  EXPECT_NE(r[0].error.find("bad output line 'this is not json'"), std::string::npos) << r[0].error;
  r = reward.score_batch({scripted_sample("noid")});
  EXPECT_NE(r[0].error.find("\"id\""), std::string::npos) << r[0].error;
  EXPECT_EQ(reward.score(scripted_sample("42")).score, 1.0);
}

TEST(CommandRewardTest, ErrorAnswerIsKeptPerSample) {
  CommandReward reward(script_command(), 30);
  auto r = reward.score_batch({scripted_sample("error"), scripted_sample("42")});
  EXPECT_NE(r[0].error.find("cannot grade this"), std::string::npos);
  EXPECT_EQ(r[1].score, 1.0);
  EXPECT_EQ(reward.starts(), 1);
}

TEST(CommandRewardTest, MissingProgramIsAnErrorResult) {
  CommandReward reward({"/nonexistent/grpo-reward-program"}, 5);
  auto r = reward.score(scripted_sample("42"));
  EXPECT_NE(r.error.find("cannot start"), std::string::npos) << r.error;
}

TEST(CommandRewardTest, SpecNeedsACommand) {
  RewardSpec spec;
  spec.type = "command";
  EXPECT_THROW(CommandReward{spec}, ConfigError);
}

}  // namespace
}  // namespace grpo::rewards
