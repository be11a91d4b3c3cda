#include "train/pass_at_k.h"

#include <string>

#include "core/error.h"

namespace grpo::train {

double pass_at_k(int64_t n, int64_t c, int64_t k) {
  if (k < 1 || k > n)
    throw Error("pass@" + std::to_string(k) + ": k must be in [1, n] with n = " + std::to_string(n) +
                " samples per problem; sample more (--n) or ask for a smaller k");
  if (c < 0 || c > n)
    throw Error("pass@k: correct samples c = " + std::to_string(c) + " must be in [0, n = " + std::to_string(n) + "]");
  // Fewer than k wrong samples: every draw of k holds a correct one.
  if (n - c < k) return 1.0;
  double all_wrong = 1.0;  // C(n-c, k) / C(n, k)
  for (int64_t i = n - c + 1; i <= n; ++i) all_wrong *= 1.0 - static_cast<double>(k) / static_cast<double>(i);
  return 1.0 - all_wrong;
}

}  // namespace grpo::train
