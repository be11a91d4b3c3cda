// A malformed tokenizer.json is a clear error naming the file and the key.
#include <gtest/gtest.h>
#include <gmock/gmock.h>

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "policies/tokenizer.h"
#include "tests/support/test_env.h"

namespace grpo::policies {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;

// A small valid tokenizer.json: bytes a, b, space and merges "a b", "Ġ ab".
nlohmann::json valid() {
  nlohmann::json vocab = {{"a", 0}, {"b", 1}, {"Ġ", 2}, {"ab", 3}, {"Ġab", 4}};
  return {{"version", "1.0"},
          {"added_tokens", nlohmann::json::array()},
          {"normalizer", nullptr},
          {"pre_tokenizer", {{"type", "ByteLevel"}, {"add_prefix_space", false}, {"use_regex", true}}},
          {"post_processor", nullptr},
          {"decoder", {{"type", "ByteLevel"}}},
          {"model", {{"type", "BPE"}, {"vocab", vocab}, {"merges", {"a b", "Ġ ab"}}}}};
}

// The error message of loading `j`, or "" when it loads.
std::string load_error(const nlohmann::json& j) {
  try {
    Tokenizer::from_json_text(j.dump(), "bad/tokenizer.json");
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

TEST(TokenizerErrorsTest, ValidMinimalFileLoadsAndEncodes) {
  ASSERT_EQ(load_error(valid()), "");
  const Tokenizer t = Tokenizer::from_json_text(valid().dump());
  EXPECT_EQ(t.encode("ab ab"), (std::vector<int32_t>{3, 4}));
  EXPECT_EQ(t.decode({3, 4}), "ab ab");
}

TEST(TokenizerErrorsTest, MissingModelIsNamed) {
  nlohmann::json j = valid();
  j.erase("model");
  EXPECT_THAT(load_error(j), AllOf(HasSubstr("bad/tokenizer.json"), HasSubstr("model"), HasSubstr("missing")));
}

TEST(TokenizerErrorsTest, UnknownPreTokenizerTypeIsNamed) {
  nlohmann::json j = valid();
  j["pre_tokenizer"] = {{"type", "Sequence"}, {"pretokenizers", {{{"type", "Whitespace"}}}}};
  EXPECT_THAT(load_error(j), AllOf(HasSubstr("bad/tokenizer.json"), HasSubstr("pre_tokenizer.pretokenizers[0].type"),
                                   HasSubstr("Whitespace"), HasSubstr("supported")));
}

TEST(TokenizerErrorsTest, MergeWithoutSpaceIsNamed) {
  nlohmann::json j = valid();
  j["model"]["merges"] = {"a b", "Ġab"};
  EXPECT_THAT(load_error(j), AllOf(HasSubstr("model.merges[1]"), HasSubstr("Ġab")));
}

TEST(TokenizerErrorsTest, MergeOfUnknownTokenIsNamed) {
  nlohmann::json j = valid();
  j["model"]["merges"] = {"a c"};
  EXPECT_THAT(load_error(j), AllOf(HasSubstr("model.merges[0]"), HasSubstr("\"c\" is not in model.vocab")));
  j["model"]["merges"] = nlohmann::json::array({nlohmann::json::array({"b", "a"})});  // "ba" is not in the vocab
  EXPECT_THAT(load_error(j), AllOf(HasSubstr("model.merges[0]"), HasSubstr("merged token \"ba\"")));
  j["model"]["merges"] = nlohmann::json::array({42});
  EXPECT_THAT(load_error(j), HasSubstr("model.merges[0]"));
}

TEST(TokenizerErrorsTest, UnsupportedModelAndNormalizerAreNamed) {
  nlohmann::json j = valid();
  j["model"]["type"] = "WordPiece";
  EXPECT_THAT(load_error(j), AllOf(HasSubstr("model.type"), HasSubstr("WordPiece")));
  j = valid();
  j["normalizer"] = {{"type", "Lowercase"}};
  EXPECT_THAT(load_error(j), AllOf(HasSubstr("normalizer.type"), HasSubstr("Lowercase")));
  j = valid();
  j["decoder"] = {{"type", "WordPiece"}};
  EXPECT_THAT(load_error(j), HasSubstr("decoder"));
}

TEST(TokenizerErrorsTest, RegexRe2CannotRunIsNamed) {
  nlohmann::json j = valid();
  j["pre_tokenizer"] = {{"type", "Sequence"},
                        {"pretokenizers",
                         {{{"type", "Split"}, {"pattern", {{"Regex", "a(?=b)"}}}, {"behavior", "Isolated"}},
                          {{"type", "ByteLevel"}, {"use_regex", false}}}}};
  EXPECT_THAT(load_error(j), AllOf(HasSubstr("pre_tokenizer.pretokenizers[0].pattern.Regex"), HasSubstr("look-around")));
  j["pre_tokenizer"]["pretokenizers"][0]["pattern"]["Regex"] = "(unclosed";
  EXPECT_THAT(load_error(j), AllOf(HasSubstr("pattern.Regex"), HasSubstr("RE2")));
}

TEST(TokenizerErrorsTest, NotJsonAndMissingFilesAreNamed) {
  try {
    Tokenizer::from_json_text("{\"model\": ", "x/tokenizer.json");
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_THAT(e.what(), AllOf(HasSubstr("x/tokenizer.json"), HasSubstr("not valid JSON")));
  }
  grpo::testing::TempDir dir;
  try {
    Tokenizer::load(dir.path());
    FAIL() << "no error";
  } catch (const IoError& e) {
    EXPECT_THAT(e.what(), HasSubstr("no tokenizer.json"));
  }
  EXPECT_THROW(Tokenizer::load(dir.file("absent.json")), IoError);
}

TEST(TokenizerErrorsTest, RequireTokenNamesTheUserAndTheFile) {
  const Tokenizer t = Tokenizer::from_json_text(valid().dump(), "tiny/tokenizer.json");
  try {
    t.require_token("<|im_end|>", "template chatml");
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_THAT(e.what(), AllOf(HasSubstr("template chatml"), HasSubstr("<|im_end|>"), HasSubstr("tiny/tokenizer.json")));
  }
}

}  // namespace
}  // namespace grpo::policies
