// pass@k (Chen et al. 2021) against values computed by hand from
// 1 - C(n-c, k) / C(n, k).
#include "train/pass_at_k.h"

#include <gtest/gtest.h>

#include "core/error.h"

namespace grpo::train {
namespace {

TEST(PassAtKTest, MatchesBinomialsByHand) {
  // 1 - C(7,5)/C(10,5) = 1 - 21/252
  EXPECT_NEAR(pass_at_k(10, 3, 5), 1.0 - 21.0 / 252.0, 1e-12);
  // 1 - C(15,10)/C(20,10) = 1 - 3003/184756
  EXPECT_NEAR(pass_at_k(20, 5, 10), 1.0 - 3003.0 / 184756.0, 1e-12);
  // 1 - C(6,2)/C(8,2) = 1 - 15/28
  EXPECT_NEAR(pass_at_k(8, 2, 2), 1.0 - 15.0 / 28.0, 1e-12);
}

TEST(PassAtKTest, PassAtOneIsTheShareCorrect) {
  // C(n-c,1)/C(n,1) = (n-c)/n
  EXPECT_NEAR(pass_at_k(10, 1, 1), 0.1, 1e-12);
  EXPECT_NEAR(pass_at_k(16, 12, 1), 0.75, 1e-12);
  EXPECT_DOUBLE_EQ(pass_at_k(1, 1, 1), 1.0);
  EXPECT_DOUBLE_EQ(pass_at_k(1, 0, 1), 0.0);
}

TEST(PassAtKTest, NoCorrectSampleGivesZero) {
  EXPECT_DOUBLE_EQ(pass_at_k(5, 0, 1), 0.0);
  EXPECT_DOUBLE_EQ(pass_at_k(5, 0, 5), 0.0);
  EXPECT_DOUBLE_EQ(pass_at_k(200, 0, 100), 0.0);
}

TEST(PassAtKTest, FewerWrongThanKGivesOne) {
  // n - c < k: C(n-c, k) = 0, every draw of k holds a correct sample.
  EXPECT_DOUBLE_EQ(pass_at_k(4, 2, 3), 1.0);
  EXPECT_DOUBLE_EQ(pass_at_k(4, 4, 1), 1.0);
  EXPECT_DOUBLE_EQ(pass_at_k(10, 1, 10), 1.0);  // k = n with one correct sample
}

TEST(PassAtKTest, LargeNWhereBinomialsOverflowDoubles) {
  // C(2000, 100) ~ 1e189 is still a double but C(2000, 1000) is not; the ratio
  // C(n-c,k)/C(n,k) = prod_{i<c} (n-k-i)/(n-i) by cancelling factorials.
  double all_wrong = (1900.0 / 2000.0) * (1899.0 / 1999.0) * (1898.0 / 1998.0);
  EXPECT_NEAR(pass_at_k(2000, 3, 100), 1.0 - all_wrong, 1e-12);
  // c = 1: (n-k)/n exactly
  EXPECT_NEAR(pass_at_k(2000, 1, 1000), 0.5, 1e-12);
}

TEST(PassAtKTest, RisesWithK) {
  double previous = 0.0;
  for (int64_t k = 1; k <= 12; ++k) {
    double p = pass_at_k(12, 3, k);
    EXPECT_GE(p, previous) << "k = " << k;
    previous = p;
  }
  EXPECT_DOUBLE_EQ(previous, 1.0);
}

TEST(PassAtKTest, OutOfRangeArgumentsAreErrors) {
  EXPECT_THROW(pass_at_k(4, 1, 5), Error);   // k > n
  EXPECT_THROW(pass_at_k(4, 1, 0), Error);   // k < 1
  EXPECT_THROW(pass_at_k(4, 5, 1), Error);   // c > n
  EXPECT_THROW(pass_at_k(4, -1, 1), Error);  // c < 0
}

}  // namespace
}  // namespace grpo::train
