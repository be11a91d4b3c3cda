// `grpo train` end to end with real processes: a tiny policy learns a toy
// task; workers die and are replaced; SIGTERM stops cleanly; a SIGKILLed run
// resumes to exactly the parameters of an uninterrupted one; bad inputs fail
// before any work with one clear line.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

#include <nlohmann/json.hpp>

#include "core/run_store.h"
#include "tests/support/test_env.h"

namespace grpo {
namespace {

namespace fs = std::filesystem;
using testing::read_file;
using testing::run_command;
using testing::shell_quote;
using testing::TempDir;
using testing::write_file;

std::string grpo() { return shell_quote(testing::grpo_binary()); }

// A tokenizer and a tiny random Qwen2 policy, made once with the CLI.
class TrainE2ETest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    assets_ = new TempDir();
    std::string corpus;
    for (int i = 0; i < 400; ++i) corpus += "What is " + std::to_string(i) + " + " + std::to_string(i * 7 % 50) + "? aaaa bbb abc\n";
    write_file(assets_->file("corpus.txt"), corpus);
    auto tok = run_command(grpo() + " tokenizer train " + assets_->file("corpus.txt") + " --vocab 300 --out " + assets_->file("tok"));
    ASSERT_EQ(tok.exit_code, 0) << tok.err;
    auto model = run_command(grpo() + " model init --arch qwen2 --preset tiny --out " + assets_->file("model"));
    ASSERT_EQ(model.exit_code, 0) << model.err;
    // The toy task: the share of 'a' characters in the completion. Dense, so a
    // tiny random policy can learn it in a few steps.
    write_file(assets_->file("reward.py"),
               "import json, sys\n"
               "for line in sys.stdin:\n"
               "    s = json.loads(line)\n"
               "    c = s['completion']\n"
               "    print(json.dumps({'id': s['id'], 'score': c.count('a') / max(len(c), 1)}))\n");
  }
  static void TearDownTestSuite() { delete assets_; }

  // A recipe for the toy task; `extra` is merged over it (JSON object text).
  std::string recipe(const TempDir& d, const std::string& name, int workers, int steps,
                     const std::string& extra = "{}") const {
    nlohmann::json r = {
        {"model", {{"path", assets_->file("model")}}},
        {"tokenizer", {{"path", assets_->file("tok")}}},
        {"data", {{"generator", "arithmetic"}, {"generator_size", 200}, {"eval_size", 0}, {"prompts_per_step", 2}}},
        {"template", {{"name", "plain"}, {"text", "{question}"}}},
        {"rollout", {{"num_generations", 8}, {"max_new_tokens", 12}, {"workers", workers}}},
        {"rewards", {{{"type", "command"}, {"command", {"/usr/bin/python3", assets_->file("reward.py")}}}}},
        {"learner", {{"lr", 0.01}, {"checkpoint_every", 2}, {"keep_last", 2}}},
        {"run", {{"name", name}, {"dir", d.path()}, {"steps", steps}, {"seed", 1}, {"threads", 1}}},
    };
    r.merge_patch(nlohmann::json::parse(extra));
    std::string path = d.file(name + ".json");
    write_file(path, r.dump(2));
    return path;
  }

  static std::vector<double> metric(const std::string& db, const std::string& name) {
    RunStore store(db, RunStore::Mode::kReadOnly);
    std::vector<double> out;
    for (const auto& p : store.metric(name)) out.push_back(p.value);
    return out;
  }

  static TempDir* assets_;
};
TempDir* TrainE2ETest::assets_ = nullptr;

double mean(const std::vector<double>& v, size_t from, size_t to) {
  double s = 0;
  for (size_t i = from; i < to; ++i) s += v[i];
  return s / static_cast<double>(to - from);
}

// Starts `command` in the background; returns its pid.
pid_t spawn(const std::string& command) {
  pid_t pid = fork();
  if (pid == 0) {
    execl("/bin/sh", "sh", "-c", ("exec " + command + " >/dev/null 2>&1").c_str(), nullptr);
    _exit(127);
  }
  return pid;
}

