// run_outputs.h: what every training command (`grpo train`, `grpo sft`)
// leaves in its run directory besides metrics: checkpoints in the learner's
// format, recorded in the store, and the HTML report with TensorBoard files.
//
//   std::string ckpt = write_run_checkpoint(dir, step, *policy, tokenizer, optimizer, progress, keep);
//   std::string html = write_run_report(dir);
#pragma once

#include <cstdint>
#include <string>

#include "core/run_directory.h"
#include "learner/checkpoint.h"
#include "learner/optimizer.h"
#include "learner/train_state.h"
#include "policies/causal_lm.h"
#include "policies/tokenizer.h"

namespace grpo::train {

// Writes checkpoint `step` (policy/ as a complete Hugging Face directory with
// tokenizer.json, plus the optimizer and progress of train_state.h)
// atomically under dir.checkpoints_path(), records it in the store and
// returns its directory.
std::string write_run_checkpoint(RunDirectory& dir, int64_t step, const policies::CausalLM& policy,
                                 const policies::Tokenizer& tokenizer, const learner::Optimizer& optimizer,
                                 const learner::TrainProgress& progress, const learner::RetentionPolicy& keep);

// Saves `policy` with tokenizer.json into `out` (a Hugging Face directory a recipe's model.path can name).
void save_policy_with_tokenizer(const policies::CausalLM& policy, const policies::Tokenizer& tokenizer, const std::string& out);

// Writes <run>/report.html and <run>/tb from the store; returns the report's
// path. A failure is logged, never thrown: a report is a view of the store.
std::string write_run_report(RunDirectory& dir);

}  // namespace grpo::train
