// End-to-end tests of `grpo score`: JSON lines in, components and total out,
// a bad line reported with its line number, a summary on stderr.
#include <gtest/gtest.h>

#include <sstream>

#include <nlohmann/json.hpp>

#include "tests/rewards/rewards_test_env.h"
#include "tests/support/test_env.h"

namespace grpo::rewards {
namespace {

std::vector<nlohmann::json> json_lines(const std::string& text) {
  std::vector<nlohmann::json> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);)
    if (!line.empty()) out.push_back(nlohmann::json::parse(line));
  return out;
}

TEST(ScoreCommandTest, OneRewardWithParams) {
  testing::TempDir dir;
  testing::write_file(dir.file("s.jsonl"),
                      "{\"completion\": \"so \\\\boxed{4}\", \"solution\": \"4\"}\n"
                      "\n"
                      "{\"completion\": \"so \\\\boxed{5}\", \"solution\": \"4\"}\n");
  auto r = testing::run_command(testing::grpo_binary() + " score --reward math --param answer_field=solution --input " +
                                dir.file("s.jsonl"));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto lines = json_lines(r.out);
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[0]["components"]["math"], 1.0);
  EXPECT_EQ(lines[0]["total"], 1.0);
  EXPECT_EQ(lines[1]["total"], 0.0);
  EXPECT_NE(r.err.find("accuracy (score > 0) 0.5"), std::string::npos) << r.err;
}

TEST(ScoreCommandTest, RecipeRewardsAreWeighted) {
  testing::TempDir dir;
  testing::write_file(dir.file("s.jsonl"),
                      "{\"completion\": \"<think>x</think><answer>3 * 5 + 7</answer>\", \"nums\": [3, 5, 7], \"target\": 22}\n");
  testing::write_file(dir.file("recipe.json"),
                      "{\"extends\": \"" + test::source_dir() + "/recipes/base.json\", \"rewards\": ["
                      "{\"type\": \"countdown\", \"weight\": 1.0}, {\"type\": \"format\", \"weight\": 0.5}]}\n");
  auto r = testing::run_command(testing::grpo_binary() + " score --recipe " + dir.file("recipe.json") + " --input " +
                                dir.file("s.jsonl"));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto lines = json_lines(r.out);
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0]["components"]["countdown"], 1.0);
  EXPECT_EQ(lines[0]["components"]["format"], 1.0);
  EXPECT_EQ(lines[0]["total"], 1.5);  // countdown 1.0 + format 0.5
}

TEST(ScoreCommandTest, BadLineNamesItsNumber) {
  testing::TempDir dir;
  testing::write_file(dir.file("s.jsonl"), "{\"completion\": \"a\", \"answer\": \"1\"}\n{oops\n");
  auto r = testing::run_command(testing::grpo_binary() + " score --reward math --input " + dir.file("s.jsonl"));
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("s.jsonl:2: not a JSON object"), std::string::npos) << r.err;
  testing::write_file(dir.file("t.jsonl"), "{\"answer\": \"1\"}\n");
  r = testing::run_command(testing::grpo_binary() + " score --reward math --input " + dir.file("t.jsonl"));
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("t.jsonl:1: missing \"completion\""), std::string::npos) << r.err;
}

TEST(ScoreCommandTest, NeedsARecipeOrAReward) {
  testing::TempDir dir;
  testing::write_file(dir.file("s.jsonl"), "{\"completion\": \"a\"}\n");
  auto r = testing::run_command(testing::grpo_binary() + " score --input " + dir.file("s.jsonl"));
  EXPECT_EQ(r.exit_code, 2) << r.err;
}

TEST(ScoreCommandTest, ExampleRecipeValidates) {
  auto r = testing::run_command(testing::grpo_binary() + " config validate " + test::source_dir() +
                                "/examples/custom-reward/recipe.json");
  EXPECT_EQ(r.exit_code, 0) << r.err;
}

}  // namespace
}  // namespace grpo::rewards