// Waits until the run store at `db` has committed step >= `step`.
bool wait_for_step(const std::string& db, int64_t step, pid_t pid) {
  for (int i = 0; i < 3000; ++i) {
    if (fs::exists(db)) {
      try {
        RunStore s(db, RunStore::Mode::kReadOnly);
        auto last = s.last_step();
        if (last && *last >= step) return true;
      } catch (const std::exception&) {
      }
    }
    int status = 0;
    if (waitpid(pid, &status, WNOHANG) == pid) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return false;
}

TEST_F(TrainE2ETest, RewardRisesWithTwoWorkerProcesses) {
  TempDir d;
  auto r = run_command(grpo() + " train " + recipe(d, "learn", /*workers=*/2, /*steps=*/16));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto reward = metric(d.file("learn/run.db"), "reward/mean");
  ASSERT_EQ(reward.size(), 16u);
  double first = mean(reward, 0, 4), last = mean(reward, 12, 16);
  EXPECT_GT(last, first + 0.15) << "reward/mean first 4 steps " << first << ", last 4 " << last;
  RunStore store(d.file("learn/run.db"), RunStore::Mode::kReadOnly);
  EXPECT_EQ(*store.meta("status"), "completed");
  EXPECT_FALSE(store.samples(16).empty());
  EXPECT_TRUE(fs::exists(d.file("learn/report.html")));
}

TEST_F(TrainE2ETest, KilledWorkerIsReplacedAndNoStepIsLost) {
  TempDir d;
  std::string path = recipe(d, "kill", /*workers=*/2, /*steps=*/8);
  pid_t trainer = spawn(grpo() + " train " + path);
  ASSERT_TRUE(wait_for_step(d.file("kill/run.db"), 2, trainer));
  // Kill one of the trainer's worker processes in the middle of the run.
  auto children = run_command("pgrep -P " + std::to_string(trainer) + " -f rollout-worker");
  ASSERT_FALSE(children.out.empty()) << "no worker processes found";
  pid_t victim = std::stoi(children.out);
  ASSERT_EQ(kill(victim, SIGKILL), 0);
  int status = 0;
  waitpid(trainer, &status, 0);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  RunStore store(d.file("kill/run.db"), RunStore::Mode::kReadOnly);
  EXPECT_EQ(store.steps(), (std::vector<int64_t>{1, 2, 3, 4, 5, 6, 7, 8}));
  EXPECT_GE(metric(d.file("kill/run.db"), "rollout/worker_restarts").back(), 1.0);
}

TEST_F(TrainE2ETest, SigtermCheckpointsAndExitsZero) {
  TempDir d;
  std::string path = recipe(d, "term", /*workers=*/0, /*steps=*/500);
  pid_t trainer = spawn(grpo() + " train " + path);
  ASSERT_TRUE(wait_for_step(d.file("term/run.db"), 3, trainer));
  kill(trainer, SIGTERM);
  int status = 0;
  waitpid(trainer, &status, 0);
  ASSERT_TRUE(WIFEXITED(status)) << "killed by signal " << WTERMSIG(status);
  EXPECT_EQ(WEXITSTATUS(status), 0);
  RunStore store(d.file("term/run.db"), RunStore::Mode::kReadOnly);
  EXPECT_EQ(*store.meta("status"), "interrupted");
  int64_t last = *store.last_step();
  ASSERT_FALSE(store.checkpoints().empty());
  EXPECT_EQ(store.checkpoints().back().step, last) << "the final checkpoint holds the last step";
}

TEST_F(TrainE2ETest, SigkillThenResumeEndsBitwiseEqualToAnUninterruptedRun) {
  TempDir d;
  auto full = run_command(grpo() + " train " + recipe(d, "full", /*workers=*/0, /*steps=*/7));
  ASSERT_EQ(full.exit_code, 0) << full.err;

  std::string path = recipe(d, "cut", /*workers=*/0, /*steps=*/7);
  pid_t trainer = spawn(grpo() + " train " + path);
  ASSERT_TRUE(wait_for_step(d.file("cut/run.db"), 3, trainer));
  kill(trainer, SIGKILL);
  waitpid(trainer, nullptr, 0);
  auto resumed = run_command(grpo() + " train --resume " + d.file("cut"));
  ASSERT_EQ(resumed.exit_code, 0) << resumed.err;

  RunStore store(d.file("cut/run.db"), RunStore::Mode::kReadOnly);
  EXPECT_EQ(store.steps(), (std::vector<int64_t>{1, 2, 3, 4, 5, 6, 7})) << "every step exactly once";
  std::string a = read_file(d.file("full/checkpoints/step-00000007/policy/model.safetensors"));
  std::string b = read_file(d.file("cut/checkpoints/step-00000007/policy/model.safetensors"));
  EXPECT_TRUE(a == b) << "resumed parameters differ from the uninterrupted run";
  EXPECT_EQ(metric(d.file("full/run.db"), "reward/mean"), metric(d.file("cut/run.db"), "reward/mean"));
}

TEST_F(TrainE2ETest, BadInputsFailBeforeAnyWorkWithOneLine) {
  TempDir d;
  write_file(d.file("broken.jsonl"), "{\"question\": \"1+1\", \"answer\": \"2\"}\n{\"question\": oops}\n");
  write_file(d.file("nofield.jsonl"), "{\"problem\": \"1+1\"}\n");
  write_file(d.file("empty.jsonl"), "");
  struct Case {
    std::string extra;
    std::string expect;
  } cases[] = {
      {R"({"data": {"generator": "", "train": ")" + d.file("broken.jsonl") + R"("}})", d.file("broken.jsonl") + ":2: not valid JSON"},
      {R"({"data": {"generator": "", "train": ")" + d.file("nofield.jsonl") + R"("}})", ":1: missing field 'question'"},
      {R"({"data": {"generator": "", "train": ")" + d.file("empty.jsonl") + R"("}})", "dataset is empty"},
      {R"({"model": {"path": ")" + d.file("nowhere") + R"("}})", "model.path: no checkpoint at"},
      {R"({"rewards": [{"type": "mathh"}]})", "mathh"},
  };
  int i = 0;
  for (const auto& c : cases) {
    std::string name = "bad" + std::to_string(i++);
    auto r = run_command(grpo() + " train " + recipe(d, name, 0, 3, c.extra));
    EXPECT_EQ(r.exit_code, 1) << c.extra << "\n" << r.err;
    EXPECT_NE(r.err.find(c.expect), std::string::npos) << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << "one line: " << r.err;
    EXPECT_FALSE(fs::exists(d.file(name))) << "no run directory for a run that never started";
  }
}

}  // namespace
}  // namespace grpo
