// `grpo eval` end to end: the binary on a tiny random checkpoint (`grpo model
// init`) and a generated or JSON-lines dataset. Checks the table, the JSON,
// the run store's rows against each other, greedy determinism, and one clear
// error per bad input.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <map>

#include <nlohmann/json.hpp>

#include "core/run_store.h"
#include "tests/support/test_env.h"

namespace grpo {
namespace {

using testing::grpo_command;
using testing::read_file;
using testing::run_command;
using testing::shell_quote;
using testing::TempDir;
using testing::write_file;

// C(n, k) as a double, by the product formula (small n only).
double choose(int64_t n, int64_t k) {
  if (k < 0 || k > n) return 0.0;
  double r = 1.0;
  for (int64_t i = 1; i <= k; ++i) r = r * static_cast<double>(n - k + i) / static_cast<double>(i);
  return r;
}

// A tokenizer trained on arithmetic questions and a tiny random Qwen2 policy, made once with the CLI.
class EvalE2ETest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    assets_ = new TempDir();
    auto corpus = run_command(grpo_command() + " data generate arithmetic --size 300 --seed 5");
    ASSERT_EQ(corpus.exit_code, 0) << corpus.err;
    std::string text;
    for (const auto& line : split_lines(corpus.out)) {
      auto row = nlohmann::json::parse(line);
      text += row["question"].get<std::string>() + " " + row["answer"].get<std::string>() + "\n";
    }
    write_file(assets_->file("corpus.txt"), text);
    auto tok = run_command(grpo_command() + " tokenizer train " + assets_->file("corpus.txt") + " --vocab 300 --out " + assets_->file("tok"));
    ASSERT_EQ(tok.exit_code, 0) << tok.err;
    auto model = run_command(grpo_command() + " model init --arch qwen2 --preset tiny --seed 3 --out " + assets_->file("model"));
    ASSERT_EQ(model.exit_code, 0) << model.err;
  }
  static void TearDownTestSuite() { delete assets_; }

  static std::vector<std::string> split_lines(const std::string& text) {
    std::vector<std::string> lines;
    size_t start = 0;
    while (start < text.size()) {
      size_t end = text.find('\n', start);
      if (end == std::string::npos) end = text.size();
      if (end > start) lines.push_back(text.substr(start, end - start));
      start = end + 1;
    }
    return lines;
  }

  // `grpo eval` of the tiny model with the common flags and `extra`.
  static testing::CommandResult eval(const TempDir& d, const std::string& name, const std::string& extra) {
    return run_command(grpo_command() + " eval " + assets_->file("model") + " --tokenizer " + assets_->file("tok") +
                       " --template plain --template-text 'Q: {question} A:' --max-new-tokens 6 --threads 1" +
                       " --run-dir " + d.path() + " --name " + name + " " + extra);
  }

  static TempDir* assets_;
};
TempDir* EvalE2ETest::assets_ = nullptr;

TEST_F(EvalE2ETest, GreedyTableAndRunStoreRows) {
  TempDir d;
  auto r = eval(d, "greedy", "--data arithmetic --size 5 --rewards math,format");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  for (const char* label : {"accuracy", "pass@1", "format rate", "mean length (tokens)", "mean reward: math", "5 problems x 1 completion(s), greedy"})
    EXPECT_NE(r.out.find(label), std::string::npos) << "table lacks '" << label << "':\n" << r.out;

  RunStore store(d.file("greedy/run.db"), RunStore::Mode::kReadOnly);
  EXPECT_EQ(*store.meta("status"), "completed");
  auto desc = nlohmann::json::parse(*store.meta("evaluation"));
  EXPECT_EQ(desc["problems"], 5);
  EXPECT_EQ(desc["decoding"], "greedy");
  auto metrics = store.step_metrics(0);
  auto samples = store.samples(0);
  ASSERT_EQ(samples.size(), 5u);  // one completion per problem
  // The stored metrics are those of the stored completions.
  double correct = 0, formatted = 0;
  for (const auto& s : samples) {
    ASSERT_TRUE(s.rewards.count("math") && s.rewards.count("format"));
    correct += s.rewards.at("math") >= 1.0;
    formatted += s.rewards.at("format") > 0.0;
  }
  EXPECT_DOUBLE_EQ(metrics.at("eval/accuracy/mean"), correct / 5.0);
  EXPECT_DOUBLE_EQ(metrics.at("eval/pass@1"), correct / 5.0);
  EXPECT_DOUBLE_EQ(metrics.at("eval/format/rate"), formatted / 5.0);
  EXPECT_GT(metrics.at("eval/completion/length/mean"), 0.0);
  EXPECT_LE(metrics.at("eval/completion/length/mean"), 6.0);
}

