#include "rollout/stop_criteria.h"

#include <gtest/gtest.h>

#include <map>

#include "core/error.h"

namespace grpo::rollout {
namespace {

// A toy vocabulary where some tokens straddle the stop string "</a>".
const std::map<int64_t, std::string> kPieces = {{0, "a"}, {1, "b"}, {2, "</"}, {3, "a>"}, {4, "x</"}, {5, "a>y"}, {9, ""}};

std::string toy_decode(const std::vector<int64_t>& ids) {
  std::string s;
  for (int64_t id : ids) s += id == 9 ? "" : kPieces.at(id);
  return s;
}

// Feeds ids one by one like the engine; returns the cut completion.
CutCompletion run(const SamplingParams& p, const std::vector<int64_t>& stream) {
  StopCriteria stop(p, toy_decode);
  std::vector<int64_t> ids;
  std::vector<float> lps;
  for (int64_t id : stream) {
    ids.push_back(id);
    lps.push_back(-0.1f * static_cast<float>(ids.size()));
    if (auto r = stop.check(ids)) return stop.finish(ids, lps, *r);
  }
  ADD_FAILURE() << "stream ended without a stop";
  return {};
}

TEST(StopCriteriaTest, LengthEndsAtMaxNewTokens) {
  SamplingParams p;
  p.max_new_tokens = 3;
  auto c = run(p, {0, 1, 0, 1, 1});
  EXPECT_EQ(c.finish_reason, FinishReason::kLength);
  EXPECT_EQ(c.ids, (std::vector<int64_t>{0, 1, 0}));
  EXPECT_EQ(c.text, "aba");
  EXPECT_EQ(c.logprobs.size(), 3u);
}

TEST(StopCriteriaTest, StopTokenKeptInIdsNotInText) {
  SamplingParams p;
  p.stop_token_ids = {9};
  auto c = run(p, {0, 1, 9, 0});
  EXPECT_EQ(c.finish_reason, FinishReason::kStop);
  EXPECT_EQ(c.ids, (std::vector<int64_t>{0, 1, 9}));
  EXPECT_EQ(c.logprobs.size(), 3u);
  EXPECT_EQ(c.text, "ab");
}

TEST(StopCriteriaTest, StopStringCutFromTextAndIds) {
  SamplingParams p;
  p.stop_strings = {"</a>"};
  auto c = run(p, {0, 1, 2, 3, 0, 0});
  EXPECT_EQ(c.finish_reason, FinishReason::kStop);
  EXPECT_EQ(c.ids, (std::vector<int64_t>{0, 1}));
  EXPECT_EQ(c.text, "ab");
  EXPECT_EQ(c.logprobs, (std::vector<float>{-0.1f, -0.2f}));
  EXPECT_EQ(c.text, toy_decode(c.ids));
}

TEST(StopCriteriaTest, StraddlingTokenIsDroppedSoTextMatchesIds) {
  // "a" "x</" "a>y": the stop string starts inside token 4; cutting it drops its "x".
  SamplingParams p;
  p.stop_strings = {"</a>"};
  auto c = run(p, {0, 4, 5, 0});
  EXPECT_EQ(c.ids, (std::vector<int64_t>{0}));
  EXPECT_EQ(c.text, "a");
}

TEST(StopCriteriaTest, IncludeStopStringKeepsTokensThatSpellIt) {
  SamplingParams p;
  p.stop_strings = {"</a>"};
  p.include_stop_string = true;
  auto c = run(p, {0, 1, 2, 3, 0});
  EXPECT_EQ(c.ids, (std::vector<int64_t>{0, 1, 2, 3}));
  EXPECT_EQ(c.text, "ab</a>");
  EXPECT_EQ(c.text, toy_decode(c.ids));
}

TEST(StopCriteriaTest, EarliestOfSeveralStopStringsWins) {
  SamplingParams p;
  p.stop_strings = {"ba", "</a>"};
  auto c = run(p, {0, 2, 3, 1, 0});
  EXPECT_EQ(c.text, "a");
  EXPECT_EQ(c.ids, (std::vector<int64_t>{0}));
}

TEST(StopCriteriaTest, StopStringsNeedADecoder) {
  SamplingParams p;
  p.stop_strings = {"x"};
  EXPECT_THROW(StopCriteria(p, nullptr), Error);
}

}  // namespace
}  // namespace grpo::rollout
