// sample_unfiltered_rows (rollout/unfiltered_sampler.h): the token is the
// inverse-CDF token of softmax(logits / T) at the given uniform (float64
// reference), the top of the CDF gives the last token with weight, -inf
// tokens are never drawn, greedy rows take the first argmax, log-probs are
// log_softmax's, and rows with NaN or +inf logits are left to the general path.
#include "rollout/unfiltered_sampler.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>


namespace grpo::rollout::detail {
namespace {

constexpr int64_t kUnfilteredVocab = 700;  // 10 blocks of 64 and a tail of 60
const float kUnfilteredInf = std::numeric_limits<float>::infinity();

torch::Tensor unfiltered_logits(int64_t rows, uint64_t seed) {
  auto gen = at::make_generator<at::CPUGeneratorImpl>(seed);
  auto l = at::normal(0.0, 3.0, {rows, kUnfilteredVocab}, gen).to(torch::kFloat32);
  l.narrow(1, 0, 7).fill_(-kUnfilteredInf);    // masked at the start,
  l.narrow(1, 690, 10).fill_(-kUnfilteredInf);  // and in the tail block
  return l;
}

std::vector<RowSampling> unfiltered_rows(const std::vector<double>& temperatures) {
  std::vector<RowSampling> rows;
  for (double t : temperatures) rows.push_back(RowSampling{t, 0, 1.0, 0.0, 0, 0});
  return rows;
}

TEST(UnfilteredSampler, DrawsTheInverseCdfTokenAndLogSoftmaxLogprob) {
  int64_t checked = 0;
  for (uint64_t seed = 0; seed < 40; ++seed) {
    const std::vector<double> temps = {1.0, 0.7, 1.3, 1.0};
    auto logits = unfiltered_logits(4, seed);
    std::vector<double> us;
    for (int64_t i = 0; i < 4; ++i) us.push_back(std::fmod(0.1234 + 0.2718 * static_cast<double>(seed * 4 + i), 1.0));
    auto got = sample_unfiltered_rows(logits, unfiltered_rows(temps), us);
    ASSERT_TRUE(got.has_value());
    for (int64_t i = 0; i < 4; ++i) {
      auto logp = torch::log_softmax(logits[i].to(torch::kDouble) / temps[i], 0);
      auto cdf = logp.exp().cumsum(0);
      const double target = us[i] * cdf[-1].item<double>();
      const int64_t want = (cdf > target).nonzero()[0][0].item<int64_t>();
      const int64_t token = got->tokens[i].item<int64_t>();
      const double below = want > 0 ? cdf[want - 1].item<double>() : 0.0, above = cdf[want].item<double>();
      if (target - below > 1e-9 && above - target > 1e-9) {  // not within rounding of a boundary
        EXPECT_EQ(token, want) << "seed " << seed << " row " << i << " u " << us[i];
        ++checked;
      }
      EXPECT_TRUE(token >= 7 && token < 690) << "a -inf token was drawn: " << token;
      EXPECT_NEAR(got->logprobs[i].item<double>(), logp[token].item<double>(), 1e-6);
    }
  }
  EXPECT_GE(checked, 150);
}

TEST(UnfilteredSampler, TopOfTheCdfTakesTheLastTokenWithWeightAndGreedyTheFirstMax) {
  auto logits = unfiltered_logits(3, 9);
  logits[2].fill_(0.0f);
  logits[2][100] = 5.0f;
  logits[2][300] = 5.0f;  // a tie: argmax takes the first
  auto got = sample_unfiltered_rows(logits, unfiltered_rows({1.0, 1.0, 0.0}), {0.0, std::nextafter(1.0, 0.0), 0.5});
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(got->tokens[0].item<int64_t>(), 7) << "u = 0: the first token with weight";
  EXPECT_EQ(got->tokens[1].item<int64_t>(), 689) << "u just below 1: the last token with weight";
  EXPECT_EQ(got->tokens[2].item<int64_t>(), 100);
  EXPECT_NEAR(got->logprobs[2].item<double>(), torch::log_softmax(logits[2].to(torch::kDouble), 0)[100].item<double>(), 1e-6);
}

TEST(UnfilteredSampler, RowsWithNanOrPositiveInfinityOrOnlyMaskedLogitsGoToTheGeneralPath) {
  for (float bad : {std::numeric_limits<float>::quiet_NaN(), kUnfilteredInf}) {
    auto logits = unfiltered_logits(2, 3);
    logits[1][350] = bad;
    EXPECT_FALSE(sample_unfiltered_rows(logits, unfiltered_rows({1.0, 1.0}), {0.5, 0.5}).has_value()) << bad;
  }
  auto masked = unfiltered_logits(2, 4);
  masked[0].fill_(-kUnfilteredInf);
  EXPECT_FALSE(sample_unfiltered_rows(masked, unfiltered_rows({1.0, 0.0}), {0.5, 0.5}).has_value());
}

}  // namespace
}  // namespace grpo::rollout::detail
