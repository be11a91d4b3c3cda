// micro_batches.cpp: see micro_batches.h. Greedy first-fit over the sequences
// in decreasing length: the first row of a micro-batch is its longest, so
// adding a row costs exactly that longest length.
#include "learner/micro_batches.h"

#include <algorithm>
#include <numeric>

#include "core/error.h"

namespace grpo::learner {

std::vector<std::vector<int64_t>> plan_micro_batches(const std::vector<int64_t>& lengths, int64_t token_budget,
                                                     bool sort_by_length) {
  if (token_budget < 1) throw Error("plan_micro_batches: learner.micro_batch_tokens must be >= 1, got " + std::to_string(token_budget));
  std::vector<int64_t> order(lengths.size());
  std::iota(order.begin(), order.end(), 0);
  if (sort_by_length)
    std::stable_sort(order.begin(), order.end(), [&](int64_t a, int64_t b) { return lengths[a] > lengths[b]; });
  std::vector<std::vector<int64_t>> plan;
  int64_t longest = 0;
  for (int64_t i : order) {
    const int64_t len = std::max<int64_t>(lengths[i], 1);
    if (!plan.empty()) {
      const int64_t rows = static_cast<int64_t>(plan.back().size()) + 1;
      if (rows * std::max(longest, len) <= token_budget) {
        plan.back().push_back(i);
        longest = std::max(longest, len);
        continue;
      }
    }
    plan.push_back({i});
    longest = len;
  }
  return plan;
}

int64_t padded_tokens(const std::vector<int64_t>& lengths, const std::vector<std::vector<int64_t>>& plan) {
  int64_t total = 0;
  for (const auto& batch : plan) {
    int64_t longest = 0;
    for (int64_t i : batch) longest = std::max(longest, lengths[i]);
    total += longest * static_cast<int64_t>(batch.size());
  }
  return total;
}

}  // namespace grpo::learner
