// `grpo report RUN_DIR`: the run's self-contained HTML report and, with
// --tensorboard, its TensorBoard event files (runs/<name>/tb/).
#include <CLI/CLI.hpp>

#include <filesystem>
#include <iostream>

#include "cli/commands.h"
#include "core/error.h"
#include "core/log.h"
#include "core/run_store.h"
#include "report/html_report.h"
#include "report/tensorboard_export.h"

namespace grpo::cli {
namespace {

struct ReportArgs {
  std::string run;
  std::string out;
  bool tensorboard = false;
  report::ReportOptions options;
};

void run_report(const ReportArgs& args) {
  namespace fs = std::filesystem;
  // RUN_DIR may also name the run.db itself.
  bool is_db = fs::is_regular_file(args.run);
  std::string run_dir = is_db ? fs::path(args.run).parent_path().string() : args.run;
  if (run_dir.empty()) run_dir = ".";
  std::string db = is_db ? args.run : report::run_store_path(run_dir);
  if (!fs::exists(db))
    throw IoError(db, "no run store here: pass a run folder (runs/<name>) that holds run.db");
  // Read-only: safe while `grpo train` is still writing the run.
  RunStore store(db, RunStore::Mode::kReadOnly);
  std::string out = args.out.empty() ? report::default_report_path(run_dir) : args.out;
  report::write_html_report(store, out, args.options);
  std::cout << out << "\n";
  if (args.tensorboard) {
    std::string tb = report::tensorboard_dir(run_dir);
    int64_t steps = report::export_tensorboard(store, tb);
    GRPO_LOG_INFO("report", "TensorBoard: appended " << steps << " steps to " << tb << " (view: tensorboard --logdir "
                                                     << fs::path(run_dir).parent_path().string() << ")");
    std::cout << tb << "\n";
  }
}

}  // namespace

void add_report_command(CLI::App& root) {
  auto args = std::make_shared<ReportArgs>();
  CLI::App* cmd = root.add_subcommand(
      "report", "Write a run's self-contained HTML report (plots, samples, events); prints its path");
  cmd->add_option("run", args->run, "Run folder (runs/<name>) or its run.db")->required()->check(CLI::ExistingPath);
  cmd->add_option("--out", args->out, "Report file (default: RUN_DIR/report.html)");
  cmd->add_flag("--tensorboard", args->tensorboard, "Also bring RUN_DIR/tb/ TensorBoard event files up to date");
  cmd->add_option("--title", args->options.title, "Page title (default: the run's name)");
  cmd->add_option("--max-samples", args->options.max_samples, "Samples embedded at most; steps are thinned past it")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  cmd->add_option("--max-points", args->options.max_points, "Points per curve at most; steps are averaged past it")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  cmd->callback([args] { run_report(*args); });
}

}  // namespace grpo::cli
