// Prompt templates: R1-Zero text, plain placeholders, and the Qwen ChatML and
// DeepSeek chat layouts, checked against the strings Hugging Face
// transformers' apply_chat_template(add_generation_prompt=True) renders from
// the tokenizer_config.json files in shared/data/tokenizers/.
#include <gtest/gtest.h>
#include <gmock/gmock.h>

#include "core/error.h"
#include "policies/prompt_template.h"
#include "tests/tokenizer/tokenizer_test_support.h"

namespace grpo::policies {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;
using grpo::testing::deepseek_v3_tokenizer;
using grpo::testing::qwen3_tokenizer;

TemplateSpec spec(const std::string& name, const std::string& text = "", const std::string& system = "") {
  TemplateSpec s;
  s.name = name;
  s.text = text;
  s.system = system;
  return s;
}

TEST(PromptTemplateTest, R1ZeroIsThePaperText) {
  const PromptTemplate t(spec("r1_zero"), qwen3_tokenizer());
  const std::string out = t.render({{"prompt", "What is 2+2?"}});
  EXPECT_EQ(out.rfind("A conversation between User and Assistant.", 0), 0u);
  EXPECT_THAT(out, HasSubstr("<think> reasoning process here </think> <answer> answer here </answer>. User: What is 2+2?. Assistant:"));
  EXPECT_EQ(out.substr(out.size() - 10), "Assistant:");
}

TEST(PromptTemplateTest, PlainFillsPlaceholdersAndKeepsOtherBraces) {
  const PromptTemplate t(spec("plain", "Q: {question} ({level})\nPut it in \\boxed{}. {{literal}}\nA:"), qwen3_tokenizer());
  EXPECT_EQ(t.render({{"question", "1+1?"}, {"level", "easy"}}), "Q: 1+1? (easy)\nPut it in \\boxed{}. {literal}\nA:");
}

TEST(PromptTemplateTest, MissingFieldNamesPlaceholderAndFields) {
  const PromptTemplate t(spec("plain", "Q: {question}"), qwen3_tokenizer());
  try {
    t.render({{"prompt", "x"}});
    FAIL() << "no error";
  } catch (const ConfigError& e) {
    EXPECT_THAT(e.what(), AllOf(HasSubstr("template.text"), HasSubstr("{question}"), HasSubstr("fields: prompt")));
  }
}

TEST(PromptTemplateTest, ChatMlMatchesQwen3ChatTemplate) {
  EXPECT_EQ(PromptTemplate(spec("chatml"), qwen3_tokenizer()).render({{"prompt", "What is 2+2?"}}),
            "<|im_start|>user\nWhat is 2+2?<|im_end|>\n<|im_start|>assistant\n");
  EXPECT_EQ(PromptTemplate(spec("chatml", "", "Be brief."), qwen3_tokenizer()).render({{"prompt", "What is 2+2?"}}),
            "<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nWhat is 2+2?<|im_end|>\n<|im_start|>assistant\n");
  const PromptTemplate chat(spec("chatml"), qwen3_tokenizer());
  EXPECT_EQ(chat.render_chat({{"user", "Hi"}, {"assistant", "Hello!"}, {"user", "2+2?"}}, true),
            "<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\nHello!<|im_end|>\n<|im_start|>user\n2+2?<|im_end|>\n<|im_start|>assistant\n");
}

TEST(PromptTemplateTest, DeepSeekMatchesV3ChatTemplate) {
  EXPECT_EQ(PromptTemplate(spec("deepseek"), deepseek_v3_tokenizer()).render({{"prompt", "What is 2+2?"}}),
            "<｜begin▁of▁sentence｜><｜User｜>What is 2+2?<｜Assistant｜>");
  EXPECT_EQ(PromptTemplate(spec("deepseek", "", "Be brief."), deepseek_v3_tokenizer()).render({{"prompt", "What is 2+2?"}}),
            "<｜begin▁of▁sentence｜>Be brief.<｜User｜>What is 2+2?<｜Assistant｜>");
  const PromptTemplate chat(spec("deepseek"), deepseek_v3_tokenizer());
  EXPECT_EQ(chat.render_chat({{"user", "Hi"}, {"assistant", "Hello!"}, {"user", "2+2?"}}, true),
            "<｜begin▁of▁sentence｜><｜User｜>Hi<｜Assistant｜>Hello!<｜end▁of▁sentence｜><｜User｜>2+2?<｜Assistant｜>");
}

TEST(PromptTemplateTest, GenerationPrefixOpensR1ThinkBlock) {
  TemplateSpec s = spec("deepseek");
  s.generation_prefix = "<think>\n";
  EXPECT_EQ(PromptTemplate(s, deepseek_v3_tokenizer()).render({{"prompt", "x"}}), "<｜begin▁of▁sentence｜><｜User｜>x<｜Assistant｜><think>\n");
}

TEST(PromptTemplateTest, EncodeTurnsMarkersIntoSpecialIds) {
  const PromptTemplate t(spec("deepseek"), deepseek_v3_tokenizer());
  const auto ids = t.encode({{"prompt", "Hi"}});
  ASSERT_GE(ids.size(), 3u);
  EXPECT_EQ(ids.front(), 0);       // <｜begin▁of▁sentence｜>
  EXPECT_EQ(ids[1], 128803);       // <｜User｜>
  EXPECT_EQ(ids.back(), 128804);   // <｜Assistant｜>
  EXPECT_EQ(t.stop_ids().front(), 1);
  const PromptTemplate q(spec("chatml"), qwen3_tokenizer());
  EXPECT_EQ(q.encode({{"prompt", "Hi"}}).front(), 151644);
  EXPECT_EQ(q.stop_ids(), (std::vector<int32_t>{151645, 151643}));
}

TEST(PromptTemplateTest, MismatchedTokenizerFailsAtConstructionNamingTheToken) {
  try {
    PromptTemplate(spec("deepseek"), qwen3_tokenizer());
    FAIL() << "no error";
  } catch (const ConfigError& e) {
    EXPECT_THAT(e.what(), AllOf(HasSubstr("template.name"), HasSubstr("<｜begin▁of▁sentence｜>"), HasSubstr("qwen3")));
  }
  EXPECT_THROW(PromptTemplate(spec("chatml"), deepseek_v3_tokenizer()), ConfigError);
  EXPECT_THROW(PromptTemplate(spec("nope"), qwen3_tokenizer()), ConfigError);
  EXPECT_THROW(PromptTemplate(spec("plain"), qwen3_tokenizer()), ConfigError);
}

}  // namespace
}  // namespace grpo::policies
