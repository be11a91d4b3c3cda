#include "rollout/messages.h"

#include "core/error.h"

namespace grpo::rollout::msg {

nlohmann::json params_to_json(const SamplingParams& p) {
  return {{"temperature", p.temperature}, {"top_k", p.top_k},
          {"top_p", p.top_p},             {"min_p", p.min_p},
          {"max_new_tokens", p.max_new_tokens}, {"stop_token_ids", p.stop_token_ids},
          {"stop_strings", p.stop_strings},     {"include_stop_string", p.include_stop_string},
          {"seed", p.seed}};
}

SamplingParams params_from_json(const nlohmann::json& j, const std::string& peer) {
  const std::string type = "params";
  SamplingParams p;
  p.temperature = get<double>(j, "temperature", peer, type);
  p.top_k = get<int>(j, "top_k", peer, type);
  p.top_p = get<double>(j, "top_p", peer, type);
  p.min_p = get<double>(j, "min_p", peer, type);
  p.max_new_tokens = get<int>(j, "max_new_tokens", peer, type);
  p.stop_token_ids = get<std::vector<int64_t>>(j, "stop_token_ids", peer, type);
  p.stop_strings = get<std::vector<std::string>>(j, "stop_strings", peer, type);
  p.include_stop_string = get<bool>(j, "include_stop_string", peer, type);
  p.seed = get<uint64_t>(j, "seed", peer, type);
  try {
    p.validate();
  } catch (const ProtocolError&) {
    throw;
  } catch (const Error& e) {
    throw ProtocolError(peer, type, e.what());
  }
  return p;
}

nlohmann::json request_to_json(const GroupRequest& r) {
  return {{"id", r.id}, {"prompt_ids", r.prompt_ids}, {"n", r.n}, {"params", params_to_json(r.params)}};
}

GroupRequest request_from_json(const nlohmann::json& j, const std::string& peer) {
  GroupRequest r;
  r.id = get<int64_t>(j, "id", peer, "request");
  r.prompt_ids = get<std::vector<int64_t>>(j, "prompt_ids", peer, "request");
  r.n = get<int>(j, "n", peer, "request");
  r.params = params_from_json(get<nlohmann::json>(j, "params", peer, "request"), peer);
  if (r.prompt_ids.empty() || r.n < 1 || r.n > 4096) throw ProtocolError(peer, "request", "needs a prompt and 1 <= n <= 4096");
  return r;
}

nlohmann::json result_to_json(const GroupResult& r) {
  nlohmann::json completions = nlohmann::json::array();
  for (const Completion& c : r.completions)
    completions.push_back({{"ids", c.ids}, {"logprobs", c.logprobs}, {"text", c.text}, {"finish_reason", finish_reason_name(c.finish_reason)}});
  return {{"id", r.id}, {"weight_version", r.weight_version}, {"completions", completions}};
}

GroupResult result_from_json(const nlohmann::json& j, const std::string& peer) {
  GroupResult r;
  r.id = get<int64_t>(j, "id", peer, "result");
  r.weight_version = get<int64_t>(j, "weight_version", peer, "result");
  auto completions = get<nlohmann::json>(j, "completions", peer, "result");
  if (!completions.is_array()) throw ProtocolError(peer, "result", "\"completions\" is not a list");
  for (const auto& c : completions) {
    Completion out;
    out.ids = get<std::vector<int64_t>>(c, "ids", peer, "result");
    out.logprobs = get<std::vector<float>>(c, "logprobs", peer, "result");
    out.text = get<std::string>(c, "text", peer, "result");
    out.finish_reason = get<std::string>(c, "finish_reason", peer, "result") == "stop" ? FinishReason::kStop : FinishReason::kLength;
    if (out.ids.size() != out.logprobs.size()) throw ProtocolError(peer, "result", "ids and logprobs differ in length");
    r.completions.push_back(std::move(out));
  }
  return r;
}

}  // namespace grpo::rollout::msg
