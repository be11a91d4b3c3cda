// train_state.h: the non-model part of a checkpoint: optimizer moments and
// counters, the position in the run (step, data cursor), and the random
// number generator, so that a resumed run continues exactly where the saved
// one would have (same next batch, same samples, same update).
//
// Usage (inside a save_checkpoint writer, and after latest_checkpoint):
//   save_train_state(dir, optimizer, progress);
//   TrainProgress p = load_train_state(dir, optimizer);
#pragma once

#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "learner/optimizer.h"

namespace grpo::learner {

// Where the run is.
struct TrainProgress {
  int64_t step = 0;         // optimizer steps done (applied or skipped)
  int64_t data_cursor = 0;  // prompts consumed from the dataset
  nlohmann::json extra = nlohmann::json::object();  // anything else the caller needs back (e.g. ref-model state)
};

// Writes trainer_state.json, optimizer.pt and rng.pt into dir.
void save_train_state(const std::string& dir, const Optimizer& optimizer, const TrainProgress& progress);

// Restores the optimizer and the default CPU generator from dir and returns
// the progress. Throws IoError naming the file when one is missing or unreadable.
TrainProgress load_train_state(const std::string& dir, Optimizer& optimizer);

}  // namespace grpo::learner
