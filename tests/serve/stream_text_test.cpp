// Streamed pieces always add up to the engine's final (cut) text, with stop
// strings and with multi-byte characters split across tokens.
#include "serve/stream_text.h"

#include <gtest/gtest.h>

#include <algorithm>

#include "core/error.h"
#include "rollout/stop_criteria.h"

namespace grpo::serve {
namespace {

// Test decoder: token id k is one letter 'a' + k; ids >= 100 are the two
// halves of "é" (0xC3 0xA9), which alone decode to U+FFFD as a tokenizer does.
std::string decode(const std::vector<int64_t>& ids) {
  std::string bytes;
  for (int64_t id : ids) bytes += id == 100 ? "\xC3" : id == 101 ? "\xA9" : std::string(1, static_cast<char>('a' + id));
  std::string out;
  for (size_t i = 0; i < bytes.size(); ++i) {
    if (bytes[i] == '\xC3' && i + 1 < bytes.size() && bytes[i + 1] == '\xA9') out += "\xC3\xA9", ++i;
    else if (bytes[i] == '\xC3' || bytes[i] == '\xA9') out += "\xEF\xBF\xBD";
    else out += bytes[i];
  }
  return out;
}

std::vector<int64_t> ids_of(const std::string& letters) {
  std::vector<int64_t> ids;
  for (char c : letters) ids.push_back(c - 'a');
  return ids;
}

// Streams `ids` through StreamText the way the server does: every token but
// the last is pushed, then the engine's cut text finishes it.
std::vector<std::string> stream(const std::vector<int64_t>& ids, const std::vector<std::string>& stops) {
  rollout::SamplingParams params;
  params.stop_strings = stops;
  params.max_new_tokens = 1000;
  rollout::StopCriteria criteria(params, decode);
  size_t longest = 0;
  for (const auto& s : stops) longest = std::max(longest, s.size());
  StreamText text(decode, longest);
  std::vector<std::string> pieces;
  std::vector<int64_t> so_far;
  for (int64_t id : ids) {
    so_far.push_back(id);
    if (auto reason = criteria.check(so_far)) {
      pieces.push_back(text.finish(criteria.finish(so_far, std::vector<float>(so_far.size()), *reason).text));
      return pieces;
    }
    pieces.push_back(text.push(id));
  }
  pieces.push_back(text.finish(decode(ids)));
  return pieces;
}

std::string join(const std::vector<std::string>& pieces) {
  std::string s;
  for (const auto& p : pieces) s += p;
  return s;
}

TEST(StreamTextTest, WithoutStopStringsEachTokenIsSentAtOnce) {
  auto pieces = stream(ids_of("hello"), {});
  EXPECT_EQ(pieces, (std::vector<std::string>{"h", "e", "l", "l", "o", ""}));
}

TEST(StreamTextTest, StopStringNeverLeaksIntoTheStream) {
  // "ab<END>" style: the stop string "xyz" is cut by the engine; no piece may contain any of it.
  auto pieces = stream(ids_of("helloxyzmore"), {"xyz"});
  EXPECT_EQ(join(pieces), "hello");
  for (const auto& p : pieces) EXPECT_EQ(p.find('x'), std::string::npos) << p;
}

TEST(StreamTextTest, PartialStopStringThatDoesNotCompleteIsSentLater) {
  // "xy" looks like the start of "xyz" but is followed by "a": it must reach the client.
  auto pieces = stream(ids_of("abxyab"), {"xyz"});
  EXPECT_EQ(join(pieces), "abxyab");
  EXPECT_EQ(pieces.front(), "") << "held back while it could still begin a stop string";
}

TEST(StreamTextTest, SplitUtf8CharacterIsHeldUntilComplete) {
  auto pieces = stream({0, 100, 101, 1}, {});
  EXPECT_EQ(pieces, (std::vector<std::string>{"a", "", "\xC3\xA9", "b", ""}));
}

TEST(StreamTextTest, FinishRefusesATextThatContradictsWhatWasSent) {
  StreamText text(decode, 0);
  text.push(0);
  EXPECT_THROW(text.finish("b"), Error);
}

}  // namespace
}  // namespace grpo::serve
