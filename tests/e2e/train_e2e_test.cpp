// `grpo train` end to end with real processes: a tiny policy learns a toy
// task (sync and async); workers die and are replaced; SIGTERM stops cleanly;
// a SIGKILLed run resumes to exactly the parameters of an uninterrupted one
// (sync and async); scoring overlapped with generation and async with no
// look-ahead give exactly the sync results; async samples stay within
// max_staleness; dynamic sampling trains on informative groups only; bad
// inputs fail before any work with one clear line.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <numeric>
#include <set>
#include <thread>

#include <nlohmann/json.hpp>

#include "core/run_store.h"
#include "tests/support/test_env.h"

namespace grpo {
namespace {

namespace fs = std::filesystem;
using testing::grpo_command;
using testing::read_file;
using testing::run_command;
using testing::shell_quote;
using testing::TempDir;
using testing::write_file;

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

// A tokenizer and a tiny random Qwen2 policy, made once with the CLI.
class TrainE2ETest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    assets_ = new TempDir();
    std::string corpus;
    for (int i = 0; i < 400; ++i) corpus += "What is " + std::to_string(i) + " + " + std::to_string(i * 7 % 50) + "? aaaa bbb abc\n";
    write_file(assets_->file("corpus.txt"), corpus);
    auto tok = run_command(grpo_command() + " tokenizer train " + assets_->file("corpus.txt") + " --vocab 300 --out " + assets_->file("tok"));
    ASSERT_EQ(tok.exit_code, 0) << tok.err;
    auto model = run_command(grpo_command() + " model init --arch qwen2 --preset tiny --out " + assets_->file("model"));
    ASSERT_EQ(model.exit_code, 0) << model.err;
    // The toy task: the share of 'a' characters in the completion. Dense, so a
    // tiny random policy can learn it in a few steps.
    write_file(assets_->file("reward.py"),
               "import json, sys\n"
               "for line in sys.stdin:\n"
               "    s = json.loads(line)\n"
               "    c = s['completion']\n"
               "    print(json.dumps({'id': s['id'], 'score': c.count('a') / max(len(c), 1)}))\n");
    // The same, but every prompt whose character codes sum to an odd number
    // scores 0 whatever the completion: about half the groups carry no signal.
    write_file(assets_->file("half_reward.py"),
               "import json, sys\n"
               "for line in sys.stdin:\n"
               "    s = json.loads(line)\n"
               "    c = s['completion']\n"
               "    live = sum(map(ord, s['prompt'])) % 2 == 0\n"
               "    print(json.dumps({'id': s['id'], 'score': c.count('a') / max(len(c), 1) if live else 0.0}))\n");
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

  // Runs a recipe to the end; returns the run's final parameters (and its stderr in `log`).
  std::string train_params(const TempDir& d, const std::string& name, int steps, const std::string& extra,
                           std::string* log = nullptr) const {
    auto r = run_command(grpo_command() + " train " + recipe(d, name, /*workers=*/0, steps, extra));
    EXPECT_EQ(r.exit_code, 0) << r.err;
    if (log) *log = r.err;
    char ckpt[32];
    std::snprintf(ckpt, sizeof(ckpt), "step-%08d", steps);
    return read_file(d.file(name + "/checkpoints/" + ckpt + "/policy/model.safetensors"));
  }

  // SIGKILL after step 3, --resume: every step once, parameters and rewards as without the kill.
  void expect_kill_resume_is_exact(const std::string& extra) {
    TempDir d;
    auto full = run_command(grpo_command() + " train " + recipe(d, "full", /*workers=*/0, /*steps=*/7, extra));
    ASSERT_EQ(full.exit_code, 0) << full.err;

    std::string path = recipe(d, "cut", /*workers=*/0, /*steps=*/7, extra);
    pid_t trainer = spawn(grpo_command() + " train " + path);
    ASSERT_TRUE(wait_for_step(d.file("cut/run.db"), 3, trainer));
    kill(trainer, SIGKILL);
    waitpid(trainer, nullptr, 0);
    auto resumed = run_command(grpo_command() + " train --resume " + d.file("cut"));
    ASSERT_EQ(resumed.exit_code, 0) << resumed.err;

    RunStore store(d.file("cut/run.db"), RunStore::Mode::kReadOnly);
    EXPECT_EQ(store.steps(), (std::vector<int64_t>{1, 2, 3, 4, 5, 6, 7})) << "every step exactly once";
    std::string a = read_file(d.file("full/checkpoints/step-00000007/policy/model.safetensors"));
    std::string b = read_file(d.file("cut/checkpoints/step-00000007/policy/model.safetensors"));
    EXPECT_TRUE(a == b) << "resumed parameters differ from the uninterrupted run";
    EXPECT_EQ(metric(d.file("full/run.db"), "reward/mean"), metric(d.file("cut/run.db"), "reward/mean"));
  }

