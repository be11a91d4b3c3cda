#include "core/did_you_mean.h"

#include <gtest/gtest.h>

namespace grpo {
namespace {

TEST(DidYouMeanTest, EditDistanceCountsSingleEdits) {
  EXPECT_EQ(edit_distance("kitten", "sitting"), 3);
  EXPECT_EQ(edit_distance("", "abc"), 3);
  EXPECT_EQ(edit_distance("lr", "lr"), 0);
  EXPECT_EQ(edit_distance("trian", "train"), 1);  // a swap counts once
}

TEST(DidYouMeanTest, SuggestsCloseNamesOnly) {
  EXPECT_EQ(closest_match("epsilom", {"epsilon", "epsilon_high", "beta"}), "epsilon");
  EXPECT_EQ(closest_match("zzzzzz", {"epsilon", "beta"}), "");
  EXPECT_EQ(did_you_mean("trian", {"train", "score"}), " (did you mean 'train'?)");
}

}  // namespace
}  // namespace grpo
