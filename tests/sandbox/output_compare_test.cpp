// Tests of the judge's output comparison (sandbox/output_compare.h).
#include "sandbox/output_compare.h"

#include <gtest/gtest.h>

namespace grpo::sandbox {
namespace {

TEST(OutputCompareTest, TrailingWhitespaceAndEmptyLinesIgnored) {
  EXPECT_TRUE(compare_output("1 2  \r\n3\t\n\n\n", "1 2\n3").match);
}

TEST(OutputCompareTest, MissingLineIsMismatch) {
  CompareResult r = compare_output("1\n", "1\n2\n");
  EXPECT_FALSE(r.match);
  EXPECT_EQ(r.reason, "expected 2 lines, got 1");
}

TEST(OutputCompareTest, ExtraLineIsMismatch) { EXPECT_FALSE(compare_output("1\n2\n", "1\n").match); }

TEST(OutputCompareTest, CaseSensitive) {
  CompareResult r = compare_output("YES\n", "yes\n");
  EXPECT_FALSE(r.match);
  EXPECT_EQ(r.reason, "line 1: expected 'yes', got 'YES'");
}

TEST(OutputCompareTest, LeadingWhitespaceCounts) { EXPECT_FALSE(compare_output(" 1\n", "1\n").match); }

TEST(OutputCompareTest, FloatsNeedTheTestsTolerance) {
  EXPECT_FALSE(compare_output("0.3333333\n", "0.333333333\n").match);
  CompareOptions o;
  o.float_tolerance = 1e-6;
  EXPECT_TRUE(compare_output("0.3333333 2\n", "0.333333333 2\n", o).match);
  EXPECT_FALSE(compare_output("0.334\n", "0.333333333\n", o).match);
  EXPECT_FALSE(compare_output("abc\n", "abd\n", o).match);
}

TEST(OutputCompareTest, TokenModeIgnoresLineBreaks) {
  CompareOptions o;
  o.tokens = true;
  EXPECT_TRUE(compare_output("1 2\n3\n", "1\n2 3", o).match);
  EXPECT_FALSE(compare_output("1 2\n", "1 2 3", o).match);
  EXPECT_FALSE(compare_output("1 2 4", "1 2 3", o).match);
}

}  // namespace
}  // namespace grpo::sandbox
