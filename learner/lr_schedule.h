// lr_schedule.h: learning rate per optimizer step: linear warm-up from 0, then
// constant, linear decay to 0 or cosine decay to 0 at total_steps. The same
// numbers as transformers' get_{constant,linear,cosine}_schedule_with_warmup
// (what TRL's trainer uses), step counted from 0.
#pragma once

#include <cstdint>
#include <string>

namespace grpo::learner {

struct ScheduleOptions {
  double lr = 1e-6;
  int64_t warmup_steps = 0;
  std::string kind = "constant";  // constant | linear | cosine
  int64_t total_steps = 0;        // end of the decay (linear/cosine); must exceed warmup_steps
};

// Learning rate of optimizer step `step` (0-based). Throws grpo::Error for an
// unknown kind, or a decaying schedule without total_steps > warmup_steps.
double learning_rate_at(int64_t step, const ScheduleOptions& options);

}  // namespace grpo::learner
