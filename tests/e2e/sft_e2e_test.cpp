// `grpo sft` end to end: pretraining on a text corpus lowers the loss and
// leaves a run `grpo report` reads and a final model directory; prompt/completion pairs train; a recipe without sft data fails with
// one line naming the key.
#include <gtest/gtest.h>

#include <filesystem>

#include <nlohmann/json.hpp>

#include "core/run_store.h"
#include "tests/support/test_env.h"

namespace grpo {
namespace {

namespace fs = std::filesystem;
using testing::grpo_command;
using testing::run_command;
using testing::shell_quote;
using testing::TempDir;
using testing::write_file;

// A small corpus and its tokenizer, made once with the CLI.
class SftE2ETest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    assets_ = new TempDir();
    std::string corpus;
    const char* words[] = {"red", "blue", "green", "cat", "dog", "tree"};
    for (int i = 0; i < 300; ++i)
      corpus += std::string("the ") + words[i % 6] + " is next to the " + words[(i * 5 + 1) % 6] + ".\n";
    write_file(assets_->file("corpus.txt"), corpus);
    auto tok = run_command(grpo_command() + " tokenizer train " + assets_->file("corpus.txt") + " --vocab 300 --out " + assets_->file("tok"));
    ASSERT_EQ(tok.exit_code, 0) << tok.err;
    write_file(assets_->file("pairs.jsonl"),
               "{\"prompt\": \"the red\", \"completion\": \" is next to the blue.\"}\n"
               "{\"prompt\": \"the cat\", \"completion\": \" is next to the tree.\"}\n");
  }
  static void TearDownTestSuite() { delete assets_; }

  // An SFT recipe on a fresh tiny Qwen2; `sft` is its sft section.
  static std::string recipe(const TempDir& d, const std::string& name, int steps, const nlohmann::json& sft) {
    nlohmann::json r = {
        {"model", {{"init_arch", "qwen2"}, {"init_preset", "tiny"}}},
        {"tokenizer", {{"path", assets_->file("tok")}}},
        {"data", {{"generator", "arithmetic"}}},
        {"template", {{"name", "plain"}, {"text", "{prompt}"}}},
        {"sft", sft},
        {"learner", {{"lr", 1e-2}, {"micro_batch_tokens", 256}}},
        {"run", {{"name", name}, {"dir", d.path()}, {"steps", steps}, {"seed", 1}, {"threads", 1}}},
    };
    std::string path = d.file(name + ".json");
    write_file(path, r.dump(2));
    return path;
  }

  static TempDir* assets_;
};
TempDir* SftE2ETest::assets_ = nullptr;

std::vector<double> metric(const std::string& db, const std::string& name) {
  RunStore store(db, RunStore::Mode::kReadOnly);
  std::vector<double> out;
  for (const auto& p : store.metric(name)) out.push_back(p.value);
  return out;
}

TEST_F(SftE2ETest, PretrainingOnTextLowersTheLossAndLeavesAReportableRun) {
  TempDir d;
  auto r = run_command(grpo_command() + " sft " +
                       recipe(d, "pre", 30, {{"text", assets_->file("corpus.txt")}, {"seq_len", 32}, {"batch_size", 8}}));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto loss = metric(d.file("pre/run.db"), "loss");
  ASSERT_EQ(loss.size(), 30u);
  EXPECT_LT(loss.back(), 0.5 * loss.front()) << "loss " << loss.front() << " -> " << loss.back();
  EXPECT_EQ(metric(d.file("pre/run.db"), "learning_rate").size(), 30u);
  EXPECT_GT(metric(d.file("pre/run.db"), "throughput/tokens_per_s").back(), 0);
  RunStore store(d.file("pre/run.db"), RunStore::Mode::kReadOnly);
  EXPECT_EQ(*store.meta("status"), "completed");
  // The final model is a Hugging Face directory with its tokenizer; a checkpoint was recorded.
  EXPECT_TRUE(fs::exists(d.file("pre/final/config.json")));
  EXPECT_TRUE(fs::exists(d.file("pre/final/tokenizer.json")));
  EXPECT_TRUE(fs::exists(d.file("pre/checkpoints/step-00000030/policy/config.json")));
  auto report = run_command(grpo_command() + " report " + d.file("pre"));
  EXPECT_EQ(report.exit_code, 0) << report.err;
}

TEST_F(SftE2ETest, PairsTrainOnCompletions) {
  TempDir d;
  auto r = run_command(grpo_command() + " sft " + recipe(d, "pairs", 20, {{"pairs", assets_->file("pairs.jsonl")}, {"batch_size", 2}}));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto loss = metric(d.file("pairs/run.db"), "loss");
  ASSERT_EQ(loss.size(), 20u);
  EXPECT_LT(loss.back(), 0.5 * loss.front()) << "loss " << loss.front() << " -> " << loss.back();
  // Every step trains on exactly the completion tokens of both rows, never the prompts.
  auto targets = metric(d.file("pairs/run.db"), "tokens/target");
  auto completion = run_command("printf '%s\\n' '\" is next to the blue.\"' '\" is next to the tree.\"' | " + grpo_command() +
                                " tokenizer encode --tokenizer " + assets_->file("tok"));
  ASSERT_EQ(completion.exit_code, 0) << completion.err;
  size_t ids = 0;
  for (size_t from = 0, nl; (nl = completion.out.find('\n', from)) != std::string::npos; from = nl + 1)
    ids += nlohmann::json::parse(completion.out.substr(from, nl - from)).size();
  EXPECT_EQ(targets.front(), static_cast<double>(ids + 2));  // + the EOS after each completion
}

TEST_F(SftE2ETest, RecipeWithoutSftDataFailsNamingTheKey) {
  TempDir d;
  nlohmann::json no_data = nlohmann::json::object();
  std::string path = recipe(d, "none", 2, no_data);
  // Without sft data the recipe also needs rewards to load at all; give it one.
  auto j = nlohmann::json::parse(testing::read_file(path));
  j["rewards"] = {{{"type", "math"}}};
  write_file(path, j.dump());
  auto r = run_command(grpo_command() + " sft " + path);
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("sft.text"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(d.file("none/run.db")));
}

}  // namespace
}  // namespace grpo
