// generation_plan.h: turns a parsed OpenAI request into the engine's group
// requests: renders chat messages with the prompt template, tokenizes,
// checks the context length and fills the sampling parameters.
//
//   GenerationPlan plan = plan_generation(request, served, tokenizer, prompt_template);
//   auto job = std::make_shared<Job>(plan.groups, request.stream);
//
// Throws ApiError (400) for a prompt that does not fit: OpenAI's
// "context_length_exceeded", naming the prompt and completion token counts.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "policies/prompt_template.h"
#include "policies/tokenizer.h"
#include "rollout/generation_types.h"
#include "serve/openai_request.h"

namespace grpo::serve {

// What the server knows about the model it serves.
struct ServedModel {
  std::string name;                     // the id clients pass as "model"
  int64_t max_context = 4096;           // prompt + completion tokens per sequence
  int64_t vocab_size = 0;               // token ids in a prompt must be below it
  std::vector<int64_t> stop_ids;        // end a completion (the model's EOS)
  std::vector<int64_t> chat_stop_ids;   // end a chat reply (template end-of-turn + EOS)
};

// Default completion length of /v1/completions when max_tokens is unset (OpenAI's).
constexpr int kDefaultCompletionTokens = 16;

struct GenerationPlan {
  std::vector<rollout::GroupRequest> groups;  // one per prompt, n completions each
  int64_t prompt_tokens = 0;                  // over all prompts, for usage
  size_t longest_stop_bytes = 0;              // for StreamText's hold-back
};

// seed: the request's seed (the caller draws one when the client sent none);
// group g samples with rollout::sequence_seed(seed, g), as `grpo generate` does.
GenerationPlan plan_generation(const ApiRequest& request, uint64_t seed, const ServedModel& model,
                               const policies::Tokenizer& tokenizer, const policies::PromptTemplate& prompt_template);

}  // namespace grpo::serve
