// stop_criteria.h: decides when a completion ends (stop token, stop string,
// length) and where the ids and the text are cut so that they agree.
//
//   StopCriteria stop(params, decode);          // decode: ids -> text
//   for each new token: if (auto r = stop.check(ids)) { ... finish reason *r ... }
//   Completion c = stop.finish(ids, logprobs, reason);   // cut ids, logprobs, text
//
// Rules (text always equals decode(kept ids), minus a final stop token):
//  - a stop token id ends the completion; it stays in ids/log-probs (the
//    learner must learn to emit EOS) and is left out of the text;
//  - a stop string ends it at its first occurrence. Without
//    include_stop_string, ids are cut to the longest prefix whose text ends at
//    or before the stop string starts; a token that straddles the start is
//    dropped with it (so its text before the stop string is lost: the price of
//    text == decode(ids)). With include_stop_string, ids end with the token
//    that completes the stop string;
//  - otherwise max_new_tokens ends it with reason "length".
// Not thread-safe; one per sequence (cheap).
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "rollout/sampling_params.h"

namespace grpo::rollout {

enum class FinishReason { kStop, kLength };
const char* finish_reason_name(FinishReason reason);  // "stop" or "length"

// Turns token ids into text (the tokenizer's decode, without special tokens).
using DecodeFn = std::function<std::string(const std::vector<int64_t>&)>;

// A finished completion, cut consistently.
struct CutCompletion {
  std::vector<int64_t> ids;
  std::vector<float> logprobs;  // one per id
  std::string text;
  FinishReason finish_reason = FinishReason::kLength;
};

class StopCriteria {
 public:
  // decode may be empty when params has no stop strings (text is then empty too).
  StopCriteria(const SamplingParams& params, DecodeFn decode);

  // Called after each appended token with all completion ids so far; returns a
  // reason when the completion must end now.
  std::optional<FinishReason> check(const std::vector<int64_t>& ids) const;

  // Cuts ids/logprobs/text of an ended completion following the rules above.
  CutCompletion finish(std::vector<int64_t> ids, std::vector<float> logprobs, FinishReason reason) const;

 private:
  bool is_stop_token(int64_t id) const;
  // Earliest (position, length) of a stop string in text, if any.
  std::optional<std::pair<size_t, size_t>> find_stop_string(const std::string& text) const;
  std::string decode(const std::vector<int64_t>& ids) const;

  const SamplingParams& params_;
  DecodeFn decode_;
  size_t longest_stop_ = 0;
};

}  // namespace grpo::rollout