// Six questions "What is i + 1?" with the given gold answers.
std::string question_rows(const std::vector<std::string>& answers) {
  std::string rows;
  for (size_t i = 0; i < answers.size(); ++i)
    rows += nlohmann::json({{"question", "What is " + std::to_string(i) + " + 1?"}, {"answer", answers[i]}}).dump() + "\n";
  return rows;
}

// The last run of ASCII digits in `text`, or "" when there is none.
std::string last_digits(const std::string& text) {
  size_t end = text.find_last_of("0123456789");
  if (end == std::string::npos) return "";
  size_t start = text.find_last_not_of("0123456789", end);
  start = start == std::string::npos ? 0 : start + 1;
  return text.substr(start, end - start + 1);
}

TEST_F(EvalE2ETest, SampledJsonPassAtKAgreesWithTheStoredCompletions) {
  TempDir d;
  const std::string flags = " --rewards math --temperature 1.5 --n 6 --k 1 --k 3 --seed 11 --json";
  // A random policy is rarely right, so the gold answers are taken from what it
  // writes: a first pass shows the numbers of each group's completions; the
  // second pass, with the same prompts and seeds, samples the same completions
  // and now some of them are correct.
  write_file(d.file("probe.jsonl"), question_rows({"x", "x", "x", "x", "x", "x"}));
  auto probe = eval(d, "probe", "--data " + d.file("probe.jsonl") + flags);
  ASSERT_EQ(probe.exit_code, 0) << probe.err;
  std::vector<std::string> gold(6, "123456789");
  std::vector<SampleRecord> probed = RunStore(d.file("probe/run.db"), RunStore::Mode::kReadOnly).samples(0);
  for (const auto& s : probed)
    if (gold[s.group] == "123456789" && !last_digits(s.completion).empty()) gold[s.group] = last_digits(s.completion);
  write_file(d.file("gold.jsonl"), question_rows(gold));

  auto r = eval(d, "sampled", "--data " + d.file("gold.jsonl") + flags);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["problems"], 6);
  EXPECT_EQ(j["samples_per_problem"], 6);
  EXPECT_EQ(j["decoding"], "sampled");
  EXPECT_EQ(j["run_dir"], d.file("sampled"));

  RunStore store(d.file("sampled/run.db"), RunStore::Mode::kReadOnly);
  auto samples = store.samples(0);
  ASSERT_EQ(samples.size(), 36u);
  for (size_t i = 0; i < samples.size(); ++i) EXPECT_EQ(samples[i].completion, probed[i].completion) << "seeded sampling repeats";
  // pass@k recomputed from the stored completions with exact binomials.
  std::map<int64_t, int64_t> correct;
  int64_t total_correct = 0;
  for (const auto& s : samples) {
    correct[s.group] += s.rewards.at("math") >= 1.0;
    total_correct += s.rewards.at("math") >= 1.0;
  }
  ASSERT_EQ(correct.size(), 6u);
  EXPECT_GT(total_correct, 0) << "no completion graded correct; gold answers were taken from the completions";
  for (int64_t k : {1, 3}) {
    double expected = 0;
    for (const auto& [group, c] : correct) expected += 1.0 - choose(6 - c, k) / choose(6, k);
    expected /= 6.0;
    std::string key = "pass@" + std::to_string(k);
    EXPECT_NEAR(j["metrics"][key].get<double>(), expected, 1e-12) << key;
    EXPECT_NEAR(store.step_metrics(0).at("eval/" + key), expected, 1e-12) << key;
  }
  EXPECT_NEAR(j["metrics"]["accuracy/mean"].get<double>(), total_correct / 36.0, 1e-12);
  EXPECT_GE(j["metrics"]["pass@3"].get<double>(), j["metrics"]["pass@1"].get<double>());
}

