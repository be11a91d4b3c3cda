#include "serve/generation_plan.h"

#include <algorithm>

#include "core/error.h"

namespace grpo::serve {

namespace {

std::vector<int64_t> prompt_ids(const ApiPrompt& p, const ServedModel& model, const policies::Tokenizer& tokenizer) {
  if (!p.ids.empty()) {
    for (int64_t id : p.ids)
      if (id >= model.vocab_size)
        throw invalid_param("prompt", "token id " + std::to_string(id) + " is outside the vocabulary (size " +
                                          std::to_string(model.vocab_size) + ")");
    return p.ids;
  }
  auto ids = tokenizer.encode(p.text);
  return {ids.begin(), ids.end()};
}

// The prompt and completion must fit the context; the error reads like OpenAI's.
int check_length(int64_t prompt_len, const ApiRequest& r, const ServedModel& model) {
  const char* what = r.kind == ApiKind::kChat ? "messages" : "prompt";
  if (prompt_len == 0) throw invalid_param(what, "encodes to no tokens");
  if (prompt_len >= model.max_context)
    throw ApiError(400, "invalid_request_error", what,
                   "This model's maximum context length is " + std::to_string(model.max_context) + " tokens. However, your " +
                       what + " has " + std::to_string(prompt_len) + " tokens. Please shorten it.",
                   "context_length_exceeded");
  int64_t fallback = r.kind == ApiKind::kChat ? model.max_context - prompt_len : kDefaultCompletionTokens;
  int64_t max_tokens = r.max_tokens ? *r.max_tokens : std::min(fallback, model.max_context - prompt_len);
  if (prompt_len + max_tokens > model.max_context)
    throw ApiError(400, "invalid_request_error", "max_tokens",
                   "This model's maximum context length is " + std::to_string(model.max_context) + " tokens. However, you requested " +
                       std::to_string(prompt_len + max_tokens) + " tokens (" + std::to_string(prompt_len) + " in the " + what + ", " +
                       std::to_string(max_tokens) + " in the completion). Please reduce the length of the " + what + " or completion.",
                   "context_length_exceeded");
  return static_cast<int>(max_tokens);
}

rollout::SamplingParams sampling(const ApiRequest& r, int max_tokens, const ServedModel& model) {
  rollout::SamplingParams p;
  p.temperature = r.temperature;
  p.top_p = r.top_p;
  p.top_k = r.top_k;
  p.min_p = r.min_p;
  p.max_new_tokens = max_tokens;
  p.stop_strings = r.stop;
  p.stop_token_ids = r.kind == ApiKind::kChat ? model.chat_stop_ids : model.stop_ids;
  return p;
}

}  // namespace

GenerationPlan plan_generation(const ApiRequest& r, uint64_t seed, const ServedModel& model, const policies::Tokenizer& tokenizer,
                               const policies::PromptTemplate& prompt_template) {
  std::vector<std::vector<int64_t>> prompts;
  if (r.kind == ApiKind::kChat) {
    auto ids = tokenizer.encode(prompt_template.render_chat(r.messages, /*add_generation_prompt=*/true));
    prompts.emplace_back(ids.begin(), ids.end());
  } else {
    for (const ApiPrompt& p : r.prompts) prompts.push_back(prompt_ids(p, model, tokenizer));
  }
  GenerationPlan plan;
  for (const std::string& s : r.stop) plan.longest_stop_bytes = std::max(plan.longest_stop_bytes, s.size());
  for (size_t g = 0; g < prompts.size(); ++g) {
    rollout::GroupRequest group;
    group.id = static_cast<int64_t>(g);
    group.n = r.n;
    group.params = sampling(r, check_length(static_cast<int64_t>(prompts[g].size()), r, model), model);
    group.params.seed = rollout::sequence_seed(seed, static_cast<int64_t>(g));
    try {
      group.params.validate();
    } catch (const Error& e) {
      throw ApiError(400, "invalid_request_error", "", e.what());
    }
    plan.prompt_tokens += static_cast<int64_t>(prompts[g].size());
    group.prompt_ids = std::move(prompts[g]);
    plan.groups.push_back(std::move(group));
  }
  return plan;
}

}  // namespace grpo::serve
