#include "serve/openai_request.h"

#include <algorithm>
#include <cmath>
#include <cstdint>

#include <nlohmann/json.hpp>

#include "core/did_you_mean.h"

namespace grpo::serve {

namespace {

using nlohmann::json;

// Fields each endpoint reads; anything else is refused.
const std::vector<std::string> kCommonFields = {"model", "temperature", "top_p", "top_k", "min_p", "max_tokens", "stop",
                                                "seed", "n", "stream", "stream_options", "user"};
const std::vector<std::string> kCompletionFields = {"prompt"};
const std::vector<std::string> kChatFields = {"messages", "max_completion_tokens"};
// OpenAI fields grpo serve knows but does not implement: refused by name
// rather than silently ignored, when set to anything but their neutral value.
const std::vector<std::string> kUnsupported = {"logprobs", "top_logprobs", "echo", "best_of", "suffix", "logit_bias",
                                               "presence_penalty", "frequency_penalty", "tools", "tool_choice",
                                               "response_format", "functions", "function_call"};

bool neutral(const json& v) {
  return v.is_null() || v == false || v == 0 || (v.is_object() && v.empty()) || (v.is_array() && v.empty());
}

std::string type_name(const json& v) { return v.type_name(); }

void check_fields(const json& body, ApiKind kind) {
  std::vector<std::string> known = kCommonFields;
  const auto& own = kind == ApiKind::kChat ? kChatFields : kCompletionFields;
  known.insert(known.end(), own.begin(), own.end());
  for (auto it = body.begin(); it != body.end(); ++it) {
    const std::string& key = it.key();
    if (std::find(known.begin(), known.end(), key) != known.end()) continue;
    if (std::find(kUnsupported.begin(), kUnsupported.end(), key) != kUnsupported.end()) {
      if (neutral(it.value())) continue;
      throw invalid_param(key, "not supported by grpo serve; leave it unset");
    }
    std::vector<std::string> all = known;
    all.insert(all.end(), kUnsupported.begin(), kUnsupported.end());
    throw invalid_param(key, "unknown field" + did_you_mean(key, all));
  }
}

double number_in(const json& body, const std::string& key, double lo, double hi, bool lo_open, double fallback) {
  if (!body.contains(key) || body[key].is_null()) return fallback;
  const json& v = body[key];
  if (!v.is_number()) throw invalid_param(key, "must be a number, got " + type_name(v));
  double x = v.get<double>();
  bool ok = std::isfinite(x) && (lo_open ? x > lo : x >= lo) && x <= hi;
  if (!ok) throw invalid_param(key, std::string("must be in ") + (lo_open ? "(" : "[") + json(lo).dump() + ", " +
                                        json(hi).dump() + "], got " + v.dump());
  return x;
}

std::optional<int64_t> integer(const json& body, const std::string& key, int64_t lo, int64_t hi) {
  if (!body.contains(key) || body[key].is_null()) return std::nullopt;
  const json& v = body[key];
  if (!v.is_number_integer()) throw invalid_param(key, "must be an integer, got " + v.dump());
  int64_t x = v.is_number_unsigned() && v.get<uint64_t>() > static_cast<uint64_t>(INT64_MAX) ? INT64_MAX : v.get<int64_t>();
  if (x < lo || x > hi) throw invalid_param(key, "must be in [" + std::to_string(lo) + ", " + std::to_string(hi) + "], got " + v.dump());
  return x;
}

bool boolean(const json& body, const std::string& key) {
  if (!body.contains(key) || body[key].is_null()) return false;
  if (!body[key].is_boolean()) throw invalid_param(key, "must be true or false, got " + body[key].dump());
  return body[key].get<bool>();
}

std::vector<std::string> stop_strings(const json& body) {
  if (!body.contains("stop") || body["stop"].is_null()) return {};
  const json& v = body["stop"];
  std::vector<std::string> out;
  if (v.is_string()) out.push_back(v.get<std::string>());
  else if (v.is_array() && v.size() <= 4) {
    for (const json& s : v) {
      if (!s.is_string()) throw invalid_param("stop", "must be a string or a list of strings, got an element " + s.dump());
      out.push_back(s.get<std::string>());
    }
  } else {
    throw invalid_param("stop", "must be a string or a list of at most 4 strings");
  }
  for (const std::string& s : out)
    if (s.empty()) throw invalid_param("stop", "an empty stop string would stop at once; remove it");
  return out;
}

std::vector<int64_t> token_ids(const json& v) {
  std::vector<int64_t> ids;
  for (const json& t : v) {
    if (!t.is_number_integer() || t.get<int64_t>() < 0) throw invalid_param("prompt", "token ids must be integers >= 0, got " + t.dump());
    ids.push_back(t.get<int64_t>());
  }
  if (ids.empty()) throw invalid_param("prompt", "an empty list of token ids");
  return ids;
}

// OpenAI's four prompt shapes: "text", ["text", ...], [id, ...], [[id, ...], ...].
std::vector<ApiPrompt> prompts(const json& body) {
  if (!body.contains("prompt")) throw invalid_param("prompt", "required");
  const json& v = body["prompt"];
  auto one_text = [](const json& s) {
    if (s.get<std::string>().empty()) throw invalid_param("prompt", "empty prompt");
    return ApiPrompt{s.get<std::string>(), {}};
  };
  if (v.is_string()) return {one_text(v)};
  if (!v.is_array() || v.empty()) throw invalid_param("prompt", "must be a string, a list of strings or a list of token ids");
  std::vector<ApiPrompt> out;
  if (v.front().is_number()) return {ApiPrompt{"", token_ids(v)}};
  for (const json& p : v) {
    if (p.is_string()) out.push_back(one_text(p));
    else if (p.is_array()) out.push_back(ApiPrompt{"", token_ids(p)});
    else throw invalid_param("prompt", "list elements must be strings or lists of token ids, got " + p.dump());
  }
  return out;
}

// "content" is a string or a list of {"type": "text", "text": ...} parts.
std::string message_content(const json& m, size_t i) {
  std::string where = "messages[" + std::to_string(i) + "].content";
  if (!m.contains("content") || m["content"].is_null()) throw invalid_param(where, "required");
  const json& c = m["content"];
  if (c.is_string()) return c.get<std::string>();
  if (!c.is_array()) throw invalid_param(where, "must be a string or a list of text parts");
  std::string text;
  for (const json& part : c) {
    if (!part.is_object() || part.value("type", "") != "text" || !part.contains("text") || !part["text"].is_string())
      throw invalid_param(where, "only {\"type\": \"text\", \"text\": ...} parts are supported, got " + part.dump());
    text += part["text"].get<std::string>();
  }
  return text;
}

std::vector<policies::ChatTurn> messages(const json& body) {
  if (!body.contains("messages")) throw invalid_param("messages", "required");
  const json& v = body["messages"];
  if (!v.is_array() || v.empty()) throw invalid_param("messages", "must be a non-empty list of {role, content}");
  std::vector<policies::ChatTurn> out;
  for (size_t i = 0; i < v.size(); ++i) {
    std::string where = "messages[" + std::to_string(i) + "]";
    if (!v[i].is_object()) throw invalid_param(where, "must be an object {role, content}");
    std::string role = v[i].contains("role") && v[i]["role"].is_string() ? v[i]["role"].get<std::string>() : "";
    if (role == "developer") role = "system";  // OpenAI's newer name for the system role
    if (role != "system" && role != "user" && role != "assistant")
      throw invalid_param(where + ".role", "must be system, user or assistant, got " + v[i].value("role", json()).dump());
    out.push_back({role, message_content(v[i], i)});
  }
  return out;
}

}  // namespace

ApiError invalid_param(const std::string& param, const std::string& what) {
  return ApiError(400, "invalid_request_error", param, param + ": " + what);
}

ApiRequest parse_completion_request(const std::string& text, ApiKind kind) {
  json body = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (body.is_discarded()) throw ApiError(400, "invalid_request_error", "", "the request body is not valid JSON");
  if (!body.is_object()) throw ApiError(400, "invalid_request_error", "", "the request body must be a JSON object");
  check_fields(body, kind);
  ApiRequest r;
  r.kind = kind;
  if (!body.contains("model") || !body["model"].is_string() || body["model"].get<std::string>().empty())
    throw invalid_param("model", "required: a model id from GET /v1/models");
  r.model = body["model"].get<std::string>();
  if (kind == ApiKind::kChat) r.messages = messages(body);
  else r.prompts = prompts(body);
  r.temperature = number_in(body, "temperature", 0, 2, /*lo_open=*/false, 1.0);
  r.top_p = number_in(body, "top_p", 0, 1, /*lo_open=*/true, 1.0);
  r.min_p = number_in(body, "min_p", 0, 0.999, /*lo_open=*/false, 0.0);
  r.top_k = static_cast<int>(integer(body, "top_k", 0, 1 << 30).value_or(0));
  const char* max_key = kind == ApiKind::kChat && body.contains("max_completion_tokens") ? "max_completion_tokens" : "max_tokens";
  if (auto m = integer(body, max_key, 1, 1 << 30)) r.max_tokens = static_cast<int>(*m);
  r.stop = stop_strings(body);
  if (body.contains("seed") && !body["seed"].is_null()) {
    if (!body["seed"].is_number_integer()) throw invalid_param("seed", "must be an integer, got " + body["seed"].dump());
    r.seed = body["seed"].is_number_unsigned() ? body["seed"].get<uint64_t>() : static_cast<uint64_t>(body["seed"].get<int64_t>());
  }
  r.n = static_cast<int>(integer(body, "n", 1, kMaxN).value_or(1));
  r.stream = boolean(body, "stream");
  if (body.contains("stream_options") && !body["stream_options"].is_null()) {
    const json& o = body["stream_options"];
    if (!r.stream) throw invalid_param("stream_options", "only allowed when stream is true");
    if (!o.is_object()) throw invalid_param("stream_options", "must be an object like {\"include_usage\": true}");
    r.include_usage = boolean(o, "include_usage");
  }
  return r;
}

}  // namespace grpo::serve
