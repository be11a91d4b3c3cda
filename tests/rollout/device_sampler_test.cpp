// sample_tokens_on_device (device_sampler.h) draws exactly what the CPU path
// of sample_tokens draws: run on CPU tensors (its CPU twin) for greedy,
// unfiltered and top-k/top-p/min-p rows, masked (-inf) logits included; and
// on a CUDA GPU (skipped where none is present) against the CPU path.
#include "rollout/device_sampler.h"

#include <gtest/gtest.h>

#include <limits>

namespace grpo::rollout {
namespace {

constexpr int64_t kRows = 24, kVocab = 700;

// Rows cycling through every kind of sampling, with their own seeds and steps.
std::vector<RowSampling> mixed_rows(int64_t step) {
  std::vector<RowSampling> rows;
  for (int64_t i = 0; i < kRows; ++i) {
    RowSampling r;
    r.seed = 1000 + static_cast<uint64_t>(i);
    r.step = step;
    switch (i % 6) {
      case 0: r.temperature = 0.0; break;                    // greedy
      case 1: r.temperature = 1.0; break;                    // unfiltered
      case 2: r.temperature = 0.7; r.top_k = 20; break;
      case 3: r.temperature = 1.3; r.top_p = 0.9; break;
      case 4: r.temperature = 1.0; r.min_p = 0.05; break;
      default: r.temperature = 0.9; r.top_k = 50; r.top_p = 0.8; r.min_p = 0.01; break;
    }
    rows.push_back(r);
  }
  return rows;
}

// Logits with a spread like a language model's, a few tokens masked to -inf.
torch::Tensor logits(uint64_t seed) {
  auto gen = at::make_generator<at::CPUGeneratorImpl>(seed);
  auto l = at::normal(0.0, 3.0, {kRows, kVocab}, gen).to(torch::kFloat32);
  l.index_put_({torch::indexing::Slice(), torch::indexing::Slice(0, 10)}, -std::numeric_limits<float>::infinity());
  return l;
}

void expect_same_draws(const SampledTokens& a, const SampledTokens& b, const std::string& what) {
  ASSERT_TRUE(a.tokens.device().is_cpu() && b.tokens.device().is_cpu());
  EXPECT_TRUE(torch::equal(a.tokens, b.tokens)) << what << "\n" << a.tokens << "\n" << b.tokens;
  EXPECT_TRUE(torch::allclose(a.logprobs, b.logprobs, /*rtol=*/0, /*atol=*/1e-5)) << what;
}

TEST(DeviceSamplerTest, CpuTwinDrawsWhatTheCpuPathDraws) {
  for (int64_t step = 0; step < 20; ++step) {
    auto l = logits(static_cast<uint64_t>(step));
    auto rows = mixed_rows(step);
    SampledTokens twin = sample_tokens_on_device(l, rows);
    SampledTokens cpu = sample_tokens(l, rows);
    expect_same_draws(twin, cpu, "step " + std::to_string(step));
    EXPECT_TRUE(torch::equal(twin.logprobs, cpu.logprobs)) << "same operations on the CPU: bit-equal log-probs";
    EXPECT_TRUE((twin.tokens >= 10).all().item<bool>()) << "a masked token was drawn";
  }
}

TEST(DeviceSamplerTest, UnfilteredBatchTakesTheCpuPathsRowByRowDraw) {
  // No row filters: the CPU path draws row by row without [N, V] float64 tensors.
  std::vector<RowSampling> rows(kRows);
  for (int64_t i = 0; i < kRows; ++i) rows[i] = RowSampling{1.0, 0, 1.0, 0.0, static_cast<uint64_t>(i), 3};
  auto l = logits(99);
  expect_same_draws(sample_tokens_on_device(l, rows), sample_tokens(l, rows), "unfiltered");
}

TEST(DeviceSamplerTest, DrawsFollowTheFilteredDistribution) {
  // 4000 draws of one row: frequencies match filtered_distribution (5 sigma).
  auto l = logits(7).narrow(0, 0, 1).narrow(1, 0, 40).clone();
  l.narrow(1, 0, 10).normal_(0.0, 1.0);
  RowSampling r{1.0, 8, 0.95, 0.0, 5, 0};
  std::vector<RowSampling> rows(4000, r);
  for (size_t i = 0; i < rows.size(); ++i) rows[i].step = static_cast<int64_t>(i);
  auto drawn = sample_tokens_on_device(l.expand({4000, 40}).contiguous(), rows).tokens;
  auto expected = filtered_distribution(l[0], r);
  auto counts = torch::bincount(drawn, {}, 40).to(torch::kFloat64) / 4000.0;
  auto sigma = (expected * (1 - expected) / 4000.0).sqrt();
  EXPECT_TRUE(((counts - expected).abs() <= 5 * sigma + 1e-12).all().item<bool>()) << counts << expected;
  EXPECT_EQ((counts > 0).sum().item<int64_t>(), (expected > 0).sum().item<int64_t>());
}

TEST(DeviceSamplerTest, CudaDrawsWhatTheCpuPathDraws) {
  if (!torch::cuda::is_available()) GTEST_SKIP() << "no CUDA device: runs on a GPU machine (scripts/gpu-check.sh)";
  for (int64_t step = 0; step < 20; ++step) {
    auto l = logits(static_cast<uint64_t>(step));
    auto rows = mixed_rows(step);
    expect_same_draws(sample_tokens(l.to(torch::kCUDA), rows), sample_tokens(l, rows), "cuda step " + std::to_string(step));
  }
}

}  // namespace
}  // namespace grpo::rollout
