// Tests of the Countdown reward (TinyZero): 1 for a correct equation, 0.1 for
// a well-formed wrong one, 0 without an answer.
#include <gtest/gtest.h>

#include "rewards/countdown_reward.h"

namespace grpo::rewards {
namespace {

using V = CountdownVerdict;

double score_of(const std::string& completion, std::vector<long> nums = {3, 5, 7}, double target = 22) {
  CountdownReward reward;
  Sample s;
  s.completion = completion;
  s.row = {{"nums", nums}, {"target", target}};
  return reward.score(s).score;
}

TEST(CountdownTest, ValidEquationScoresOne) {
  EXPECT_EQ(check_countdown("<answer>3 * 5 + 7</answer>", {3, 5, 7}, 22), V::kCorrect);
  EXPECT_EQ(score_of("<think>try</think><answer>(7 + 5) * 3 - 14 + 0</answer>"), 0.1);  // extra numbers
  EXPECT_EQ(score_of("<think>try</think>\n<answer>7 + 3 * 5</answer>"), 1.0);
}

TEST(CountdownTest, DivisionWithinTolerance) {
  // 10 / 4 * 8 = 20 exactly in doubles; 1/3*3 is within 1e-5 of 1.
  EXPECT_EQ(check_countdown("<answer>10 / 4 * 8</answer>", {4, 8, 10}, 20), V::kCorrect);
  EXPECT_EQ(check_countdown("<answer>1 / 3 * 3</answer>", {1, 3, 3}, 1), V::kCorrect);
}

TEST(CountdownTest, ReusedNumber) {
  EXPECT_EQ(check_countdown("<answer>5 * 5 - 3</answer>", {3, 5, 7}, 22), V::kWrongNumbers);
  EXPECT_EQ(score_of("<answer>5 * 5 - 3</answer>"), 0.1);
}

TEST(CountdownTest, MissingNumber) {
  EXPECT_EQ(check_countdown("<answer>3 * 5</answer>", {3, 5, 7}, 15), V::kWrongNumbers);
  EXPECT_EQ(score_of("<answer>3 * 5</answer>", {3, 5, 7}, 15), 0.1);
}

TEST(CountdownTest, WrongValue) {
  EXPECT_EQ(check_countdown("<answer>3 + 5 + 7</answer>", {3, 5, 7}, 22), V::kWrongValue);
  EXPECT_EQ(score_of("<answer>3 + 5 + 7</answer>"), 0.1);
}

TEST(CountdownTest, DivisionByZero) {
  EXPECT_EQ(check_countdown("<answer>7 / (5 - 5) + 3</answer>", {3, 5, 5, 7}, 22), V::kNotEvaluable);
  EXPECT_EQ(score_of("<answer>7 / (5 - 5) + 3</answer>", {3, 5, 5, 7}), 0.1);
}

TEST(CountdownTest, GarbageAndCodeAreNeverEvaluated) {
  EXPECT_EQ(check_countdown("<answer>__import__('os').system('x')</answer>", {3, 5, 7}, 22), V::kBadCharacters);
  EXPECT_EQ(check_countdown("<answer>3 ** 5 + 7</answer>", {3, 5, 7}, 22), V::kWrongNumbers);
  EXPECT_EQ(check_countdown("<answer>((3 + 5) * 7</answer>", {3, 5, 7}, 22), V::kNotEvaluable);
  EXPECT_EQ(score_of("<answer>three times five plus seven</answer>"), 0.1);
  EXPECT_EQ(score_of("<answer>)(*&</answer>"), 0.1);
}

TEST(CountdownTest, NoAnswerScoresZero) {
  EXPECT_EQ(score_of("3 * 5 + 7 = 22"), 0.0);
  EXPECT_EQ(score_of("<answer>3 * 5 + 7"), 0.0);
  EXPECT_EQ(score_of(""), 0.0);
}

TEST(CountdownTest, LastAnswerCounts) {
  EXPECT_EQ(score_of("<answer>3 + 5 + 7</answer> no wait <answer>3 * 5 + 7</answer>"), 1.0);
}

TEST(CountdownTest, ParserHandlesPrecedenceAndUnaryMinus) {
  std::vector<long> used;
  EXPECT_DOUBLE_EQ(*evaluate_countdown_equation("2 + 3 * 4", &used), 14.0);
  EXPECT_DOUBLE_EQ(*evaluate_countdown_equation("(2 + 3) * 4", nullptr), 20.0);
  EXPECT_DOUBLE_EQ(*evaluate_countdown_equation("-(2 - 8) / 3", nullptr), 2.0);
  EXPECT_EQ(used, (std::vector<long>{2, 3, 4}));
  EXPECT_FALSE(evaluate_countdown_equation("2 +", nullptr).has_value());
  EXPECT_FALSE(evaluate_countdown_equation(std::string(10000, '(') + "1" + std::string(10000, ')'), nullptr));
}

TEST(CountdownTest, RowWithoutNumbersIsAnError) {
  CountdownReward reward;
  Sample s;
  s.completion = "<answer>1</answer>";
  s.row = {{"target", 1}};
  EXPECT_FALSE(reward.score(s).error.empty());
  s.row = {{"numbers", {1}}, {"target", 1}};  // the "numbers" spelling is accepted too
  EXPECT_EQ(reward.score(s).score, 1.0);
}

}  // namespace
}  // namespace grpo::rewards
