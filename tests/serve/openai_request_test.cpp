// Parsing and validation of OpenAI request bodies: every accepted shape, and
// every refusal names the field with a 400 as OpenAI's API does.
#include "serve/openai_request.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace grpo::serve {
namespace {

using ::testing::HasSubstr;

ApiError refusal(const std::string& body, ApiKind kind = ApiKind::kCompletion) {
  try {
    parse_completion_request(body, kind);
  } catch (const ApiError& e) {
    return e;
  }
  ADD_FAILURE() << "accepted: " << body;
  return ApiError(0, "", "", "");
}

TEST(OpenAiRequestTest, CompletionWithEverySamplingField) {
  ApiRequest r = parse_completion_request(
      R"({"model": "m", "prompt": "Hi", "temperature": 0.5, "top_p": 0.9, "top_k": 5, "min_p": 0.1, "max_tokens": 7,
          "stop": ["a", "bc"], "seed": 42, "n": 3, "stream": true, "stream_options": {"include_usage": true}, "user": "u"})",
      ApiKind::kCompletion);
  EXPECT_EQ(r.model, "m");
  ASSERT_EQ(r.prompts.size(), 1u);
  EXPECT_EQ(r.prompts[0].text, "Hi");
  EXPECT_DOUBLE_EQ(r.temperature, 0.5);
  EXPECT_DOUBLE_EQ(r.top_p, 0.9);
  EXPECT_EQ(r.top_k, 5);
  EXPECT_DOUBLE_EQ(r.min_p, 0.1);
  EXPECT_EQ(r.max_tokens, 7);
  EXPECT_EQ(r.stop, (std::vector<std::string>{"a", "bc"}));
  EXPECT_EQ(r.seed, 42u);
  EXPECT_EQ(r.n, 3);
  EXPECT_TRUE(r.stream);
  EXPECT_TRUE(r.include_usage);
}

TEST(OpenAiRequestTest, DefaultsAreOpenAis) {
  ApiRequest r = parse_completion_request(R"({"model": "m", "prompt": "Hi"})", ApiKind::kCompletion);
  EXPECT_DOUBLE_EQ(r.temperature, 1.0);
  EXPECT_DOUBLE_EQ(r.top_p, 1.0);
  EXPECT_FALSE(r.max_tokens.has_value());
  EXPECT_FALSE(r.seed.has_value());
  EXPECT_EQ(r.n, 1);
  EXPECT_FALSE(r.stream);
  EXPECT_TRUE(r.stop.empty());
}

TEST(OpenAiRequestTest, PromptShapes) {
  auto texts = parse_completion_request(R"({"model": "m", "prompt": ["a", "b"]})", ApiKind::kCompletion).prompts;
  ASSERT_EQ(texts.size(), 2u);
  EXPECT_EQ(texts[1].text, "b");
  auto ids = parse_completion_request(R"({"model": "m", "prompt": [1, 2, 3]})", ApiKind::kCompletion).prompts;
  ASSERT_EQ(ids.size(), 1u);
  EXPECT_EQ(ids[0].ids, (std::vector<int64_t>{1, 2, 3}));
  auto id_lists = parse_completion_request(R"({"model": "m", "prompt": [[1], [4, 5]]})", ApiKind::kCompletion).prompts;
  ASSERT_EQ(id_lists.size(), 2u);
  EXPECT_EQ(id_lists[1].ids, (std::vector<int64_t>{4, 5}));
  EXPECT_EQ(parse_completion_request(R"({"model": "m", "prompt": "x", "stop": "END"})", ApiKind::kCompletion).stop,
            (std::vector<std::string>{"END"}));
}

TEST(OpenAiRequestTest, ChatMessagesWithTextPartsAndDeveloperRole) {
  ApiRequest r = parse_completion_request(
      R"({"model": "m", "messages": [{"role": "developer", "content": "Be brief."},
          {"role": "user", "content": [{"type": "text", "text": "Hel"}, {"type": "text", "text": "lo"}]}],
          "max_completion_tokens": 9})",
      ApiKind::kChat);
  ASSERT_EQ(r.messages.size(), 2u);
  EXPECT_EQ(r.messages[0].role, "system");
  EXPECT_EQ(r.messages[1].content, "Hello");
  EXPECT_EQ(r.max_tokens, 9);
}

