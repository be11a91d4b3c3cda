#include "serve/openai_response.h"

#include <chrono>
#include <random>

namespace grpo::serve {

namespace {

using nlohmann::json;

std::string random_hex(int digits) {
  static thread_local std::mt19937_64 rng{std::random_device{}()};
  static const char* kHex = "0123456789abcdef";
  std::string out;
  for (int i = 0; i < digits; ++i) out += kHex[rng() % 16];
  return out;
}

json null_or(const std::string& s) { return s.empty() ? json(nullptr) : json(s); }

json base(const ResponseHeader& h, const char* completion_object, const char* chat_object) {
  return {{"id", h.id}, {"object", h.kind == ApiKind::kChat ? chat_object : completion_object}, {"created", h.created}, {"model", h.model}};
}

}  // namespace

ResponseHeader new_response_header(ApiKind kind, const std::string& model) {
  auto now = std::chrono::system_clock::now().time_since_epoch();
  return {kind, (kind == ApiKind::kChat ? "chatcmpl-" : "cmpl-") + random_hex(24),
          std::chrono::duration_cast<std::chrono::seconds>(now).count(), model};
}

json usage_json(const Usage& u) {
  return {{"prompt_tokens", u.prompt_tokens}, {"completion_tokens", u.completion_tokens},
          {"total_tokens", u.prompt_tokens + u.completion_tokens}};
}

json completion_body(const ResponseHeader& h, const std::vector<rollout::GroupResult>& results, const Usage& usage) {
  json body = base(h, "text_completion", "chat.completion");
  json choices = json::array();
  for (const rollout::GroupResult& group : results) {
    for (const rollout::Completion& c : group.completions) {
      json choice = {{"index", choices.size()}, {"logprobs", nullptr}, {"finish_reason", rollout::finish_reason_name(c.finish_reason)}};
      if (h.kind == ApiKind::kChat) choice["message"] = {{"role", "assistant"}, {"content", c.text}};
      else choice["text"] = c.text;
      choices.push_back(std::move(choice));
    }
  }
  body["choices"] = std::move(choices);
  body["usage"] = usage_json(usage);
  return body;
}

json chunk_body(const ResponseHeader& h, int index, const std::string& text, std::optional<rollout::FinishReason> finish) {
  json body = base(h, "text_completion", "chat.completion.chunk");
  json choice = {{"index", index}, {"logprobs", nullptr},
                 {"finish_reason", finish ? json(rollout::finish_reason_name(*finish)) : json(nullptr)}};
  if (h.kind == ApiKind::kChat) choice["delta"] = text.empty() ? json::object() : json{{"content", text}};
  else choice["text"] = text;
  body["choices"] = json::array({std::move(choice)});
  return body;
}

json role_chunk_body(const ResponseHeader& h, int index) {
  json body = base(h, "text_completion", "chat.completion.chunk");
  body["choices"] = json::array({{{"index", index}, {"delta", {{"role", "assistant"}, {"content", ""}}}, {"logprobs", nullptr},
                                  {"finish_reason", nullptr}}});
  return body;
}

json usage_chunk_body(const ResponseHeader& h, const Usage& usage) {
  json body = base(h, "text_completion", "chat.completion.chunk");
  body["choices"] = json::array();
  body["usage"] = usage_json(usage);
  return body;
}

std::string sse_event(const json& body) {
  // Invalid UTF-8 from a random model becomes U+FFFD rather than an exception.
  return "data: " + body.dump(-1, ' ', false, json::error_handler_t::replace) + "\n\n";
}

std::string sse_done() { return "data: [DONE]\n\n"; }

json error_body(const ApiError& e) {
  return {{"error", {{"message", e.what()}, {"type", e.type}, {"param", null_or(e.param)}, {"code", null_or(e.code)}}}};
}

}  // namespace grpo::serve