  void expect_two_ranks_match_one(const std::string& extra, size_t same_steps);

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

TEST_F(TrainE2ETest, RewardRisesWithTwoWorkerProcesses) {
  TempDir d;
  auto r = run_command(grpo_command() + " train " + recipe(d, "learn", /*workers=*/2, /*steps=*/16));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto reward = metric(d.file("learn/run.db"), "reward/mean");
  ASSERT_EQ(reward.size(), 16u);
  double first = mean(reward, 0, 4), last = mean(reward, 12, 16);
  EXPECT_GT(last, first + 0.15) << "reward/mean first 4 steps " << first << ", last 4 " << last;
  RunStore store(d.file("learn/run.db"), RunStore::Mode::kReadOnly);
  EXPECT_EQ(*store.meta("status"), "completed");
  EXPECT_FALSE(store.samples(16).empty());
  EXPECT_TRUE(fs::exists(d.file("learn/report.html")));
  // The step-time breakdown: the phases add up to the step, and the report draws them.
  for (int64_t step = 1; step <= 16; ++step) {
    auto m = store.step_metrics(step);
    double phases = 0;
    for (const char* p : {"time/rollout", "time/reward", "time/learner", "time/weight_sync", "time/other"}) {
      ASSERT_TRUE(m.count(p)) << p << " missing at step " << step;
      EXPECT_GE(m[p], 0.0) << p;
      phases += m[p];
    }
    EXPECT_NEAR(phases, m["time/step"], 1e-6 + 1e-9 * m["time/step"]) << "step " << step;
    EXPECT_GT(m["rollout/generation_s"], 0.0);
  }
  EXPECT_NE(read_file(d.file("learn/report.html")).find("step-time breakdown"), std::string::npos);
}

// --nproc 2: two learner processes (c10d Gloo) split each step's completions
// and average gradients. Steps whose samples come from the same weights give
// the one-process run's gradient norm and token count: the first in sync
// mode; the first two in async mode with one step of look-ahead (both
// generated with version 0).
void TrainE2ETest::expect_two_ranks_match_one(const std::string& extra, size_t same_steps) {
  TempDir d;
  auto one = run_command(grpo_command() + " train " + recipe(d, "one", /*workers=*/0, /*steps=*/2, extra));
  ASSERT_EQ(one.exit_code, 0) << one.err;
  auto two = run_command(grpo_command() + " train --nproc 2 " + recipe(d, "two", /*workers=*/0, /*steps=*/2, extra));
  ASSERT_EQ(two.exit_code, 0) << two.err;
  RunStore store(d.file("two/run.db"), RunStore::Mode::kReadOnly);
  EXPECT_EQ(*store.meta("status"), "completed");
  EXPECT_EQ(metric(d.file("two/run.db"), "learner/ranks"), (std::vector<double>{2, 2}));
  EXPECT_EQ(metric(d.file("one/run.db"), "learner/ranks"), (std::vector<double>{1, 1}));
  const auto g1 = metric(d.file("one/run.db"), "grad_norm"), g2 = metric(d.file("two/run.db"), "grad_norm");
  const auto t1 = metric(d.file("one/run.db"), "tokens/completion"), t2 = metric(d.file("two/run.db"), "tokens/completion");
  ASSERT_EQ(g1.size(), 2u);
  ASSERT_EQ(g2.size(), 2u);
  for (size_t k = 0; k < same_steps; ++k) {
    EXPECT_EQ(t2[k], t1[k]) << "step " << k + 1;
    EXPECT_GT(g1[k], 0);
    EXPECT_NEAR(g2[k], g1[k], 1e-4 * g1[k]) << "step " << k + 1;
  }
  EXPECT_TRUE(fs::exists(d.file("two/checkpoints/step-00000002/policy/model.safetensors")));
}

TEST_F(TrainE2ETest, TwoLearnerRanksMatchOneOnTheFirstStep) { expect_two_ranks_match_one("{}", 1); }

TEST_F(TrainE2ETest, TwoLearnerRanksMatchOneInAsyncMode) {
  expect_two_ranks_match_one(R"({"rollout": {"mode": "async", "max_staleness": 1},
                                 "learner": {"is_correction": "token_truncate"}})", 2);
}

// Data-parallel ranks each take a GPU (cuda -> cuda:LOCAL_RANK over NCCL):
// a recipe pinning every rank to one GPU is refused before any work, naming
// the key, and the started ranks go with rank 0.
TEST_F(TrainE2ETest, NprocOnOneExplicitGpuIsRefusedNamingTheKey) {
  TempDir d;
  auto r = run_command(grpo_command() + " train --nproc 2 " + recipe(d, "pinned", /*workers=*/0, /*steps=*/1,
                                                              R"({"model": {"device": "cuda:0"}})"));
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_NE(r.err.find("model.device"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("one GPU"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(d.file("pinned"))) << "no run directory for a refused recipe";
}

TEST_F(TrainE2ETest, KilledWorkerIsReplacedAndNoStepIsLost) {
  TempDir d;
  std::string path = recipe(d, "kill", /*workers=*/2, /*steps=*/8);
  pid_t trainer = spawn(grpo_command() + " train " + path);
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
  pid_t trainer = spawn(grpo_command() + " train " + path);
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

TEST_F(TrainE2ETest, SigkillThenResumeEndsBitwiseEqualToAnUninterruptedRun) { expect_kill_resume_is_exact("{}"); }

// Async, one step of look-ahead: the batch after a checkpoint is generated
// with the checkpoint's weights, so a resume replays the uninterrupted run.
TEST_F(TrainE2ETest, AsyncSigkillThenResumeEndsBitwiseEqualToAnUninterruptedRun) {
  expect_kill_resume_is_exact(R"({"rollout": {"mode": "async", "max_staleness": 1},
                                  "learner": {"is_correction": "token_truncate"}})");
}

TEST_F(TrainE2ETest, RewardRisesInAsyncModeWithStalenessOne) {
  TempDir d;
  auto r = run_command(grpo_command() + " train " +
                       recipe(d, "async", /*workers=*/2, /*steps=*/16,
                              R"({"rollout": {"mode": "async", "max_staleness": 1}, "learner": {"is_correction": "token_truncate"}})"));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto reward = metric(d.file("async/run.db"), "reward/mean");
  ASSERT_EQ(reward.size(), 16u);
  double first = mean(reward, 0, 4), last = mean(reward, 12, 16);
  EXPECT_GT(last, first + 0.15) << "reward/mean first 4 steps " << first << ", last 4 " << last;
  for (double s : metric(d.file("async/run.db"), "staleness/max")) EXPECT_LE(s, 1.0);
}

// Scoring each group as it finishes changes when rewards run, not what they
// return: the run is bitwise the run that scores after generation.
TEST_F(TrainE2ETest, OverlappedRewardScoringGivesTheSameRun) {
  TempDir d;
  std::string overlapped = train_params(d, "overlap", 4, R"({"rollout": {"overlap_rewards": true}})");
  std::string after = train_params(d, "after", 4, R"({"rollout": {"overlap_rewards": false}})");
  ASSERT_FALSE(overlapped.empty());
  EXPECT_TRUE(overlapped == after) << "parameters differ";
  EXPECT_EQ(metric(d.file("overlap/run.db"), "reward/mean"), metric(d.file("after/run.db"), "reward/mean"));
  EXPECT_EQ(metric(d.file("overlap/run.db"), "loss"), metric(d.file("after/run.db"), "loss"));
}

// rollout.weight_sync = shared hands the worker process each version through
// the shared staging buffer instead of ZeroMQ chunks: the same weights, so
// bitwise the same run.
TEST_F(TrainE2ETest, SharedWeightBufferGivesTheZeroMqChunksRun) {
  TempDir d;
  std::string chunks = train_params(d, "chunks", 4, R"({"rollout": {"workers": 1, "weight_sync": "zmq"}})");
  std::string log;
  std::string shared = train_params(d, "shared", 4, R"({"rollout": {"workers": 1, "weight_sync": "shared"}})", &log);
  ASSERT_FALSE(chunks.empty());
  EXPECT_NE(log.find("read from the shared buffer"), std::string::npos) << log;
  EXPECT_TRUE(chunks == shared) << "parameters differ";
  EXPECT_EQ(metric(d.file("chunks/run.db"), "reward/mean"), metric(d.file("shared/run.db"), "reward/mean"));
  EXPECT_EQ(metric(d.file("chunks/run.db"), "loss"), metric(d.file("shared/run.db"), "loss"));
}

// Async without look-ahead goes through the frozen weight copies and the
// pipeline, and must be the sync run exactly.
TEST_F(TrainE2ETest, AsyncWithZeroStalenessEqualsSync) {
  TempDir d;
  const std::string correction = R"("learner": {"is_correction": "token_truncate"})";
  std::string sync = train_params(d, "sync", 4, "{\"rollout\": {\"mode\": \"sync\"}, " + correction + "}");
  std::string async = train_params(d, "async0", 4, "{\"rollout\": {\"mode\": \"async\", \"max_staleness\": 0}, " + correction + "}");
  ASSERT_FALSE(sync.empty());
  EXPECT_TRUE(sync == async) << "parameters differ";
  EXPECT_EQ(metric(d.file("sync/run.db"), "reward/mean"), metric(d.file("async0/run.db"), "reward/mean"));
}

// Look-ahead 2 with a checkpoint every 3 steps: the batch of step s is
// generated with version max(s-1-2, last checkpoint before s), and every
// sample's stored version says so.
TEST_F(TrainE2ETest, AsyncSamplesStayWithinMaxStaleness) {
  TempDir d;
  train_params(d, "stale", 6, R"({"rollout": {"mode": "async", "max_staleness": 2},
                                   "learner": {"is_correction": "token_truncate", "checkpoint_every": 3}})");
  RunStore store(d.file("stale/run.db"), RunStore::Mode::kReadOnly);
  const int64_t expected_staleness[] = {0, 1, 2, 0, 1, 2};
  for (int64_t step = 1; step <= 6; ++step) {
    auto samples = store.samples(step);
    ASSERT_EQ(samples.size(), 16u) << "step " << step;
    for (const auto& s : samples) {
      EXPECT_LE(step - 1 - s.policy_version, 2) << "step " << step;
      EXPECT_EQ(step - 1 - s.policy_version, expected_staleness[step - 1]) << "step " << step;
    }
  }
  std::vector<double> max_staleness = metric(d.file("stale/run.db"), "staleness/max");
  EXPECT_EQ(max_staleness, (std::vector<double>{0, 1, 2, 0, 1, 2}));
}

// DAPO dynamic sampling: groups whose rewards are all equal are dropped and
// refilled, so every trained group has a spread; without it some do not.
TEST_F(TrainE2ETest, DynamicSamplingTrainsOnlyOnGroupsWithRewardSpread) {
  TempDir d;
  const std::string half = R"({"rewards": [{"type": "command", "command": ["/usr/bin/python3", ")" + assets_->file("half_reward.py") + R"("]}],
                               "data": {"prompts_per_step": 4})";
  train_params(d, "plain", 4, half + "}");
  train_params(d, "dapo", 4, half + R"(, "rollout": {"dynamic_sampling": true, "max_generation_rounds": 8}})");
  auto plain_zero = metric(d.file("plain/run.db"), "reward/frac_zero_std");
  EXPECT_GT(*std::max_element(plain_zero.begin(), plain_zero.end()), 0.0) << "the toy reward must leave some groups flat";
  for (double z : metric(d.file("dapo/run.db"), "reward/frac_zero_std")) EXPECT_EQ(z, 0.0);
  auto dropped = metric(d.file("dapo/run.db"), "dynamic_sampling/dropped_groups");
  EXPECT_GT(std::accumulate(dropped.begin(), dropped.end(), 0.0), 0.0);
  EXPECT_EQ(metric(d.file("dapo/run.db"), "dynamic_sampling/groups"), (std::vector<double>{4, 4, 4, 4}));
  RunStore store(d.file("dapo/run.db"), RunStore::Mode::kReadOnly);
  for (int64_t step = 1; step <= 4; ++step) {
    std::map<int64_t, std::set<double>> rewards_of_group;
    for (const auto& s : store.samples(step)) rewards_of_group[s.group].insert(s.reward);
    ASSERT_EQ(rewards_of_group.size(), 4u);
    for (const auto& [g, r] : rewards_of_group) EXPECT_GT(r.size(), 1u) << "step " << step << " group " << g;
  }
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
    auto r = run_command(grpo_command() + " train " + recipe(d, name, 0, 3, c.extra));
    EXPECT_EQ(r.exit_code, 1) << c.extra << "\n" << r.err;
    EXPECT_NE(r.err.find(c.expect), std::string::npos) << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << "one line: " << r.err;
    EXPECT_FALSE(fs::exists(d.file(name))) << "no run directory for a run that never started";
  }
}

}  // namespace
}  // namespace grpo
