// From a parsed request to engine requests with the real Qwen3 tokenizer:
// chat rendering, stop ids, default lengths, per-prompt seeds and the
// context-length refusal.
#include "serve/generation_plan.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/support/test_env.h"

namespace grpo::serve {
namespace {

using ::testing::HasSubstr;

class GenerationPlanTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    tokenizer_ = new policies::Tokenizer(policies::Tokenizer::load(testing::shared_dir() + "/data/tokenizers/qwen3"));
    policies::TemplateSpec spec;
    spec.name = "chatml";
    template_ = new policies::PromptTemplate(spec, *tokenizer_);
  }
  static void TearDownTestSuite() {
    delete template_;
    delete tokenizer_;
  }

  ServedModel model(int64_t max_context = 64) const {
    ServedModel m;
    m.name = "m";
    m.max_context = max_context;
    m.vocab_size = tokenizer_->vocab_size();
    m.stop_ids = {7};
    m.chat_stop_ids = {7, *tokenizer_->token_to_id("<|im_end|>")};
    return m;
  }

  GenerationPlan plan(const std::string& body, ApiKind kind, int64_t max_context = 64, uint64_t seed = 5) const {
    return plan_generation(parse_completion_request(body, kind), seed, model(max_context), *tokenizer_, *template_);
  }

  static policies::Tokenizer* tokenizer_;
  static policies::PromptTemplate* template_;
};
policies::Tokenizer* GenerationPlanTest::tokenizer_ = nullptr;
policies::PromptTemplate* GenerationPlanTest::template_ = nullptr;

std::vector<int64_t> widen(const std::vector<int32_t>& ids) { return {ids.begin(), ids.end()}; }

TEST_F(GenerationPlanTest, ChatIsRenderedWithTheTemplateAndStopsAtEndOfTurn) {
  GenerationPlan p = plan(R"({"model": "m", "messages": [{"role": "system", "content": "Be brief."},
                                                         {"role": "user", "content": "Hi"}], "max_tokens": 5})",
                          ApiKind::kChat);
  ASSERT_EQ(p.groups.size(), 1u);
  auto expected = tokenizer_->encode("<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n");
  EXPECT_EQ(p.groups[0].prompt_ids, widen(expected));
  EXPECT_EQ(p.prompt_tokens, static_cast<int64_t>(expected.size()));
  EXPECT_EQ(p.groups[0].params.stop_token_ids, model().chat_stop_ids);
  EXPECT_EQ(p.groups[0].params.max_new_tokens, 5);
}

TEST_F(GenerationPlanTest, CompletionsOnePlanGroupPerPromptWithItsOwnSeed) {
  GenerationPlan p = plan(R"({"model": "m", "prompt": ["one", [1, 2, 3]], "n": 2, "stop": ["xy", "abcd"], "temperature": 0.3})",
                          ApiKind::kCompletion, 64, /*seed=*/9);
  ASSERT_EQ(p.groups.size(), 2u);
  EXPECT_EQ(p.groups[0].prompt_ids, widen(tokenizer_->encode("one")));
  EXPECT_EQ(p.groups[1].prompt_ids, (std::vector<int64_t>{1, 2, 3}));
  for (size_t g = 0; g < 2; ++g) {
    EXPECT_EQ(p.groups[g].n, 2);
    EXPECT_EQ(p.groups[g].params.seed, rollout::sequence_seed(9, static_cast<int64_t>(g))) << "as grpo generate seeds prompt g";
    EXPECT_EQ(p.groups[g].params.stop_token_ids, (std::vector<int64_t>{7}));
    EXPECT_DOUBLE_EQ(p.groups[g].params.temperature, 0.3);
  }
  EXPECT_EQ(p.longest_stop_bytes, 4u);
  EXPECT_EQ(p.prompt_tokens, static_cast<int64_t>(tokenizer_->encode("one").size()) + 3);
}

TEST_F(GenerationPlanTest, DefaultLengthIsSixteenForCompletionsAndTheRestOfTheContextForChat) {
  EXPECT_EQ(plan(R"({"model": "m", "prompt": "one"})", ApiKind::kCompletion).groups[0].params.max_new_tokens, kDefaultCompletionTokens);
  GenerationPlan chat = plan(R"({"model": "m", "messages": [{"role": "user", "content": "Hi"}]})", ApiKind::kChat);
  EXPECT_EQ(chat.groups[0].params.max_new_tokens, 64 - chat.prompt_tokens);
  // A short context caps the completions default too.
  EXPECT_EQ(plan(R"({"model": "m", "prompt": [1, 2, 3]})", ApiKind::kCompletion, /*max_context=*/10).groups[0].params.max_new_tokens, 7);
}

TEST_F(GenerationPlanTest, OversizePromptIsRefusedWithContextLengthExceeded) {
  try {
    plan(R"({"model": "m", "prompt": [1, 2, 3, 4, 5, 6, 7, 8, 9, 10], "max_tokens": 4})", ApiKind::kCompletion, /*max_context=*/8);
    FAIL() << "accepted";
  } catch (const ApiError& e) {
    EXPECT_EQ(e.status, 400);
    EXPECT_EQ(e.code, "context_length_exceeded");
    EXPECT_EQ(e.param, "prompt");
    EXPECT_THAT(e.what(), HasSubstr("maximum context length is 8 tokens. However, your prompt has 10 tokens"));
  }
  try {
    plan(R"({"model": "m", "prompt": [1, 2, 3], "max_tokens": 6})", ApiKind::kCompletion, /*max_context=*/8);
    FAIL() << "accepted";
  } catch (const ApiError& e) {
    EXPECT_EQ(e.param, "max_tokens");
    EXPECT_THAT(e.what(), HasSubstr("you requested 9 tokens (3 in the prompt, 6 in the completion)"));
  }
}

TEST_F(GenerationPlanTest, TokenIdOutsideTheVocabularyIsRefused) {
  std::string body = R"({"model": "m", "prompt": [1, )" + std::to_string(tokenizer_->vocab_size()) + "]}";
  try {
    plan(body, ApiKind::kCompletion);
    FAIL() << "accepted";
  } catch (const ApiError& e) {
    EXPECT_EQ(e.param, "prompt");
    EXPECT_THAT(e.what(), HasSubstr("outside the vocabulary"));
  }
}

}  // namespace
}  // namespace grpo::serve
