// few_rows_linear: the decode kernel's products against float64, over the
// shapes its tiles and thread split cut (rows mod 3, columns mod 4, one and
// many threads), and the cases it leaves to the GEMM library.
#include <gtest/gtest.h>

#include <cmath>
#include <string>

#include "core/cpu_dispatch.h"
#include "policies/few_rows_linear.h"
#include "tests/policies/test_models.h"
#include "tests/support/intra_op_threads.h"

namespace grpo::policies::detail {
namespace {

using policies::testing::max_abs_diff;

torch::Tensor few_rows_reference(const torch::Tensor& x, const torch::Tensor& w, const torch::Tensor& b) {
  torch::Tensor y = torch::matmul(x.to(torch::kDouble), w.to(torch::kDouble).t());
  return b.defined() ? y + b.to(torch::kDouble) : y;
}

TEST(FewRowsLinear, MatchesFloat64OverTileAndSplitEdges) {
  if (!cpu_has_avx2_fma()) {
    EXPECT_FALSE(few_rows_linear(torch::ones({2, 8}), torch::ones({4, 8}), {}).defined()) << "no AVX2+FMA: no kernel";
    return;
  }
  torch::manual_seed(3);
  for (int t : {1, 2}) {
    const grpo::testing::IntraOpThreads scoped(t);
    for (int64_t rows : std::vector<int64_t>{1, 2, 3, 4, 5, 64, 127, kFewRowsMax})
      for (int64_t out : {1, 3, 4, 6, 37, 1030})
        for (int64_t in : {8, 24, 512})
          for (bool with_bias : {false, true}) {
            torch::Tensor x = torch::randn({rows, in}), w = torch::randn({out, in});
            torch::Tensor b = with_bias ? torch::randn({out}) : torch::Tensor();
            torch::Tensor y = few_rows_linear(x, w, b);
            ASSERT_TRUE(y.defined());
            ASSERT_EQ(y.sizes(), (std::vector<int64_t>{rows, out}));
            EXPECT_LE(max_abs_diff(y.to(torch::kDouble), few_rows_reference(x, w, b)), 2e-5 * std::sqrt(double(in)))
                << t << " threads, " << rows << " x " << in << " -> " << out << (with_bias ? " with bias" : "");
          }
  }
}

TEST(FewRowsLinear, KeepsLeadingDimsAndReadsStridedInputs) {
  torch::manual_seed(4);
  torch::Tensor w = torch::randn({40, 64});
  torch::Tensor x = torch::randn({5, 1, 64});
  torch::Tensor y = few_rows_linear(x, w, {});
  if (!cpu_has_avx2_fma()) {
    EXPECT_FALSE(y.defined()) << "no AVX2+FMA: no kernel";
    return;
  }
  ASSERT_EQ(y.sizes(), (std::vector<int64_t>{5, 1, 40}));
  EXPECT_LE(max_abs_diff(y.to(torch::kDouble), few_rows_reference(x, w, {})), 1e-4);
  torch::Tensor xt = torch::randn({64, 7}).t();  // rows 1 float apart: copied to contiguous rows first
  EXPECT_LE(max_abs_diff(few_rows_linear(xt, w, {}).to(torch::kDouble), few_rows_reference(xt, w, {})), 1e-4);
  torch::Tensor xs = torch::randn({6, 128}).narrow(1, 0, 64);  // rows 128 floats apart
  EXPECT_LE(max_abs_diff(few_rows_linear(xs, w, {}).to(torch::kDouble), few_rows_reference(xs, w, {})), 1e-4);
}

// The raw-pointer form over blocks in any ranges: the same values as the
// tensor form, and with `accumulate` exactly y + (x W^T + b) (a residual add).
TEST(FewRowsLinear, RangesOfBlocksAndAccumulateGiveTheTensorFormsValues) {
  if (!cpu_has_avx2_fma()) {
    EXPECT_FALSE(few_rows_kernel_runs(8)) << "no AVX2+FMA: no kernel";
    return;
  }
  EXPECT_FALSE(few_rows_kernel_runs(12)) << "inputs not a multiple of 8 wide";
  torch::manual_seed(4);
  for (int64_t rows : {1, 4, 7})
    for (int64_t out : {3, 37}) {
      torch::Tensor x = torch::randn({rows, 24}), w = torch::randn({out, 24}), b = torch::randn({out}), y0 = torch::randn({rows, out});
      const torch::Tensor expected = few_rows_linear(x, w, b);
      torch::Tensor plain = torch::empty({rows, out}), added = y0.clone();
      FewRowsProduct p{x.data_ptr<float>(), w.data_ptr<float>(), b.data_ptr<float>(), plain.data_ptr<float>(), rows, 24, out};
      FewRowsProduct acc = p;
      acc.y = added.data_ptr<float>();
      acc.accumulate = true;
      const int64_t blocks = few_rows_blocks(p);
      EXPECT_EQ(blocks, (out + 3) / 4);
      for (int64_t cut = 0; cut <= blocks; cut += std::max<int64_t>(1, blocks / 3)) {
        plain.fill_(std::nanf(""));
        added.copy_(y0);
        few_rows_run(p, cut, blocks);
        few_rows_run(p, 0, cut);
        few_rows_run(acc, 0, cut);
        few_rows_run(acc, cut, blocks);
        EXPECT_TRUE(torch::equal(plain, expected)) << rows << " rows, " << out << " columns, cut at block " << cut;
        EXPECT_TRUE(torch::equal(added, y0 + expected)) << rows << " rows, " << out << " columns, cut at block " << cut;
      }
    }
}

TEST(FewRowsLinear, LeavesOtherShapesAndTypesToTheGemm) {
  torch::Tensor w = torch::randn({16, 64});
  EXPECT_FALSE(few_rows_linear(torch::randn({kFewRowsMax + 1, 64}), w, {}).defined());
  EXPECT_FALSE(few_rows_linear(torch::randn({4, 12}), torch::randn({16, 12}), {}).defined());  // in % 8 != 0
  EXPECT_FALSE(few_rows_linear(torch::randn({4, 64}, torch::kDouble), w.to(torch::kDouble), {}).defined());
  EXPECT_FALSE(few_rows_linear(torch::randn({4, 64}), torch::randn({64, 16}).t(), {}).defined());  // strided weight
  EXPECT_FALSE(few_rows_linear(torch::randn({0, 64}), w, {}).defined());
  EXPECT_EQ(few_rows_linear(torch::randn({4, 64}), w, {}).defined(), cpu_has_avx2_fma());
}

}  // namespace
}  // namespace grpo::policies::detail
