// report_bench: what `grpo report` and a TensorBoard sync cost on a long run.
//   BM_Report_Render/<steps>      render_html_report on a fake R1-style run
//                                 (45 metrics + 2 MoE layers x 64 experts,
//                                 16 samples per step); counters: page MB.
//   BM_TensorBoard_Export/<steps> export_tensorboard of the same run into an
//                                 empty tb/ (every step, every metric).
//   BM_TensorBoard_SyncOneStep    TensorBoardSync::sync after one new step,
//                                 the per-step cost `grpo train` would pay.
#include <benchmark/benchmark.h>

#include <filesystem>
#include <memory>

#include "core/run_store.h"
#include "report/html_report.h"
#include "report/tensorboard_export.h"
#include "tests/report/fake_run.h"

namespace {

struct BenchRun {
  std::string dir;
  std::unique_ptr<grpo::RunStore> store;
  explicit BenchRun(int64_t steps) {
    dir = std::filesystem::temp_directory_path() / ("grpo-report-bench-" + std::to_string(steps));
    std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir);
    store = std::make_unique<grpo::RunStore>(dir + "/run.db");
    grpo::testing::FakeRunShape shape;
    shape.steps = steps;
    shape.experts = 64;
    grpo::testing::write_fake_run(*store, shape);
  }
  ~BenchRun() { std::filesystem::remove_all(dir); }
};

void BM_Report_Render(benchmark::State& state) {
  BenchRun run(state.range(0));
  size_t bytes = 0;
  for (auto _ : state) bytes = grpo::report::render_html_report(*run.store).size();
  state.counters["page_MB"] = bytes / 1e6;
}
BENCHMARK(BM_Report_Render)->Arg(100)->Arg(1000)->Unit(benchmark::kMillisecond);

void BM_TensorBoard_Export(benchmark::State& state) {
  BenchRun run(state.range(0));
  for (auto _ : state) {
    std::filesystem::remove_all(run.dir + "/tb");
    grpo::report::export_tensorboard(*run.store, run.dir + "/tb");
  }
  state.counters["file_MB"] = std::filesystem::file_size(run.dir + "/tb/" + grpo::report::kEventFileName) / 1e6;
}
BENCHMARK(BM_TensorBoard_Export)->Arg(100)->Arg(1000)->Unit(benchmark::kMillisecond);

void BM_TensorBoard_SyncOneStep(benchmark::State& state) {
  BenchRun run(1000);
  grpo::report::TensorBoardSync tb(run.dir + "/tb");
  tb.sync(*run.store);
  grpo::testing::FakeRunShape shape;
  shape.experts = 64;
  int64_t step = 1001;
  for (auto _ : state) {
    state.PauseTiming();
    run.store->write_step(grpo::testing::fake_step(step++, shape));
    state.ResumeTiming();
    tb.sync(*run.store);
  }
}
BENCHMARK(BM_TensorBoard_SyncOneStep)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
