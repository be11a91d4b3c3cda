// fake_run.h: a run store filled with made-up but realistic GRPO metrics and
// samples (docs/report.md naming), for the report and TensorBoard tests.
#pragma once

#include <cstdint>

#include "core/run_store.h"

namespace grpo::testing {

struct FakeRunShape {
  int64_t steps = 60;
  int moe_layers = 2;
  int experts = 8;
  int groups = 4;             // prompts per step
  int group_size = 4;         // completions per prompt
  int sample_every = 1;       // samples kept every N steps
  uint32_t seed = 7;
};

// Writes meta, steps 1..shape.steps (metrics + samples), a checkpoint every
// 20 steps and a couple of events.
void write_fake_run(RunStore& store, const FakeRunShape& shape);

// The metrics of one step (deterministic in step and seed).
StepRecord fake_step(int64_t step, const FakeRunShape& shape);

}  // namespace grpo::testing
