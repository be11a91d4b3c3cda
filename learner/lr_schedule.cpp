// lr_schedule.cpp: see lr_schedule.h.
#include "learner/lr_schedule.h"

#include <algorithm>
#include <cmath>

#include "core/error.h"

namespace grpo::learner {

double learning_rate_at(int64_t step, const ScheduleOptions& o) {
  if (o.kind != "constant" && o.kind != "linear" && o.kind != "cosine")
    throw Error("lr_schedule: unknown schedule '" + o.kind + "' (constant, linear, cosine)");
  if (step < o.warmup_steps)
    return o.lr * static_cast<double>(step) / static_cast<double>(std::max<int64_t>(1, o.warmup_steps));
  if (o.kind == "constant") return o.lr;
  if (o.total_steps <= o.warmup_steps)
    throw Error("lr_schedule: learner.lr_schedule = " + o.kind + " needs learner.total_steps (" +
                std::to_string(o.total_steps) + ") > warmup_steps (" + std::to_string(o.warmup_steps) + ")");
  const double progress = static_cast<double>(step - o.warmup_steps) / static_cast<double>(o.total_steps - o.warmup_steps);
  if (o.kind == "linear") return o.lr * std::max(0.0, 1.0 - progress);
  return o.lr * std::max(0.0, 0.5 * (1.0 + std::cos(M_PI * std::min(progress, 1.0))));
}

}  // namespace grpo::learner
