// generation_types.h: the plain records the engine, the workers and the
// orchestrator exchange: a group request (one prompt, G completions) and its
// result. No tensors; copy freely.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "rollout/sampling_params.h"
#include "rollout/stop_criteria.h"

namespace grpo::rollout {

// One prompt to complete `n` times (the G of GRPO) with the same params.
// Completion j samples with sequence_seed(params.seed, j).
struct GroupRequest {
  int64_t id = 0;                    // caller's id, echoed in the result
  std::vector<int64_t> prompt_ids;   // tokenized prompt, non-empty
  int n = 1;                         // completions in the group
  SamplingParams params;
};

// One sampled completion.
struct Completion {
  std::vector<int64_t> ids;       // generated ids (stop token kept, stop string cut; see stop_criteria.h)
  std::vector<float> logprobs;    // per id: log_softmax(logits / T)[id] (sampler.h)
  std::string text;               // decode(ids) without a final stop token
  FinishReason finish_reason = FinishReason::kLength;
};

struct GroupResult {
  int64_t id = 0;
  std::vector<Completion> completions;  // n of them, in index order
  int64_t weight_version = -1;          // weights that produced every completion
};

// One event of a completion while Engine::generate runs, for callers that
// stream (grpo serve): a new token that does not end it, or its final cut.
struct CompletionProgress {
  size_t request = 0;                // index of the request in the generate call
  int index = 0;                     // completion index within the group
  int64_t token = -1;                // the new token (when finished is null)
  const Completion* finished = nullptr;  // set once, when the completion ends
};
// Called on the generating thread, in token order per completion; must not throw.
using ProgressFn = std::function<void(const CompletionProgress&)>;
// Told that group `index` (of the requests of one call) has finished, with its result.
using GroupDoneFn = std::function<void(size_t index, const GroupResult& result)>;

// Optional observers of one Engine::generate call; both run on the generating
// thread and must not throw.
struct GenerateHooks {
  ProgressFn on_progress;     // every kept token and finished completion (streaming: grpo serve)
  GroupDoneFn on_group_done;  // a group's result as soon as it ends (rewards overlap decoding)
};

}  // namespace grpo::rollout
