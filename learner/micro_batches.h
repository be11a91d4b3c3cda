// micro_batches.h: splits the completions of an optimizer step into
// micro-batches by a token budget (dynamic batch size): a micro-batch's padded
// size, rows x longest row, stays within the budget. Sorting by length first
// keeps padding small. Pure index arithmetic; no tensors.
//
// Usage:
//   auto plan = plan_micro_batches({12, 40, 7, 39}, /*token_budget=*/96, /*sort_by_length=*/true);
//   // plan == {{1, 3}, {0, 2}}: rows 40+39 pad to 80, rows 12+7 pad to 24
#pragma once

#include <cstdint>
#include <vector>

namespace grpo::learner {

// Indices into `lengths` of each micro-batch. Every index appears exactly
// once. A sequence longer than the budget gets a micro-batch of its own.
// Deterministic: ties keep the input order.
std::vector<std::vector<int64_t>> plan_micro_batches(const std::vector<int64_t>& lengths, int64_t token_budget,
                                                     bool sort_by_length = true);

// Padded tokens (rows x longest row, summed over micro-batches) of a plan.
int64_t padded_tokens(const std::vector<int64_t>& lengths, const std::vector<std::vector<int64_t>>& plan);

}  // namespace grpo::learner
