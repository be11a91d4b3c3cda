// Tests of the format (R1-Zero tags) and length (DAPO overlong, linear) rewards.
#include <gtest/gtest.h>

#include "core/error.h"
#include "rewards/format_reward.h"
#include "rewards/length_reward.h"

namespace grpo::rewards {
namespace {

using Mode = FormatReward::Mode;

TEST(FormatRewardTest, StrictAcceptsExactTemplate) {
  FormatReward strict(Mode::kStrict, /*think_prefilled=*/false);
  EXPECT_TRUE(strict.matches("<think>\nreasoning\nmore\n</think>\n<answer>\n42\n</answer>"));
}

TEST(FormatRewardTest, StrictRejectsMissingNewlinesExtraTextAndRepeats) {
  FormatReward strict(Mode::kStrict, false);
  EXPECT_FALSE(strict.matches("<think>reasoning</think><answer>42</answer>"));
  EXPECT_FALSE(strict.matches("<think>\nr\n</think>\n<answer>\n42\n</answer> trailing"));
  EXPECT_FALSE(strict.matches("<think>\nr\n</think>\n<answer>\n1\n</answer>\n<answer>\n2\n</answer>"));
  EXPECT_FALSE(strict.matches("<answer>\n42\n</answer>"));
}

TEST(FormatRewardTest, LenientAcceptsLooseWhitespaceAndSurroundingText) {
  FormatReward lenient(Mode::kLenient, false);
  EXPECT_TRUE(lenient.matches("<think>r</think><answer>42</answer>"));
  EXPECT_TRUE(lenient.matches("ok <think>r</think>\n\n <answer>42</answer>."));
  EXPECT_FALSE(lenient.matches("<answer>42</answer><think>r</think>"));
  EXPECT_FALSE(lenient.matches("<think>r</think> text between <answer>42</answer>"));
  EXPECT_FALSE(lenient.matches("no tags at all"));
}

TEST(FormatRewardTest, PrefilledThinkCountsTheOpeningTag) {
  // The R1-Zero template ends the prompt with "<think>": the completion starts inside it.
  FormatReward prefilled(Mode::kStrict, /*think_prefilled=*/true);
  EXPECT_TRUE(prefilled.matches("\nreasoning\n</think>\n<answer>\n42\n</answer>"));
  EXPECT_FALSE(FormatReward(Mode::kStrict, false).matches("\nreasoning\n</think>\n<answer>\n42\n</answer>"));
}

TEST(FormatRewardTest, ParamsAreChecked) {
  RewardSpec spec;
  spec.type = "format";
  spec.params = {{"mode", "strict"}, {"think_prefilled", true}};
  Sample s;
  s.completion = "\nr\n</think>\n<answer>\n1\n</answer>";
  EXPECT_EQ(FormatReward(spec).score(s).score, 1.0);
  spec.params = {{"mode", "strickt"}};
  EXPECT_THROW(FormatReward{spec}, ConfigError);
  spec.params = {{"mod", "strict"}};
  try {
    FormatReward{spec};
    FAIL() << "unknown param accepted";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("did you mean 'mode'"), std::string::npos) << e.what();
  }
}

TEST(LengthRewardTest, DapoSoftOverlongPunishment) {
  // L_max = 100, L_cache = 20: free up to 80, linear to -1 at 100, -1 beyond (DAPO eq. 13).
  LengthReward r(LengthReward::Mode::kOverlong, 100, 20);
  EXPECT_DOUBLE_EQ(r.score_tokens(10), 0.0);
  EXPECT_DOUBLE_EQ(r.score_tokens(80), 0.0);
  EXPECT_DOUBLE_EQ(r.score_tokens(90), -0.5);
  EXPECT_DOUBLE_EQ(r.score_tokens(100), -1.0);
  EXPECT_DOUBLE_EQ(r.score_tokens(101), -1.0);
}

TEST(LengthRewardTest, LinearPenalty) {
  LengthReward r(LengthReward::Mode::kLinear, 200, 1);
  EXPECT_DOUBLE_EQ(r.score_tokens(0), 0.0);
  EXPECT_DOUBLE_EQ(r.score_tokens(50), -0.25);
  EXPECT_DOUBLE_EQ(r.score_tokens(400), -1.0);
}

TEST(LengthRewardTest, ReadsCompletionTokensAndRequiresMaxTokens) {
  RewardSpec spec;
  spec.type = "length";
  spec.params = {{"max_tokens", 100}, {"cache_tokens", 20}};
  Sample s;
  s.completion_tokens = 95;
  EXPECT_DOUBLE_EQ(LengthReward(spec).score(s).score, -0.75);
  spec.params = nlohmann::json::object();
  EXPECT_THROW(LengthReward{spec}, ConfigError);
  spec.params = {{"max_tokens", 100}, {"cache_tokens", 200}};
  EXPECT_THROW(LengthReward{spec}, ConfigError);
}

}  // namespace
}  // namespace grpo::rewards
