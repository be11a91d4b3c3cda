#include "core/dataset.h"

#include <gtest/gtest.h>

#include "core/error.h"
#include "core/prompt_sampler.h"
#include "core/task_generators.h"
#include "tests/support/test_env.h"

namespace grpo {
namespace {

using testing::TempDir;
using testing::write_file;

std::string load_error(const std::string& path) {
  try {
    Dataset::load_jsonl(path, {"question", "answer"});
  } catch (const Error& e) {
    return e.what();
  }
  return "no error";
}

TEST(DatasetTest, LoadsRowsAndSkipsBlankLines) {
  TempDir d;
  write_file(d.file("a.jsonl"), "{\"question\": \"1+1\", \"answer\": \"2\"}\n\n{\"question\": \"2+2\", \"answer\": \"4\", \"x\": 1}\n");
  Dataset ds = Dataset::load_jsonl(d.file("a.jsonl"), {"question", "answer"});
  ASSERT_EQ(ds.size(), 2u);
  EXPECT_EQ(ds.row(1).fields["answer"], "4");
  EXPECT_EQ(ds.row(1).source, d.file("a.jsonl") + ":3");
}

TEST(DatasetTest, BrokenLineNamesFileAndLine) {
  TempDir d;
  write_file(d.file("a.jsonl"), "{\"question\": \"q\", \"answer\": \"a\"}\n{\"question\": \"q\", \n");
  EXPECT_EQ(load_error(d.file("a.jsonl")).rfind(d.file("a.jsonl") + ":2: not valid JSON", 0), 0u) << load_error(d.file("a.jsonl"));
}

TEST(DatasetTest, MissingFieldNamesTheFieldAndTheFix) {
  TempDir d;
  write_file(d.file("a.jsonl"), "{\"problem\": \"q\", \"answer\": \"a\"}\n");
  std::string e = load_error(d.file("a.jsonl"));
  EXPECT_NE(e.find(":1: missing field 'question' (row has: answer, problem)"), std::string::npos) << e;
  EXPECT_NE(e.find("data.prompt_field"), std::string::npos) << e;
}

TEST(DatasetTest, EmptyAndMissingFilesAreErrors) {
  TempDir d;
  write_file(d.file("empty.jsonl"), "\n");
  EXPECT_EQ(load_error(d.file("empty.jsonl")), d.file("empty.jsonl") + ": dataset is empty");
  EXPECT_EQ(load_error(d.file("none.jsonl")), d.file("none.jsonl") + ": cannot open dataset file");
  write_file(d.file("list.jsonl"), "[1, 2]\n");
  EXPECT_EQ(load_error(d.file("list.jsonl")), d.file("list.jsonl") + ":1: expected a JSON object per line");
}

TEST(TaskGeneratorsTest, CountdownTargetsAreReachableWithTheGivenNumbers) {
  Dataset ds = generate_task("countdown", 200, 7, {{"max_number", 20}});
  ASSERT_EQ(ds.size(), 200u);
  for (const auto& r : ds.rows()) {
    auto nums = r.fields["nums"].get<std::vector<int64_t>>();
    EXPECT_GE(nums.size(), 3u);
    EXPECT_LE(nums.size(), 4u);
    for (auto n : nums) EXPECT_TRUE(n >= 1 && n <= 20);
    int64_t t = r.fields["target"].get<int64_t>();
    EXPECT_TRUE(t >= 1 && t <= 100);
    EXPECT_EQ(r.fields["answer"], std::to_string(t));
  }
}

TEST(TaskGeneratorsTest, ArithmeticAnswersAreCorrect) {
  Dataset ds = generate_task("arithmetic", 100, 3, {{"max_operand", 50}, {"ops", "+*"}});
  for (const auto& r : ds.rows()) {
    int64_t a, b;
    char op;
    ASSERT_EQ(std::sscanf(r.fields["question"].get<std::string>().c_str(), "What is %ld %c %ld?", &a, &op, &b), 3);
    int64_t want = op == '+' ? a + b : a * b;
    EXPECT_EQ(r.fields["answer"], std::to_string(want));
    EXPECT_EQ(r.fields["expression"], std::to_string(a) + " " + op + " " + std::to_string(b));
  }
}

TEST(TaskGeneratorsTest, SameSeedSameRowsOtherSeedOtherRows) {
  auto a = generate_task("countdown", 50, 11, nlohmann::json::object());
  auto b = generate_task("countdown", 50, 11, nlohmann::json::object());
  auto c = generate_task("countdown", 50, 12, nlohmann::json::object());
  for (size_t i = 0; i < 50; ++i) EXPECT_EQ(a.row(i).fields, b.row(i).fields);
  int same = 0;
  for (size_t i = 0; i < 50; ++i) same += a.row(i).fields == c.row(i).fields;
  EXPECT_LT(same, 5);
}

TEST(TaskGeneratorsTest, HeldOutRowsNeverAppearInTraining) {
  TaskSplit s = generate_task_split("arithmetic", 500, 100, 5, {{"max_operand", 30}});
  EXPECT_EQ(s.eval.size(), 100u);
  std::set<std::string> train;
  for (const auto& r : s.train.rows()) train.insert(r.fields["question"].get<std::string>());
  for (const auto& r : s.eval.rows()) EXPECT_EQ(train.count(r.fields["question"].get<std::string>()), 0u);
}

TEST(TaskGeneratorsTest, UnknownTaskOrParameterIsAConfigError) {
  EXPECT_THROW(generate_task("countdwn", 5, 0, nlohmann::json::object()), ConfigError);
  try {
    generate_task("countdown", 5, 0, {{"max_nums", 3}});
    FAIL();
  } catch (const ConfigError& e) {
    EXPECT_EQ(e.key_path(), "data.generator_params.max_nums");
  }
}

TEST(PromptSamplerTest, EachEpochVisitsEveryRowOnce) {
  PromptSampler s(10, 1, true);
  std::vector<size_t> epoch = s.next(10);
  std::sort(epoch.begin(), epoch.end());
  for (size_t i = 0; i < 10; ++i) EXPECT_EQ(epoch[i], i);
  EXPECT_EQ(s.cursor(), (DataCursor{0, 10}));
  s.next(1);
  EXPECT_EQ(s.cursor(), (DataCursor{1, 1}));
}

TEST(PromptSamplerTest, ResumingFromACursorDrawsTheSameRows) {
  PromptSampler a(37, 9, true);
  a.next(50);
  DataCursor saved = a.cursor();
  std::vector<size_t> expected = a.next(60);
  PromptSampler b(37, 9, true, saved);
  EXPECT_EQ(b.next(60), expected);
}

TEST(PromptSamplerTest, NoShuffleKeepsFileOrder) {
  PromptSampler s(3, 1, false);
  EXPECT_EQ(s.next(5), (std::vector<size_t>{0, 1, 2, 0, 1}));
}

}  // namespace
}  // namespace grpo
