// sampling_params.h: how one completion is sampled: temperature, the top-k /
// top-p / min-p filters, length, stop conditions and the seed.
//
//   SamplingParams p;
//   p.temperature = 0.7; p.top_p = 0.95; p.max_new_tokens = 128; p.seed = 42;
//   p.stop_strings = {"</answer>"};
//   p.validate();   // throws grpo::Error naming the bad field
//
// Plain value; copy freely. Same seed + same weights + same prompt gives the
// same completion (the random stream is per sequence, not per batch).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace grpo::rollout {

struct SamplingParams {
  // --- the distribution
  // Logits are divided by it before the softmax; 0 means greedy (argmax).
  double temperature = 1.0;
  // Keep only the k most likely tokens; 0 disables.
  int top_k = 0;
  // Keep the smallest set of most likely tokens whose probability reaches top_p; 1 disables.
  double top_p = 1.0;
  // Drop tokens whose probability is below min_p times the top token's; 0 disables.
  double min_p = 0.0;
  // --- when a completion ends
  // Longest completion in tokens; reaching it ends with finish reason "length".
  int max_new_tokens = 256;
  // Token ids that end a completion (e.g. EOS). The stop token is kept in the
  // ids and log-probs (the learner must learn to emit it) but not in the text.
  std::vector<int64_t> stop_token_ids;
  // Strings that end a completion. By default the stop string is cut from the
  // text AND from the ids (see stop_criteria.h for where the cut lands).
  std::vector<std::string> stop_strings;
  // Keep the stop string (and the tokens that spell it) in the completion,
  // e.g. so a format reward can see the closing "</answer>".
  bool include_stop_string = false;
  // --- reproducibility
  // Seed of the completion's random stream; completion j of a group uses
  // sequence_seed(seed, j).
  uint64_t seed = 0;

  // Throws grpo::Error naming the field, the value and the valid range.
  void validate() const;
};

// The seed of completion `index` of a group whose request carries `group_seed`.
uint64_t sequence_seed(uint64_t group_seed, int64_t index);

}  // namespace grpo::rollout
