// expect_same_completions: two engine runs gave the same token ids and
// log-probabilities within a tolerance (shared by the engine tests that compare
// one decode path with another: CUDA vs CPU, static buckets vs eager).
#pragma once

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "rollout/engine.h"

namespace grpo::rollout {

inline void expect_same_completions(const std::vector<GroupResult>& a, const std::vector<GroupResult>& b,
                                    double logprob_tol, const std::string& what) {
  ASSERT_EQ(a.size(), b.size());
  for (size_t g = 0; g < a.size(); ++g) {
    ASSERT_EQ(a[g].completions.size(), b[g].completions.size());
    for (size_t j = 0; j < a[g].completions.size(); ++j) {
      const Completion& x = a[g].completions[j];
      const Completion& y = b[g].completions[j];
      EXPECT_EQ(x.ids, y.ids) << what << ": group " << g << " completion " << j;
      ASSERT_EQ(x.logprobs.size(), y.logprobs.size());
      for (size_t t = 0; t < x.logprobs.size(); ++t) EXPECT_NEAR(x.logprobs[t], y.logprobs[t], logprob_tol) << what << " token " << t;
    }
  }
}

}  // namespace grpo::rollout
