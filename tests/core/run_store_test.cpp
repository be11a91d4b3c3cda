#include "core/run_store.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <thread>

#include "core/error.h"
#include "tests/support/test_env.h"

namespace grpo {
namespace {

using testing::TempDir;

constexpr int kMetricsPerStep = 20;
constexpr int kSamplesPerStep = 16;

StepRecord make_step(int64_t step) {
  StepRecord r;
  r.step = step;
  for (int m = 0; m < kMetricsPerStep; ++m) r.metrics["m" + std::to_string(m)] = step * 100.0 + m;
  for (int s = 0; s < kSamplesPerStep; ++s) {
    SampleRecord x;
    x.group = s / 4;
    x.index = s % 4;
    x.prompt = "prompt " + std::to_string(step);
    x.completion = std::string(200, 'a' + s % 26);
    x.rewards = {{"math", 1.0}, {"format", 0.5}};
    x.reward = 1.5;
    x.advantage = s % 2 ? 1.0 : -1.0;
    x.policy_version = step;
    x.finish_reason = "stop";
    r.samples.push_back(x);
  }
  return r;
}

TEST(RunStoreTest, CreatesSchemaAndRoundTripsAStep) {
  TempDir d;
  RunStore store(d.file("run.db"));
  EXPECT_EQ(store.schema_version(), RunStore::kSchemaVersion);
  store.set_meta("status", "running");
  store.write_step(make_step(1));
  store.add_checkpoint({1, "ckpt/step-1", "abc"});
  store.add_event({1, "warn", "rollout w1", "restarted"});

  EXPECT_EQ(*store.meta("status"), "running");
  EXPECT_FALSE(store.meta("missing").has_value());
  EXPECT_EQ(store.steps(), std::vector<int64_t>{1});
  EXPECT_EQ(store.metric("m3").at(0).value, 103.0);
  auto samples = store.samples(1);
  ASSERT_EQ(samples.size(), static_cast<size_t>(kSamplesPerStep));
  EXPECT_EQ(samples[5].rewards.at("format"), 0.5);
  EXPECT_EQ(samples[5].group, 1);
  EXPECT_EQ(store.checkpoints().at(0).checksum, "abc");
  EXPECT_EQ(store.events().at(0).source, "rollout w1");
}

TEST(RunStoreTest, RewritingAStepReplacesIt) {
  TempDir d;
  RunStore store(d.file("run.db"));
  store.write_step(make_step(4));
  StepRecord again;
  again.step = 4;
  again.metrics["only"] = 1.0;
  store.write_step(again);
  EXPECT_EQ(store.metric_names(), std::vector<std::string>{"only"});
  EXPECT_TRUE(store.samples(4).empty());
  EXPECT_EQ(store.steps().size(), 1u);
}

TEST(RunStoreTest, ReopeningKeepsDataAndVersion) {
  TempDir d;
  {
    RunStore store(d.file("run.db"));
    store.write_step(make_step(1));
  }
  RunStore again(d.file("run.db"));
  EXPECT_EQ(*again.last_step(), 1);
}

TEST(RunStoreTest, NewerSchemaIsRefusedWithAHint) {
  TempDir d;
  sqlite3* db = nullptr;
  sqlite3_open(d.file("run.db").c_str(), &db);
  sqlite3_exec(db, "PRAGMA user_version=99", nullptr, nullptr, nullptr);
  sqlite3_close(db);
  try {
    RunStore store(d.file("run.db"));
    FAIL() << "expected IoError";
  } catch (const IoError& e) {
    EXPECT_NE(std::string(e.what()).find("newer than this grpo"), std::string::npos) << e.what();
  }
}

TEST(RunStoreTest, ReaderDoesNotBlockAnOpenWriteTransaction) {
  TempDir d;
  RunStore writer(d.file("run.db"));
  writer.write_step(make_step(1));
  sqlite3* raw = nullptr;
  sqlite3_open(d.file("run.db").c_str(), &raw);
  ASSERT_EQ(sqlite3_exec(raw, "BEGIN IMMEDIATE; INSERT INTO meta VALUES('x','y');", nullptr, nullptr, nullptr), SQLITE_OK);
  // While the write transaction is open, a reader sees the committed state at once.
  RunStore reader(d.file("run.db"), RunStore::Mode::kReadOnly);
  auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(reader.steps().size(), 1u);
  EXPECT_FALSE(reader.meta("x").has_value());
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(2));
  sqlite3_exec(raw, "COMMIT", nullptr, nullptr, nullptr);
  sqlite3_close(raw);
  EXPECT_EQ(*reader.meta("x"), "y");
}

TEST(RunStoreTest, WriterKilledWithSigkillLeavesEveryCommittedStep) {
  TempDir d;
  std::string path = d.file("run.db");
  { RunStore create(path); }
  pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    // The writer: commits steps as fast as it can until it is killed.
    RunStore store(path);
    for (int64_t step = 1;; ++step) store.write_step(make_step(step));
  }
  RunStore reader(path, RunStore::Mode::kReadOnly);
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (reader.steps().size() < 30 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  std::vector<int64_t> seen_before_kill = reader.steps();
  kill(child, SIGKILL);
  int status = 0;
  waitpid(child, &status, 0);
  ASSERT_TRUE(WIFSIGNALED(status));
  ASSERT_GE(seen_before_kill.size(), 30u);

  RunStore after(path);  // opens read-write: recovers the WAL
  EXPECT_EQ(after.integrity_check(), "ok");
  std::vector<int64_t> steps = after.steps();
  ASSERT_GE(steps.size(), seen_before_kill.size());
  for (size_t i = 0; i < steps.size(); ++i) {
    ASSERT_EQ(steps[i], static_cast<int64_t>(i + 1)) << "steps must be contiguous from 1";
    EXPECT_EQ(after.samples(steps[i]).size(), static_cast<size_t>(kSamplesPerStep)) << "step " << steps[i];
  }
  for (int m = 0; m < kMetricsPerStep; ++m)
    EXPECT_EQ(after.metric("m" + std::to_string(m)).size(), steps.size()) << "metric m" << m;
  // The store keeps accepting steps after recovery.
  after.write_step(make_step(steps.back() + 1));
  EXPECT_EQ(*after.last_step(), steps.back() + 1);
}

}  // namespace
}  // namespace grpo
