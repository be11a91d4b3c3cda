// run_config.h: the `run` section of a recipe: naming, seeding and pacing a run.
#pragma once

#include <cstdint>
#include <string>

namespace grpo {

// Where a run lives, how it is seeded and how long it lasts.
struct RunConfig {
  std::string name = "run";
  std::string dir = "runs";
  int64_t seed = 0;
  int64_t steps = 100;
  int threads = 0;
  std::string log_level = "info";
  int64_t log_every = 1;
  int64_t eval_every = 0;
  int64_t samples_per_step = -1;

  template <class V> void fields(V& v) {
    v.field("name", name, "Run name; everything of the run goes to <dir>/<name>/ (run.db, log.txt, checkpoints).");
    v.field("dir", dir, "Parent directory of run directories, relative to the working directory.");
    v.field("seed", seed, "Seed of every random stream (data order, sampling, initialisation).");
    v.field("steps", steps, "Number of optimizer steps to run.");
    v.field("threads", threads, "LibTorch intra-op threads; 0 means one per available core.");
    v.choice("log_level", log_level, {"debug", "info", "warn", "error"}, "Least severe log level written.");
    v.field("log_every", log_every, "Write a progress line every this many steps when stderr is not a terminal.");
    v.field("eval_every", eval_every, "Evaluate on the held-out rows every this many steps (and at the start and end); 0 = start and end only.");
    v.field("samples_per_step", samples_per_step, "Completions stored in the run store per step; -1 = all of them.");
    v.check(!name.empty() && name.find('/') == std::string::npos, "name", "must be non-empty and contain no '/'");
    v.check(steps >= 0, "steps", "must be >= 0");
    v.check(threads >= 0, "threads", "must be >= 0 (0 = all available cores)");
    v.check(log_every >= 1, "log_every", "must be >= 1");
    v.check(eval_every >= 0, "eval_every", "must be >= 0");
    v.check(samples_per_step >= -1, "samples_per_step", "must be >= -1 (-1 = all)");
  }
};

}  // namespace grpo
