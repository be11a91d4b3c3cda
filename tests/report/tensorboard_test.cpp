// TensorBoard event files: framing and encoding checked by hand, then read
// back by TensorBoard's own loader (tests/report/read_tensorboard.py).
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "core/run_store.h"
#include "report/internal/crc32c.h"
#include "report/internal/event_proto.h"
#include "report/tensorboard_export.h"
#include "report/tensorboard_writer.h"
#include "tests/report/fake_run.h"
#include "tests/support/test_env.h"

namespace grpo::report {
namespace {

using grpo::testing::TempDir;

// tag -> [(step, value, wall_time)] as TensorBoard's EventAccumulator sees it.
struct TbPoint {
  int64_t step;
  double value;
  double wall_time;
};
std::map<std::string, std::vector<TbPoint>> read_with_tensorboard(const std::string& logdir) {
  auto r = grpo::testing::run_command(grpo::testing::reference_python() + " " + grpo::testing::source_dir() +
                                      "/tests/report/read_tensorboard.py " + grpo::testing::shell_quote(logdir));
  EXPECT_EQ(r.exit_code, 0) << r.err;
  std::map<std::string, std::vector<TbPoint>> out;
  nlohmann::json parsed = nlohmann::json::parse(r.out);
  for (const auto& [tag, points] : parsed.items())
    for (const auto& p : points) out[tag].push_back({p[0].get<int64_t>(), p[1].get<double>(), p[2].get<double>()});
  return out;
}

TEST(Crc32cTest, MatchesTheStandardCheckValue) {
  // The CRC-32C check value of "123456789" (RFC 3720, appendix B.4).
  EXPECT_EQ(internal::crc32c("123456789", 9), 0xE3069283u);
  // Masking rotates right by 15 and adds TensorFlow's kMaskDelta.
  uint32_t c = 0xE3069283u;
  EXPECT_EQ(internal::masked_crc32c("123456789", 9), ((c >> 15) | (c << 17)) + 0xA282EAD8u);
}

TEST(EventProtoTest, ScalarsEventRoundTrips) {
  std::string bytes = internal::encode_scalars_event(1700000000.25, -3, {{"a/b", 1.5}, {"c", -2.0}});
  auto e = internal::decode_event(bytes);
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->step, -3);
  EXPECT_EQ(e->wall_time, 1700000000.25);
  EXPECT_TRUE(e->has_summary);
  EXPECT_EQ(e->scalars.at("a/b"), 1.5f);
  EXPECT_EQ(e->scalars.at("c"), -2.0f);
  EXPECT_FALSE(internal::decode_event(bytes.substr(0, bytes.size() - 3)).has_value());
}

TEST(EventProtoTest, ScanStopsAtATornOrCorruptRecord) {
  std::string a = internal::frame_record("first"), b = internal::frame_record("second");
  std::vector<std::string> seen;
  auto collect = [&](std::string_view r) { seen.emplace_back(r); };
  std::string file = a + b.substr(0, b.size() - 1);  // writer killed mid-record
  EXPECT_EQ(internal::scan_records(file, 0, collect), a.size());
  EXPECT_EQ(seen, std::vector<std::string>{"first"});
  std::string corrupt = a + b;
  corrupt[a.size() + 14] ^= 1;  // a data byte of the second record
  seen.clear();
  EXPECT_EQ(internal::scan_records(corrupt, 0, collect), a.size());
  EXPECT_EQ(seen.size(), 1u);
}

TEST(TensorBoardWriterTest, TensorBoardReadsEveryScalar) {
  TempDir d;
  {
    TensorBoardWriter tb(d.file("tb/") + kEventFileName);
    for (int step = 0; step < 50; ++step)
      tb.add_scalars(step, {{"reward/mean", step * 0.5}, {"kl/mean", -1e-3 * step}, {"optim/lr", 1e-6}},
                     1700000000.0 + step);
    tb.add_scalar("late", 99, 3.25, 1700000100.0);
  }
  auto tb = read_with_tensorboard(d.file("tb"));
  ASSERT_EQ(tb.size(), 4u);
  ASSERT_EQ(tb["reward/mean"].size(), 50u);
  for (int step = 0; step < 50; ++step) {
    EXPECT_EQ(tb["reward/mean"][step].step, step);
    EXPECT_EQ(tb["reward/mean"][step].value, step * 0.5);  // exact in float32
    EXPECT_FLOAT_EQ(tb["kl/mean"][step].value, static_cast<float>(-1e-3 * step));
    EXPECT_FLOAT_EQ(tb["optim/lr"][step].value, 1e-6f);
    EXPECT_EQ(tb["optim/lr"][step].wall_time, 1700000000.0 + step);
  }
  EXPECT_EQ(tb["late"].at(0).step, 99);
  EXPECT_EQ(tb["late"].at(0).value, 3.25);
}

TEST(TensorBoardWriterTest, AppendsAfterCuttingATornTail) {
  TempDir d;
  std::string path = d.file(kEventFileName);
  {
    TensorBoardWriter tb(path);
    tb.add_scalar("x", 1, 1.0);
  }
  std::ofstream(path, std::ios::app | std::ios::binary) << std::string("\x20\x00\x00\x00\x00", 5);
  TensorBoardWriter tb(path);
  ASSERT_TRUE(tb.last_event().has_value());
  EXPECT_EQ(tb.last_event()->step, 1);
  tb.add_scalar("x", 2, 2.0);
  tb.flush();
  auto read = read_with_tensorboard(d.path());
  ASSERT_EQ(read["x"].size(), 2u);
  EXPECT_EQ(read["x"][1].step, 2);
  EXPECT_EQ(read["x"][1].value, 2.0);
}

TEST(TensorBoardExportTest, TensorBoardSeesEveryMetricOfTheStore) {
  TempDir d;
  RunStore store(d.file("run.db"));
  grpo::testing::FakeRunShape shape;
  shape.steps = 30;
  grpo::testing::write_fake_run(store, shape);
  EXPECT_EQ(export_tensorboard(store, tensorboard_dir(d.path())), 30);

  auto tb = read_with_tensorboard(tensorboard_dir(d.path()));
  std::vector<std::string> names = store.metric_names();
  ASSERT_EQ(tb.size(), names.size());
  std::map<int64_t, double> commit_time;
  for (const MetricPoint& p : store.step_times()) commit_time[p.step] = p.value;
  for (const std::string& name : names) {
    std::vector<MetricPoint> want = store.metric(name);
    const auto& got = tb[name];
    ASSERT_EQ(got.size(), want.size()) << name;
    for (size_t i = 0; i < want.size(); ++i) {
      EXPECT_EQ(got[i].step, want[i].step) << name;
      EXPECT_EQ(got[i].value, static_cast<double>(static_cast<float>(want[i].value))) << name << " step " << want[i].step;
      EXPECT_EQ(got[i].wall_time, commit_time[want[i].step]) << name;
    }
  }
}

TEST(TensorBoardExportTest, SyncAppendsOnlyStepsCommittedSinceTheLastOne) {
  TempDir d;
  RunStore store(d.file("run.db"));
  grpo::testing::FakeRunShape shape;
  TensorBoardSync tb(tensorboard_dir(d.path()));
  for (int64_t step = 1; step <= 5; ++step) store.write_step(grpo::testing::fake_step(step, shape));
  EXPECT_EQ(tb.sync(store), 5);
  EXPECT_EQ(tb.sync(store), 0);
  for (int64_t step = 6; step <= 8; ++step) store.write_step(grpo::testing::fake_step(step, shape));
  EXPECT_EQ(tb.sync(store), 3);
  // A second writer (another process: `grpo report --tensorboard`) finds nothing new.
  EXPECT_EQ(export_tensorboard(store, tensorboard_dir(d.path())), 0);
  store.write_step(grpo::testing::fake_step(9, shape));
  EXPECT_EQ(export_tensorboard(store, tensorboard_dir(d.path())), 1);
  EXPECT_EQ(tb.sync(store), 0);  // notices the other writer's append

  auto read = read_with_tensorboard(tensorboard_dir(d.path()));
  ASSERT_EQ(read["reward/mean"].size(), 9u);
  for (int64_t i = 0; i < 9; ++i) EXPECT_EQ(read["reward/mean"][i].step, i + 1);
}

TEST(TensorBoardExportTest, AStepRewrittenByAResumedRunReplacesTheStalePoints) {
  TempDir d;
  RunStore store(d.file("run.db"));
  grpo::testing::FakeRunShape shape;
  for (int64_t step = 1; step <= 5; ++step) store.write_step(grpo::testing::fake_step(step, shape));
  TensorBoardSync tb(tensorboard_dir(d.path()));
  EXPECT_EQ(tb.sync(store), 5);
  // Resumed from a step-3 checkpoint: steps 4 and 5 are redone with new values.
  for (int64_t step = 4; step <= 5; ++step) {
    StepRecord redo;
    redo.step = step;
    redo.metrics["reward/mean"] = 100.0 + step;
    store.write_step(redo);
  }
  EXPECT_EQ(tb.sync(store), 2);
  auto read = read_with_tensorboard(tensorboard_dir(d.path()));
  const auto& points = read["reward/mean"];
  ASSERT_EQ(points.size(), 5u);
  EXPECT_EQ(points[3].step, 4);
  EXPECT_EQ(points[3].value, 104.0);
  EXPECT_EQ(points[4].value, 105.0);
  EXPECT_EQ(points[2].value, static_cast<float>(grpo::testing::fake_step(3, shape).metrics["reward/mean"]));
}

}  // namespace
}  // namespace grpo::report
