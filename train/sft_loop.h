// sft_loop.h: `grpo sft`: supervised next-token training from a recipe's
// `sft` section (train/sft_data.h), one optimizer step at a time with the
// learner's SftTrainer (the optimizer, schedule and micro-batching of
// `grpo train`):
//
//   sequences -> batches of sft.batch_size (shuffled, epoch after epoch)
//   -> SftTrainer step -> run store (loss, learning_rate, tokens/s) -> checkpoint
//
// The run directory is the same as `grpo train`'s (run.db, log.txt,
// checkpoints/, report.html), so `grpo report` reads it; the final policy is
// also saved with its tokenizer to sft.output (default <run dir>/final), a
// directory a GRPO recipe's model.path can name. SIGINT/SIGTERM finish the
// current step, checkpoint and save.
//
//   SftSummary s = run_sft({.recipe_path = "recipes/sft.json"});
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace grpo::train {

// What `grpo sft` was asked to do.
struct SftOptions {
  std::string recipe_path;
  std::vector<std::string> overrides;  // --set key=value
};

// How an SFT run ended.
struct SftSummary {
  std::string run_dir;
  std::string status;  // "completed" or "interrupted"
  int64_t steps_done = 0;
  std::string model_dir;  // the final policy with its tokenizer
  std::map<std::string, double> last_metrics;
};

// Runs supervised training to run.steps or a stop signal. Throws grpo::Error
// for anything that stops the run (a ConfigError naming sft.text when the
// recipe has no sft data); the store then says "failed".
SftSummary run_sft(const SftOptions& options);

}  // namespace grpo::train
