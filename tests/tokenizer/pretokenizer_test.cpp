// The RE2 pre-tokenizer: the exact `\s+(?!\S)` emulation and Unicode \s
// (model-reference.md §3.4), Split behaviours, and NFC.
#include <gtest/gtest.h>

#include <deque>

#include <nlohmann/json.hpp>

#include "policies/internal/pretokenizer.h"
#include "policies/internal/tokenizer_nfc.h"

namespace grpo::policies::internal {
namespace {

constexpr const char* kQwen =
    R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";

std::vector<std::string> split_with(const nlohmann::json& pre, const std::string& text) {
  const PreTokenizer p = PreTokenizer::from_json(pre, "pre_tokenizer");
  std::vector<std::string_view> pieces;
  std::deque<std::string> arena;
  p.split(text, pieces, arena);
  return {pieces.begin(), pieces.end()};
}

nlohmann::json split(const std::string& pattern, const std::string& behavior = "Isolated", bool invert = false) {
  return {{"type", "Split"}, {"pattern", {{"Regex", pattern}}}, {"behavior", behavior}, {"invert", invert}};
}

using Pieces = std::vector<std::string>;

TEST(PreTokenizerTest, LookaheadEmulationLeavesLastSpaceForNextWord) {
  EXPECT_EQ(split_with(split(kQwen), "a  b"), (Pieces{"a", " ", " b"}));
  EXPECT_EQ(split_with(split(kQwen), " 1"), (Pieces{" ", "1"}));
  EXPECT_EQ(split_with(split(kQwen), "x   "), (Pieces{"x", "   "}));  // run ends the piece: taken whole
  EXPECT_EQ(split_with(split(kQwen), "a\t\t\tb"), (Pieces{"a", "\t\t", "\tb"}));
  EXPECT_EQ(split_with(split(kQwen), "a \n b"), (Pieces{"a", " \n", " b"}));  // newline runs: \s*[\r\n]+ first
}

TEST(PreTokenizerTest, UnicodeWhitespaceCountsAsSpace) {
  // U+3000 IDEOGRAPHIC SPACE is \s for Oniguruma but not for RE2's own \s.
  EXPECT_EQ(split_with(split(kQwen), "a\u3000\u3000b"), (Pieces{"a", "\u3000", "\u3000b"}));
}

TEST(PreTokenizerTest, DeepSeekSequenceIsolatesDigitsAndCjk) {
  const nlohmann::json ds = {{"type", "Sequence"},
                             {"pretokenizers",
                              {split(R"(\p{N}{1,3})"), split("[\u4e00-\u9fa5\u3040-\u309f\u30a0-\u30ff]+"),
                               split("[!\"#$%&'()*+,\\-./:;<=>?@\\[\\\\\\]^_`{|}~][A-Za-z]+|[^\r\n\\p{L}\\p{P}\\p{S}]?[\\p{L}\\p{M}]+| "
                                     "?[\\p{P}\\p{S}]+[\r\n]*|\\s*[\r\n]+|\\s+(?!\\S)|\\s+")}}};
  EXPECT_EQ(split_with(ds, "Hello, 世界!\n\n"), (Pieces{"Hello", ",", " ", "世界", "!\n\n"}));
  EXPECT_EQ(split_with(ds, "12345"), (Pieces{"123", "45"}));
}

TEST(PreTokenizerTest, SplitBehaviours) {
  EXPECT_EQ(split_with(split("-", "Removed"), "a-b--c"), (Pieces{"a", "b", "c"}));
  EXPECT_EQ(split_with(split("-", "MergedWithPrevious"), "a-b--c"), (Pieces{"a-", "b-", "-", "c"}));
  EXPECT_EQ(split_with(split("-", "MergedWithNext"), "a-b--c"), (Pieces{"a", "-b", "-", "-c"}));
  EXPECT_EQ(split_with(split("-", "Contiguous"), "a-b--c"), (Pieces{"a", "-", "b", "--", "c"}));
  EXPECT_EQ(split_with(split("-", "Isolated", /*invert=*/true), "a-b"), (Pieces{"a", "-", "b"}));
}

TEST(PreTokenizerTest, TranslatesOnigurumaClassesForRe2) {
  EXPECT_EQ(onig_to_re2(R"([^\s\p{L}])", "p"), R"([^\t\n\x0B\f\r\x{85}\p{Z}\p{L}])");
  EXPECT_EQ(onig_to_re2(R"(\S\d)", "p"), R"([^\t\n\x0B\f\r\x{85}\p{Z}]\p{Nd})");
  EXPECT_EQ(onig_to_re2(R"([\]\s])", "p"), R"([\]\t\n\x0B\f\r\x{85}\p{Z}])");
}

TEST(NfcTest, ComposesReordersAndLeavesNfcAlone) {
  EXPECT_EQ(nfc("e\u0301"), "\u00e9");
  EXPECT_EQ(nfc("\u212b"), "\u00c5");                      // singleton decomposition
  EXPECT_EQ(nfc("q\u0307\u0323"), "q\u0323\u0307");        // marks reordered by class
  EXPECT_EQ(nfc("\u1100\u1161\u11a8"), "\uac01");          // Hangul LVT
  EXPECT_EQ(nfc("\u0958"), "\u0915\u093c");                // composition exclusion stays decomposed
  EXPECT_EQ(nfc("plain ascii 世界"), "plain ascii 世界");
  EXPECT_TRUE(nfc_quick_check("caf\u00e9 世界"));
  EXPECT_FALSE(nfc_quick_check("cafe\u0301"));
  EXPECT_EQ(nfc("bad \xFF byte e\u0301"), "bad \xFF byte \u00e9");  // invalid bytes pass through
}

}  // namespace
}  // namespace grpo::policies::internal
