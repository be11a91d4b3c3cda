// sampler.h: picks the next token of many sequences at once from their
// logits, each row with its own temperature, filters and random stream.
//
//   std::vector<RowSampling> rows = {{params, seed, /*step=*/0}, ...};
//   SampledTokens s = sample_tokens(logits /*[N, V]*/, rows);
//   s.tokens[i], s.logprobs[i]
//
// The log-prob returned is the one the learner recomputes: log_softmax of
// logits / temperature over the FULL vocabulary, with no top-k/top-p/min-p
// mask (grpo-reference.md: "Training log-probs use logits divided by the
// sampling temperature ... top-p/top-k are not applied in training"). So the
// GRPO ratio is exactly 1 at the first iteration even when filters are on.
// DEVIATION: vLLM returns the log-prob of the raw (T = 1) distribution; ours
// follows the learner instead. For greedy rows (temperature 0) the learner's
// formula is undefined; we return the T = 1 log-prob.
//
// Randomness: the uniform number of row i is a hash of (seed_i, step_i), a
// counter-based stream, so a sequence's samples do not depend on which other
// sequences share the batch or on the order rows are processed. Stateless and
// thread-safe.
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <vector>

#include "rollout/sampling_params.h"

namespace grpo::rollout {

// How one row of the logits is sampled.
struct RowSampling {
  double temperature = 1.0;  // 0 = greedy
  int top_k = 0;
  double top_p = 1.0;
  double min_p = 0.0;
  uint64_t seed = 0;   // the sequence's seed (sequence_seed(group seed, index))
  int64_t step = 0;    // index of the token being sampled within the completion
};

RowSampling row_sampling(const SamplingParams& params, uint64_t seed, int64_t step);

struct SampledTokens {
  torch::Tensor tokens;    // [N] int64, on the CPU
  torch::Tensor logprobs;  // [N] float32, on the CPU: log_softmax(logits / T)[token]
};

// logits: [N, V], any float dtype, any device. rows.size() == N. CUDA logits
// are sampled on their device (device_sampler.h), the same draws.
SampledTokens sample_tokens(const torch::Tensor& logits, const std::vector<RowSampling>& rows);

// The uniform number in [0, 1) used for (seed, step); exposed for tests.
double uniform_for(uint64_t seed, int64_t step);

// The distribution a row samples from after temperature and filters, [V]
// float64 summing to 1 (zero outside the kept set). For tests and debugging.
torch::Tensor filtered_distribution(const torch::Tensor& logits_row, const RowSampling& row);

}  // namespace grpo::rollout
