// Parity with Hugging Face `tokenizers`: ids, ids with special-token parsing
// off, post-processor tokens, and decode, on >= 200 varied strings; for the
// real Qwen3 and DeepSeek-V3 files and for tokenizers hf_reference.py trains
// itself with the Qwen, DeepSeek-V3, GPT-2 and Llama-3 pre-tokenizers.
#include <gtest/gtest.h>

#include <sstream>

#include "policies/tokenizer.h"
#include "tests/tokenizer/tokenizer_test_support.h"

namespace grpo::policies {
namespace {

using grpo::testing::hf_reference_dir;
using grpo::testing::read_json_lines;
using grpo::testing::real_tokenizer;

std::string show(const std::vector<int32_t>& ids) {
  std::ostringstream s;
  for (int32_t id : ids) s << id << " ";
  return s.str();
}

// Compares every reference line; reports the number of mismatches and the first few.
void expect_parity(const std::string& tokenizer_path, const std::string& name) {
  const std::string dir = hf_reference_dir();
  const Tokenizer tok = Tokenizer::load(tokenizer_path);
  const auto strings = read_json_lines(dir + "/strings.jsonl");
  const auto ref = read_json_lines(dir + "/" + name + ".jsonl");
  ASSERT_GE(strings.size(), 200u);
  ASSERT_GT(ref.size(), strings.size());
  size_t mismatches = 0, decode_cases = 0;
  std::ostringstream report;
  auto note = [&](const std::string& what) {
    if (++mismatches <= 8) report << what << "\n";
  };
  EncodeOptions no_special;
  no_special.parse_special = false;
  EncodeOptions with_post;
  with_post.add_special_tokens = true;
  for (size_t i = 0; i < strings.size(); ++i) {
    const std::string text = strings[i].get<std::string>();
    const auto ids = tok.encode(text);
    const auto want = ref[i]["ids"].get<std::vector<int32_t>>();
    if (ids != want) note("encode " + nlohmann::json(text).dump() + "\n  got  " + show(ids) + "\n  want " + show(want));
    const auto want_ns = ref[i]["ids_nospecial"].get<std::vector<int32_t>>();
    if (tok.encode(text, no_special) != want_ns) note("encode(parse_special=false) " + nlohmann::json(text).dump());
    const auto want_post = ref[i]["ids_with_specials"].get<std::vector<int32_t>>();
    if (tok.encode(text, with_post) != want_post) note("encode(add_special_tokens) " + nlohmann::json(text).dump());
    const std::string decoded = tok.decode(want);
    if (decoded != ref[i]["decoded"].get<std::string>())
      note("decode of " + nlohmann::json(text).dump() + " gave " + nlohmann::json(decoded).dump());
  }
  for (size_t i = strings.size(); i < ref.size(); ++i) {
    const auto ids = ref[i]["decode_ids"].get<std::vector<int32_t>>();
    ++decode_cases;
    if (tok.decode(ids) != ref[i]["text"].get<std::string>()) note("decode " + show(ids));
    if (tok.decode(ids, /*skip_special_tokens=*/true) != ref[i]["text_skip"].get<std::string>())
      note("decode(skip_special) " + show(ids));
  }
  EXPECT_EQ(mismatches, 0u) << name << ": " << mismatches << " mismatches over " << strings.size() << " strings and "
                            << decode_cases << " decode cases; first ones:\n"
                            << report.str();
}

TEST(TokenizerParityTest, Qwen3RealFileMatchesHuggingFace) { expect_parity(real_tokenizer("qwen3"), "qwen3"); }

TEST(TokenizerParityTest, DeepSeekV3RealFileMatchesHuggingFace) {
  expect_parity(real_tokenizer("deepseek_v3"), "deepseek_v3");
}

TEST(TokenizerParityTest, BuiltQwenStyleMatchesHuggingFace) {
  expect_parity(hf_reference_dir() + "/built/qwen_style/tokenizer.json", "qwen_style");
}

TEST(TokenizerParityTest, BuiltDeepSeekStyleMatchesHuggingFace) {
  expect_parity(hf_reference_dir() + "/built/deepseek_style/tokenizer.json", "deepseek_style");
}

TEST(TokenizerParityTest, BuiltGpt2StyleMatchesHuggingFace) {
  expect_parity(hf_reference_dir() + "/built/gpt2_style/tokenizer.json", "gpt2_style");
}

TEST(TokenizerParityTest, BuiltLlama3StyleMatchesHuggingFace) {
  expect_parity(hf_reference_dir() + "/built/llama3_style/tokenizer.json", "llama3_style");
}

}  // namespace
}  // namespace grpo::policies
