#include "rollout/sampler.h"

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "core/error.h"

namespace grpo::rollout {
namespace {

// Fixed logits over 6 tokens: probabilities at T = 1 are roughly
// .46 .25 .14 .08 .04 .02 (a softmax of 3, 2.4, 1.8, 1.2, .6, 0 minus a shift).
torch::Tensor fixed_logits() { return torch::tensor({1.8, 3.0, 0.0, 2.4, 0.6, 1.2}, torch::kFloat32); }

// Draws `n` tokens from the same logits row with n different seeds; returns
// counts per token.
std::vector<int64_t> draw_counts(const RowSampling& proto, int64_t n) {
  auto logits = fixed_logits().unsqueeze(0).expand({n, 6}).contiguous();
  std::vector<RowSampling> rows(n, proto);
  for (int64_t i = 0; i < n; ++i) rows[i].seed = sequence_seed(1234, i);
  auto s = sample_tokens(logits, rows);
  std::vector<int64_t> counts(6, 0);
  auto t = s.tokens.accessor<int64_t, 1>();
  for (int64_t i = 0; i < n; ++i) counts[t[i]]++;
  return counts;
}

// Pearson chi-square of counts against p (tokens with p = 0 must have count 0).
double chi_square(const std::vector<int64_t>& counts, const torch::Tensor& p, int64_t n, int* dof) {
  double chi = 0;
  *dof = -1;
  for (int64_t i = 0; i < 6; ++i) {
    double e = p[i].item<double>() * n;
    if (e == 0) {
      EXPECT_EQ(counts[i], 0) << "token " << i << " is outside the kept set but was drawn";
      continue;
    }
    chi += (counts[i] - e) * (counts[i] - e) / e;
    (*dof)++;
  }
  return chi;
}

// chi-square 99.9% quantiles for 1..5 degrees of freedom.
double chi_bound(int dof) {
  static const double q[] = {0, 10.83, 13.82, 16.27, 18.47, 20.52};
  return q[dof];
}

void expect_samples_follow(const RowSampling& row) {
  constexpr int64_t n = 40000;
  auto counts = draw_counts(row, n);
  auto p = filtered_distribution(fixed_logits(), row);
  int dof = 0;
  double chi = chi_square(counts, p, n, &dof);
  ASSERT_GE(dof, 0);
  if (dof > 0) EXPECT_LT(chi, chi_bound(dof)) << "draws do not follow the filtered distribution";
}

TEST(SamplerTest, FullDistributionAtTemperatureOne) { expect_samples_follow({1.0, 0, 1.0, 0.0, 0, 0}); }
TEST(SamplerTest, TemperatureSharpens) { expect_samples_follow({0.5, 0, 1.0, 0.0, 0, 0}); }
TEST(SamplerTest, TopKKeepsKMostLikely) {
  RowSampling row{1.0, 3, 1.0, 0.0, 0, 0};
  auto p = filtered_distribution(fixed_logits(), row);
  EXPECT_EQ((p > 0).sum().item<int64_t>(), 3);
  EXPECT_GT(p[1].item<double>(), 0);  // logit 3.0
  EXPECT_GT(p[3].item<double>(), 0);  // 2.4
  EXPECT_GT(p[0].item<double>(), 0);  // 1.8
  expect_samples_follow(row);
}
TEST(SamplerTest, TopPKeepsTheNucleus) {
  // Probabilities sorted: ~.464 .255 .140 .077 .042 .023; top_p .7 keeps the
  // first two (.464 < .7, .464+.255 >= .7 so the third is dropped).
  RowSampling row{1.0, 0, 0.7, 0.0, 0, 0};
  auto p = filtered_distribution(fixed_logits(), row);
  EXPECT_EQ((p > 0).sum().item<int64_t>(), 2);
  expect_samples_follow(row);
}
TEST(SamplerTest, MinPDropsUnlikelyTokens) {
  // min_p .2: keep p >= .2 * .464 = .093: tokens with logit 3.0, 2.4, 1.8.
  RowSampling row{1.0, 0, 1.0, 0.2, 0, 0};
  auto p = filtered_distribution(fixed_logits(), row);
  EXPECT_EQ((p > 0).sum().item<int64_t>(), 3);
  expect_samples_follow(row);
}
TEST(SamplerTest, FiltersCombine) { expect_samples_follow({0.8, 4, 0.9, 0.05, 0, 0}); }

TEST(SamplerTest, GreedyTakesArgmax) {
  auto logits = torch::randn({5, 50}, torch::TensorOptions().dtype(torch::kFloat32));
  std::vector<RowSampling> rows(5, RowSampling{0.0, 0, 1.0, 0.0, 7, 0});
  auto s = sample_tokens(logits, rows);
  EXPECT_TRUE(torch::equal(s.tokens, logits.argmax(1)));
}

TEST(SamplerTest, SameSeedSameTokensRegardlessOfBatch) {
  torch::manual_seed(0);
  auto logits = torch::randn({8, 100});
  std::vector<RowSampling> rows;
  for (int i = 0; i < 8; ++i) rows.push_back({1.0, 20, 0.9, 0.0, sequence_seed(99, i), 3});
  auto all = sample_tokens(logits, rows);
  // Row 5 alone, and the batch reversed: same token for the same (seed, step).
  auto alone = sample_tokens(logits.narrow(0, 5, 1), {rows[5]});
  EXPECT_EQ(alone.tokens[0].item<int64_t>(), all.tokens[5].item<int64_t>());
  std::vector<RowSampling> reversed(rows.rbegin(), rows.rend());
  auto rev = sample_tokens(logits.flip(0), reversed);
  EXPECT_TRUE(torch::equal(rev.tokens.flip(0), all.tokens));
  // A different step gives a different stream.
  EXPECT_NE(uniform_for(rows[0].seed, 3), uniform_for(rows[0].seed, 4));
}

TEST(SamplerTest, LogprobIsTemperatureScaledFullSoftmax) {
  // The learner's formula: log_softmax(logits / T)[token], no top-k/top-p mask.
  torch::manual_seed(1);
  auto logits = torch::randn({4, 30});
  std::vector<RowSampling> rows;
  for (int i = 0; i < 4; ++i) rows.push_back({0.7, 5, 0.8, 0.0, sequence_seed(3, i), 0});
  auto s = sample_tokens(logits, rows);
  auto expected = torch::log_softmax(logits / 0.7, 1).gather(1, s.tokens.unsqueeze(1)).squeeze(1);
  EXPECT_LT((s.logprobs - expected).abs().max().item<double>(), 1e-6);
}

TEST(SamplerTest, UniformsLookUniform) {
  // Mean and variance of 100k uniforms: 1/2 and 1/12 within 5 standard errors.
  constexpr int n = 100000;
  double sum = 0, sum2 = 0;
  for (int i = 0; i < n; ++i) {
    double u = uniform_for(sequence_seed(5, i), i % 17);
    ASSERT_GE(u, 0.0);
    ASSERT_LT(u, 1.0);
    sum += u;
    sum2 += u * u;
  }
  double mean = sum / n, var = sum2 / n - mean * mean;
  EXPECT_NEAR(mean, 0.5, 5 * std::sqrt(1.0 / 12 / n));
  EXPECT_NEAR(var, 1.0 / 12, 0.002);
}

TEST(SamplingParamsTest, ValidateNamesTheField) {
  SamplingParams p;
  p.top_p = 0;
  try {
    p.validate();
    FAIL() << "top_p 0 accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("top_p"), std::string::npos);
  }
}

}  // namespace
}  // namespace grpo::rollout
