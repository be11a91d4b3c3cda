// pass_at_k.h: the unbiased pass@k estimator of Chen et al. 2021 ("Evaluating
// Large Language Models Trained on Code", section 2.1): with n samples of a
// problem of which c are correct, the probability that at least one of k
// samples drawn without replacement is correct,
//
//   pass@k = 1 - C(n-c, k) / C(n, k)
//
// computed as the paper's numerically stable product
//   1 - prod_{i = n-c+1}^{n} (1 - k / i)
// (no binomials, which overflow doubles from n ~ 1030 on).
//
//   double p = pass_at_k(/*n=*/10, /*c=*/3, /*k=*/5);   // 1 - C(7,5)/C(10,5) = 1 - 21/252
#pragma once

#include <cstdint>

namespace grpo::train {

// REQUIRES 0 <= c <= n and 1 <= k <= n; throws grpo::Error naming the bad value otherwise.
double pass_at_k(int64_t n, int64_t c, int64_t k);

}  // namespace grpo::train
