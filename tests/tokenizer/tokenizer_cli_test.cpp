// `grpo tokenizer encode|decode|train` through the real binary.
#include <gtest/gtest.h>
#include <gmock/gmock.h>

#include <nlohmann/json.hpp>

#include "tests/support/test_env.h"
#include "tests/tokenizer/tokenizer_test_support.h"

namespace grpo::testing {
namespace {

using ::testing::HasSubstr;

std::string grpo(const std::string& args) { return grpo_binary() + " " + args; }

TEST(TokenizerCliTest, EncodeThenDecodeRoundTrips) {
  const std::string tok = shell_quote(real_tokenizer("qwen3"));
  const CommandResult enc = run_command(grpo("tokenizer encode --tokenizer " + tok), "\"Hello world<|im_end|>\"\n{\"text\": \"2024\"}\n");
  ASSERT_EQ(enc.exit_code, 0) << enc.err;
  EXPECT_EQ(enc.out, "[9707,1879,151645]\n[17,15,17,19]\n");  // ids from HF tokenizers
  const CommandResult dec = run_command(grpo("tokenizer decode --tokenizer " + tok), "[9707,1879,151645]\n{\"ids\": [17,15,17,19]}\n");
  ASSERT_EQ(dec.exit_code, 0) << dec.err;
  EXPECT_EQ(dec.out, "\"Hello world<|im_end|>\"\n\"2024\"\n");
  const CommandResult skip = run_command(grpo("tokenizer decode --skip-special-tokens --tokenizer " + tok), "[9707,1879,151645]\n");
  EXPECT_EQ(skip.out, "\"Hello world\"\n");
}

TEST(TokenizerCliTest, NoSpecialTreatsMarkersAsText) {
  const CommandResult r = run_command(grpo("tokenizer encode --no-special --tokenizer " + shell_quote(real_tokenizer("qwen3"))), "\"<|im_end|>\"\n");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out, "[151645]\n");
  EXPECT_GT(nlohmann::json::parse(r.out).size(), 1u);
}

TEST(TokenizerCliTest, BadInputIsOneLineError) {
  const CommandResult r = run_command(grpo("tokenizer decode --tokenizer " + shell_quote(real_tokenizer("qwen3"))), "[1, \"x\"]\n");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("stdin line 1"));
  const CommandResult missing = run_command(grpo("tokenizer encode --tokenizer /nonexistent/dir"), "\"a\"\n");
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_THAT(missing.err, HasSubstr("/nonexistent/dir"));
  EXPECT_EQ(run_command(grpo("tokenizer encode")).exit_code, 2);  // --tokenizer is required
}

TEST(TokenizerCliTest, TrainWritesALoadableTokenizer) {
  TempDir dir;
  std::string corpus;
  for (int i = 0; i < 50; ++i) corpus += "The answer is " + std::to_string(i) + ". Let me think step by step.\n";
  write_file(dir.file("corpus.txt"), corpus);
  const CommandResult r = run_command(grpo("tokenizer train " + dir.file("corpus.txt") + " --vocab 280 --out " + dir.file("tok")));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.err, HasSubstr("280 tokens"));
  const CommandResult enc = run_command(grpo("tokenizer encode --tokenizer " + dir.file("tok")), "\"Let me think\"\n");
  ASSERT_EQ(enc.exit_code, 0) << enc.err;
  const CommandResult dec = run_command(grpo("tokenizer decode --tokenizer " + dir.file("tok")), enc.out);
  EXPECT_EQ(dec.out, "\"Let me think\"\n");
  EXPECT_EQ(run_command(grpo("tokenizer train " + dir.file("corpus.txt") + " --vocab 10 --out " + dir.file("t2"))).exit_code, 1);
}

}  // namespace
}  // namespace grpo::testing