TEST_F(EvalE2ETest, GreedyEvaluationIsDeterministic) {
  TempDir d;
  std::string flags = "--data arithmetic --size 4 --rewards math,format --json";
  auto a = eval(d, "first", flags);
  auto b = eval(d, "second", flags);
  ASSERT_EQ(a.exit_code, 0) << a.err;
  ASSERT_EQ(b.exit_code, 0) << b.err;
  auto ja = nlohmann::json::parse(a.out), jb = nlohmann::json::parse(b.out);
  EXPECT_EQ(ja["metrics"], jb["metrics"]);
  RunStore sa(d.file("first/run.db"), RunStore::Mode::kReadOnly), sb(d.file("second/run.db"), RunStore::Mode::kReadOnly);
  auto xa = sa.samples(0), xb = sb.samples(0);
  ASSERT_EQ(xa.size(), 4u);
  ASSERT_EQ(xa.size(), xb.size());
  for (size_t i = 0; i < xa.size(); ++i) {
    EXPECT_EQ(xa[i].prompt, xb[i].prompt);
    EXPECT_EQ(xa[i].completion, xb[i].completion) << "completion " << i;
    EXPECT_EQ(xa[i].rewards, xb[i].rewards);
  }
}

TEST_F(EvalE2ETest, RecipeSuppliesHeldOutRowsTemplateAndRewards) {
  TempDir d;
  nlohmann::json recipe = {
      {"model", {{"init_arch", "qwen2"}}},
      {"tokenizer", {{"path", assets_->file("tok")}}},
      {"data", {{"generator", "arithmetic"}, {"generator_size", 50}, {"eval_size", 3}}},
      {"template", {{"name", "plain"}, {"text", "Q: {question} A:"}}},
      {"rewards", {{{"type", "math"}}, {{"type", "format"}, {"weight", 0.5}}}},
      {"run", {{"name", "training-run"}, {"dir", d.path()}}},
  };
  write_file(d.file("r.json"), recipe.dump());
  auto r = run_command(grpo_command() + " eval " + assets_->file("model") + " --recipe " + d.file("r.json") +
                       " --max-new-tokens 4 --threads 1 --run-dir " + d.path() + " --name from-recipe --json");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["problems"], 3);            // the recipe's held-out rows
  EXPECT_EQ(j["decoding"], "greedy");     // not the recipe's sampling temperature
  EXPECT_EQ(j["rewards"].size(), 2u);
  EXPECT_TRUE(j["metrics"].contains("format/rate"));
  EXPECT_EQ(j["run_dir"], d.file("from-recipe"));  // never the training run's directory
  EXPECT_FALSE(std::ifstream(d.file("training-run/run.db")).good());
}

TEST_F(EvalE2ETest, MissingCheckpointNamesThePath) {
  TempDir d;
  auto r = run_command(grpo_command() + " eval " + d.file("nowhere") + " --data arithmetic --rewards math");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find(d.file("nowhere") + ": no checkpoint here"), std::string::npos) << r.err;
}

TEST_F(EvalE2ETest, BrokenDatasetLineNamesFileAndLine) {
  TempDir d;
  write_file(d.file("bad.jsonl"), "{\"question\": \"What is 1 + 1?\", \"answer\": \"2\"}\n{\"question\": oops}\n");
  auto r = eval(d, "bad", "--data " + d.file("bad.jsonl") + " --rewards math");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find(d.file("bad.jsonl") + ":2"), std::string::npos) << r.err;
  EXPECT_FALSE(std::ifstream(d.file("bad/run.db")).good()) << "no run directory for a run that cannot start";
}

TEST_F(EvalE2ETest, UnknownRewardNamesTheFlagAndTheKey) {
  TempDir d;
  auto r = eval(d, "unknown", "--data arithmetic --rewards math,formatt");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("--rewards: rewards[formatt].type"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("(did you mean 'format'?)"), std::string::npos) << r.err;
}

TEST_F(EvalE2ETest, PassAtKBeyondTheSamplesIsAnError) {
  TempDir d;
  auto r = eval(d, "k", "--data arithmetic --rewards math --temperature 1 --n 2 --k 4");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("--k 4"), std::string::npos) << r.err;
  auto g = eval(d, "g", "--data arithmetic --rewards math --n 3");
  EXPECT_EQ(g.exit_code, 1);
  EXPECT_NE(g.err.find("greedy"), std::string::npos) << g.err;
}

TEST_F(EvalE2ETest, NoCorrectnessRewardIsAnError) {
  TempDir d;
  auto r = eval(d, "fmt", "--data arithmetic --rewards format");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("--rewards: rewards: accuracy and pass@k need"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace grpo
