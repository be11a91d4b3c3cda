// The BPE trainer writes a tokenizer.json that our Tokenizer and Hugging Face
// `tokenizers` both load and encode identically; training is deterministic.
#include <gtest/gtest.h>
#include <gmock/gmock.h>

#include <sstream>

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "policies/bpe_trainer.h"
#include "policies/tokenizer.h"
#include "tests/support/test_env.h"
#include "tests/tokenizer/tokenizer_test_support.h"

namespace grpo::policies {
namespace {

using grpo::testing::TempDir;

std::vector<std::string> corpus() {
  std::vector<std::string> texts;
  const char* lines[] = {"The quick brown fox jumps over the lazy dog.\n", "What is 12 + 30? The answer is 42.\n",
                         "<think>\nLet me add the numbers: 12 + 30 = 42.\n</think>\n<answer>42</answer>\n",
                         "Les élèves étudient le théorème de Pythagore.\n", "数学很有趣。\n", "def add(a, b):\n    return a + b\n"};
  for (int i = 0; i < 40; ++i)
    for (const char* l : lines) texts.push_back(std::string(l) + std::to_string(i % 7) + " ");
  return texts;
}

TEST(BpeTrainerTest, TrainsRequestedVocabularyThatRoundTrips) {
  BpeTrainerOptions opt;
  opt.vocab_size = 330;  // the corpus supports ~120 merges; stop short of that
  const Tokenizer tok = Tokenizer::from_json_text(train_bpe(corpus(), opt));
  EXPECT_EQ(tok.vocab_size(), 330);
  EXPECT_EQ(*tok.token_to_id("<|endoftext|>"), 0);
  EXPECT_TRUE(tok.is_special(2));
  EXPECT_EQ(*tok.token_to_id("</answer>"), 329);
  const std::string text = "The answer is <answer>42</answer>, naïve 数学 ✓<|im_end|>";
  const auto ids = tok.encode(text);
  EXPECT_EQ(tok.decode(ids), text);
  EXPECT_LT(tok.encode("The answer is").size(), 8u);  // merges learnt: fewer ids than its 13 bytes
  EXPECT_EQ(std::count(ids.begin(), ids.end(), *tok.token_to_id("<answer>")), 1);
}

TEST(BpeTrainerTest, IsDeterministic) {
  BpeTrainerOptions opt;
  opt.vocab_size = 350;
  EXPECT_EQ(train_bpe(corpus(), opt), train_bpe(corpus(), opt));
}

TEST(BpeTrainerTest, TooSmallVocabularyIsAClearError) {
  BpeTrainerOptions opt;
  opt.vocab_size = 100;
  try {
    train_bpe(corpus(), opt);
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_THAT(e.what(), ::testing::HasSubstr("--vocab 100 is too small"));
  }
}

TEST(BpeTrainerTest, HuggingFaceLoadsItAndEncodesIdentically) {
  TempDir dir;
  BpeTrainerOptions opt;
  opt.vocab_size = 500;
  write_tokenizer_dir(dir.path(), train_bpe(corpus(), opt), opt);
  const Tokenizer tok = Tokenizer::load(dir.path());
  const auto strings = grpo::testing::read_json_lines(grpo::testing::hf_reference_dir() + "/strings.jsonl");
  std::ostringstream input;
  for (const auto& s : strings) input << s.dump() << "\n";
  const auto r = grpo::testing::run_command(grpo::testing::reference_python() + " " +
                                                grpo::testing::shell_quote(grpo::testing::source_dir() + "/tests/tokenizer/hf_encode.py") +
                                                " " + grpo::testing::shell_quote(dir.file("tokenizer.json")),
                                            input.str());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::istringstream out(r.out);
  std::string line;
  size_t i = 0, mismatches = 0;
  while (std::getline(out, line)) {
    ASSERT_LT(i, strings.size());
    if (tok.encode(strings[i].get<std::string>()) != nlohmann::json::parse(line).get<std::vector<int32_t>>()) ++mismatches;
    ++i;
  }
  EXPECT_EQ(i, strings.size());
  EXPECT_EQ(mismatches, 0u);
  EXPECT_TRUE(nlohmann::json::parse(grpo::testing::read_file(dir.file("tokenizer_config.json")))["eos_token"] == "<|im_end|>");
}

}  // namespace
}  // namespace grpo::policies