TEST(OpenAiRequestTest, BadValuesNameTheirField) {
  struct Case {
    std::string body;
    std::string param;
    std::string message;
  } cases[] = {
      {R"({"model": "m", "prompt": "x", "temperature": 3})", "temperature", "must be in [0.0, 2.0], got 3"},
      {R"({"model": "m", "prompt": "x", "temperature": "hot"})", "temperature", "must be a number, got string"},
      {R"({"model": "m", "prompt": "x", "top_p": 0})", "top_p", "must be in (0.0, 1.0]"},
      {R"({"model": "m", "prompt": "x", "max_tokens": 0})", "max_tokens", "must be in [1, "},
      {R"({"model": "m", "prompt": "x", "max_tokens": 2.5})", "max_tokens", "must be an integer, got 2.5"},
      {R"({"model": "m", "prompt": "x", "n": 129})", "n", "must be in [1, 128], got 129"},
      {R"({"model": "m", "prompt": "x", "stop": ["a", "b", "c", "d", "e"]})", "stop", "at most 4"},
      {R"({"model": "m", "prompt": "x", "stop": [""]})", "stop", "empty stop string"},
      {R"({"model": "m", "prompt": "x", "seed": "s"})", "seed", "must be an integer"},
      {R"({"model": "m", "prompt": "x", "stream": "yes"})", "stream", "must be true or false"},
      {R"({"model": "m", "prompt": "x", "stream_options": {"include_usage": true}})", "stream_options", "only allowed when stream is true"},
      {R"({"model": "m", "prompt": "x", "temprature": 1})", "temprature", "unknown field (did you mean 'temperature'?)"},
      {R"({"model": "m", "prompt": "x", "logprobs": 3})", "logprobs", "not supported by grpo serve"},
      {R"({"model": "m", "prompt": ""})", "prompt", "empty prompt"},
      {R"({"model": "m", "prompt": []})", "prompt", "must be a string"},
      {R"({"model": "m", "prompt": [1, -2]})", "prompt", "token ids must be integers >= 0, got -2"},
      {R"({"model": "m"})", "prompt", "required"},
      {R"({"prompt": "x"})", "model", "required"},
  };
  for (const Case& c : cases) {
    ApiError e = refusal(c.body);
    EXPECT_EQ(e.status, 400) << c.body;
    EXPECT_EQ(e.type, "invalid_request_error") << c.body;
    EXPECT_EQ(e.param, c.param) << c.body;
    EXPECT_THAT(e.what(), HasSubstr(c.param + ": ")) << c.body;
    EXPECT_THAT(e.what(), HasSubstr(c.message)) << c.body;
  }
}

TEST(OpenAiRequestTest, BadChatMessagesNameTheIndex) {
  ApiError role = refusal(R"({"model": "m", "messages": [{"role": "user", "content": "a"}, {"role": "robot", "content": "b"}]})", ApiKind::kChat);
  EXPECT_EQ(role.param, "messages[1].role");
  EXPECT_THAT(role.what(), HasSubstr("must be system, user or assistant, got \"robot\""));
  ApiError content = refusal(R"({"model": "m", "messages": [{"role": "user"}]})", ApiKind::kChat);
  EXPECT_EQ(content.param, "messages[0].content");
  ApiError image = refusal(R"({"model": "m", "messages": [{"role": "user", "content": [{"type": "image_url"}]}]})", ApiKind::kChat);
  EXPECT_THAT(image.what(), HasSubstr("only {\"type\": \"text\""));
  EXPECT_EQ(refusal(R"({"model": "m", "messages": []})", ApiKind::kChat).param, "messages");
  // A completions-only field is unknown to chat.
  EXPECT_EQ(refusal(R"({"model": "m", "messages": [{"role": "user", "content": "a"}], "prompt": "x"})", ApiKind::kChat).param, "prompt");
}

TEST(OpenAiRequestTest, BodyMustBeAJsonObject) {
  EXPECT_THAT(refusal("{not json").what(), HasSubstr("not valid JSON"));
  EXPECT_THAT(refusal("[1, 2]").what(), HasSubstr("must be a JSON object"));
}

TEST(OpenAiRequestTest, NeutralUnsupportedFieldsAreAccepted) {
  // Clients often send these at their neutral values; refusing them would break them for nothing.
  EXPECT_NO_THROW(parse_completion_request(R"({"model": "m", "prompt": "x", "logprobs": null, "presence_penalty": 0, "echo": false})",
                                           ApiKind::kCompletion));
}

}  // namespace
}  // namespace grpo::serve
