// openai_response.h: the JSON bodies grpo serve answers with, in OpenAI's
// shapes: a whole completion (text or chat), a server-sent-events chunk, the
// usage counts and an error.
//
//   ResponseHeader h = new_response_header(ApiKind::kChat, "tiny");
//   json body = completion_body(h, results, n, usage);
//   std::string event = sse_event(chunk_body(h, /*choice=*/0, "Hel", std::nullopt));
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "rollout/generation_types.h"
#include "serve/openai_request.h"

namespace grpo::serve {

// What every body or chunk of one response repeats.
struct ResponseHeader {
  ApiKind kind = ApiKind::kCompletion;
  std::string id;        // "cmpl-<hex>" or "chatcmpl-<hex>"
  int64_t created = 0;   // Unix seconds
  std::string model;
};

// Token counts of a response; prompts count once, however large n is.
struct Usage {
  int64_t prompt_tokens = 0;
  int64_t completion_tokens = 0;
};

ResponseHeader new_response_header(ApiKind kind, const std::string& model);
nlohmann::json usage_json(const Usage& usage);

// A finished response: choice g * n + j is completion j of prompt g.
nlohmann::json completion_body(const ResponseHeader& header, const std::vector<rollout::GroupResult>& results, const Usage& usage);

// One streamed chunk of choice `index`: a text piece and/or its finish reason.
nlohmann::json chunk_body(const ResponseHeader& header, int index, const std::string& text,
                          std::optional<rollout::FinishReason> finish);
// The first chat chunk of a choice: {"delta": {"role": "assistant", "content": ""}}.
nlohmann::json role_chunk_body(const ResponseHeader& header, int index);
// The last chunk when stream_options.include_usage: no choices, the usage.
nlohmann::json usage_chunk_body(const ResponseHeader& header, const Usage& usage);

// "data: <json>\n\n", and the stream's end "data: [DONE]\n\n".
std::string sse_event(const nlohmann::json& body);
std::string sse_done();

// {"error": {"message", "type", "param", "code"}}.
nlohmann::json error_body(const ApiError& error);

}  // namespace grpo::serve
