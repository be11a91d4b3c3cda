// `grpo train RECIPE [--set …] [--resume RUN_DIR] [--nproc N]`: a GRPO run (train/train_loop.h).
#include <CLI/CLI.hpp>

#include <iostream>

#include "cli/commands.h"
#include "core/error.h"
#include "train/train_loop.h"

namespace grpo::cli {

void add_train_command(CLI::App& root) {
  CLI::App* train = root.add_subcommand("train", "Run GRPO from a recipe (or continue a run with --resume)");
  auto options = std::make_shared<train::TrainOptions>();
  train->add_option("recipe", options->recipe_path, "Recipe JSON file (optional with --resume: the run's stored recipe)")
      ->check(CLI::ExistingFile);
  train->add_option("--set", options->overrides, "Override a recipe key: --set learner.lr=1e-6 (repeatable)");
  train->add_option("--resume", options->resume_dir, "Continue the run in RUN_DIR from its newest valid checkpoint")
      ->check(CLI::ExistingDirectory);
  train->add_option("--report-every", options->report_every, "Refresh RUN_DIR/report.html every N steps (0: at the end)")
      ->check(CLI::NonNegativeNumber);
  train->add_option("--nproc", options->nproc, "Learner processes (data parallel: c10d Gloo on CPU, NCCL on CUDA); rank 0 owns the run")
      ->check(CLI::PositiveNumber);
  train->callback([options] {
    if (options->recipe_path.empty() && options->resume_dir.empty())
      throw CLI::RequiredError("recipe (or --resume RUN_DIR)");
    train::TrainSummary s = train::run_training(*options);
    if (s.run_dir.empty()) return;  // a learner rank > 0: rank 0 reports the run
    std::cerr << "grpo: run " << s.status << " after " << s.steps_done << " steps; report: " << s.report_path << "\n";
  });
}

}  // namespace grpo::cli
