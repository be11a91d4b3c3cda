// task_generators.h: procedural reasoning tasks with checkable answers, seeded,
// for runs that need no dataset file (tiny R1-Zero on a CPU).
//
//   countdown  (TinyZero): {"question", "nums": [..], "target": T, "answer": T}
//              reach T with + - * / using each number once.
//   arithmetic: {"question": "What is 37 + 48?", "expression": "37 + 48", "answer": "85"}
//
// Parameters (data.generator_params in a recipe):
//   countdown:  min_numbers (3), max_numbers (4), max_number (99), max_target (100)
//   arithmetic: max_operand (100), ops ("+-*")
#pragma once

#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "core/dataset.h"

namespace grpo {

// `size` rows of task `name` from `seed`. Throws ConfigError for an unknown
// task or parameter (naming data.generator / data.generator_params.KEY).
Dataset generate_task(const std::string& name, int64_t size, uint64_t seed, const nlohmann::json& params);

// Train and held-out rows of one task: disjoint by question text, from
// separate seed streams, so no evaluation problem is ever trained on.
struct TaskSplit {
  Dataset train;
  Dataset eval;
};
TaskSplit generate_task_split(const std::string& name, int64_t train_size, int64_t eval_size, uint64_t seed,
                              const nlohmann::json& params);

}  // namespace grpo
