// evaluation.h: `grpo eval`: a policy graded on held-out problems. Every
// problem is prompted through the recipe's template, completed n times by the
// rollout backend (greedy when the sampling temperature is 0), and graded by
// the reward pool. Metrics (names as in a training step, docs/report.md):
//
//   accuracy/mean            share of completions that are correct (full marks
//                            from the first math/countdown/code reward); equals
//                            the mean over problems of c/n, i.e. pass@1
//   pass@K                   unbiased pass@k (pass_at_k.h) averaged over problems
//   format/rate              share of completions the first format reward accepts
//   completion/length/mean   completion length in tokens (also /min, /max)
//   completion/clipped_ratio share of completions cut at max_new_tokens
//   reward/mean, reward/<component>/mean   rewards as in training
//
//   EvalOptions o; o.samples_per_problem = 8; o.ks = {1, 4, 8};
//   EvalResult r = evaluate(backend, components, recipe, o);
//   write_evaluation(run_dir.store(), r);   // step 0: eval/<metric> and every completion
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/run_store.h"
#include "train/components.h"
#include "train/recipe.h"
#include "train/rollout_backend.h"

namespace grpo::train {

// How an evaluation samples; the distribution itself is the recipe's rollout section.
struct EvalOptions {
  // Completions per problem (the n of pass@k); 1 for greedy decoding, where more are copies.
  int samples_per_problem = 1;
  // pass@k is reported for each k; every k must be in [1, samples_per_problem].
  std::vector<int64_t> ks = {1};
  // Problems handed to the backend per generate call; a log line follows each
  // call. Seeds depend on the problem, not on this split.
  int64_t problems_per_batch = 32;

  // Throws grpo::Error naming --n / --k when ks do not fit samples_per_problem.
  void validate(bool greedy) const;
};

// What an evaluation measured.
struct EvalResult {
  int64_t problems = 0;
  int samples_per_problem = 0;
  std::map<std::string, double> metrics;  // the names listed at the top of this file
  std::vector<SampleRecord> samples;      // every graded completion; group = problem index
};

// Throws ConfigError (key rewards or data) unless the recipe has a reward that
// says "correct" (math, countdown, code) and components.eval_data has rows.
void check_evaluable(const Recipe& recipe, const TrainComponents& components);

// The weights version an evaluation generates with: publish the checkpoint's
// weights as this version on the backend before evaluate().
constexpr int64_t kEvaluatedVersion = 0;

// Completes and grades every row of components.eval_data (check_evaluable first).
EvalResult evaluate(RolloutBackend& backend, const TrainComponents& components, const Recipe& recipe,
                    const EvalOptions& options);

// Records `result` as step 0 of an evaluation run: metrics under eval/, every
// completion as a sample, the options in meta "evaluation".
void write_evaluation(RunStore& store, const EvalResult& result, const nlohmann::json& description);

}  // namespace grpo::train
