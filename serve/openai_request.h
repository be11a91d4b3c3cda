// openai_request.h: the body of an OpenAI /v1/completions or
// /v1/chat/completions request, parsed and checked in one place.
//
//   ApiRequest r = parse_completion_request(json_body, ApiKind::kChat);
//   // r.messages, r.params (temperature, top_p, max_tokens, stop, seed), r.n, r.stream
//
// Every problem throws ApiError carrying the HTTP status, the OpenAI error
// type and the offending field ("param"), so the server answers as OpenAI does:
//   400 {"error": {"message": "temperature: must be in [0, 2], got 3", "type":
//        "invalid_request_error", "param": "temperature", "code": null}}
// Unknown fields are refused (with a "did you mean"), not ignored: a typo in a
// sampling parameter would otherwise silently sample with the default.
#pragma once

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "policies/prompt_template.h"

namespace grpo::serve {

// An error answered to the client: HTTP status plus OpenAI's error fields.
class ApiError : public std::runtime_error {
 public:
  ApiError(int status, std::string type, std::string param, const std::string& message, std::string code = "")
      : std::runtime_error(message), status(status), type(std::move(type)), param(std::move(param)), code(std::move(code)) {}
  int status;         // 400, 401, 404, 500, ...
  std::string type;   // "invalid_request_error", "server_error", ...
  std::string param;  // the offending request field; empty for none
  std::string code;   // e.g. "model_not_found"; empty for null
};

// A 400 naming `param`; the message reads "<param>: <what>".
ApiError invalid_param(const std::string& param, const std::string& what);

enum class ApiKind { kCompletion, kChat };

// One prompt of a /v1/completions request: text, or token ids given as is.
struct ApiPrompt {
  std::string text;
  std::vector<int64_t> ids;  // non-empty when the client sent token ids
};

// The parsed request. Sampling fields mirror rollout::SamplingParams.
struct ApiRequest {
  ApiKind kind = ApiKind::kCompletion;
  std::string model;
  std::vector<ApiPrompt> prompts;              // completions: one or more prompts
  std::vector<policies::ChatTurn> messages;    // chat: the conversation
  // --- sampling (OpenAI names; defaults are OpenAI's)
  double temperature = 1.0;                    // [0, 2]
  double top_p = 1.0;                          // (0, 1]
  int top_k = 0;                               // vLLM extension; 0 = off
  double min_p = 0.0;                          // vLLM extension; 0 = off
  std::optional<int> max_tokens;               // unset: 16 for completions, the rest of the context for chat
  std::vector<std::string> stop;               // at most 4, non-empty
  std::optional<uint64_t> seed;                // unset: a fresh random seed
  int n = 1;                                   // completions per prompt, [1, kMaxN]
  // --- delivery
  bool stream = false;
  bool include_usage = false;                  // stream_options.include_usage
};

// Largest n accepted (OpenAI's limit is 128).
constexpr int kMaxN = 128;

// Parses and validates a request body (JSON text). Throws ApiError.
ApiRequest parse_completion_request(const std::string& body, ApiKind kind);

}  // namespace grpo::serve
