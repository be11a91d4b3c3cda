// train_loop.h: `grpo train`: the GRPO loop of docs/architecture.md, one step
// at a time:
//
//   prompts -> groups of G (rollout backend) -> rewards (pool) -> advantages
//   -> learner (GrpoTrainer) -> weights v+1 published -> store / checkpoint
//
// Generation runs on the rollout pipeline's thread (train/rollout_pipeline.h):
// each group is scored as soon as it is complete (rollout.overlap_rewards).
// rollout.mode = sync generates each batch with the newest weights; async
// launches the batches of the next max_staleness steps before the learner
// updates, so they generate meanwhile with weights at most max_staleness
// versions old (the learner's is_correction reweights them; each sample's
// version is stored). Look-ahead stops at checkpoint steps, so that the batch
// after a checkpoint is generated with the checkpoint's weights either way.
// DAPO dynamic sampling (rollout.dynamic_sampling) drops groups whose rewards
// are all equal and refills the batch with up to max_generation_rounds extra
// rounds.
//
// Every step is written to the run store in one transaction, with the
// step-time breakdown time/{rollout,reward,learner,weight_sync,eval,other}
// (what the trainer thread waited for or did; they add up to time/step); a
// checkpoint (policy, optimizer, data cursor, step) every
// learner.checkpoint_every steps and at the end. SIGINT/SIGTERM finish the
// current step, checkpoint and return "interrupted". --resume continues from
// the newest valid checkpoint: steps after it are redone and replace their
// rows in the store, so no step is lost or repeated there.
//
//   TrainOptions o{.recipe_path = "recipes/tiny-zero.json"};
//   TrainSummary s = run_training(o);
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace grpo::train {

// What `grpo train` was asked to do.
struct TrainOptions {
  std::string recipe_path;               // empty with resume_dir: the run's stored recipe
  std::vector<std::string> overrides;    // --set key=value
  std::string resume_dir;                // --resume RUN_DIR
  int64_t report_every = 0;              // refresh report.html every N steps (0 = at the end)
  int nproc = 1;                         // --nproc: local learner ranks (data parallel); see below
};

// How a run ended.
struct TrainSummary {
  std::string run_dir;
  std::string status;   // "completed" or "interrupted"
  int64_t steps_done = 0;
  std::map<std::string, double> last_metrics;
  std::string report_path;
};

// Runs (or resumes) a training run to its end or to a stop signal. Throws
// grpo::Error for anything that stops the run; the store then says "failed".
//
// Data parallel: with WORLD_SIZE > 1 in the environment (torchrun's
// conventions) or nproc > 1 (which starts ranks 1..nproc-1 as copies of this
// process, train/local_ranks.h), rank 0 runs the loop above (rollout, rewards,
// store, checkpoints, weight publishing) and sends each generation batch to
// the other ranks, which only train; the learner averages gradients over all.
// On a rank > 0 this returns once rank 0 stopped, with an empty run_dir.
TrainSummary run_training(const TrainOptions& options);

}  // namespace grpo::train
