// step_metrics.h: the rollout and reward figures of one GRPO step, computed
// from plain records (names follow docs/report.md's convention). Pure
// functions, tested without a model.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "rewards/reward_pool.h"
#include "rollout/generation_types.h"

namespace grpo::train {

// Which reward components stand for "correct" and "well-formatted".
struct MetricRoles {
  int accuracy_component = -1;  // index into the pool's names, -1 = none
  int format_component = -1;
};

// reward/*, accuracy/mean, format/rate, completion/* of one step.
// `scored` holds one entry per completion, groups contiguous, in the order of `results`.
std::map<std::string, double> rollout_metrics(const std::vector<rollout::GroupResult>& results,
                                              const std::vector<rewards::ScoredSample>& scored,
                                              const std::vector<std::string>& component_names, const MetricRoles& roles);

// Whether an accuracy component's score means "correct": full marks, since
// countdown gives 0.1 to a wrong but well-formed answer.
bool counts_as_correct(double accuracy_score);

// The first component of type math/countdown/code is the accuracy, the first of type format the format rate.
MetricRoles metric_roles(const std::vector<std::string>& reward_types);

}  // namespace grpo::train
