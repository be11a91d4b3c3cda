// device_sampler.h: sample_tokens() (sampler.h) computed entirely with tensor
// operations on the logits' device. For logits on a GPU, a decode step then
// copies N tokens and N log-probs to the host (the one synchronisation a step
// needs, to check stops) instead of the [N, V] log-probabilities the CPU path
// walks row by row. sample_tokens() uses it for CUDA logits; on CPU logits it
// is the CPU twin the tests compare, draw for draw, with the CPU path.
//
//   SampledTokens s = sample_tokens_on_device(logits /*[N, V] on cuda:0*/, rows);
//
// Same contract as sample_tokens: the same counter-based uniforms (uniform_for),
// the same keep rule, the same inverse-CDF draw in float64, the same returned
// log-probs (log_softmax(logits / T) of the full vocabulary). It holds [N, V]
// float64 tensors on the device (the CPU path avoids them). Stateless, thread-safe.
#pragma once

#include <torch/torch.h>

#include <vector>

#include "rollout/sampler.h"

namespace grpo::rollout {

// logits: [N, V], any float dtype, any device; rows.size() == N. Results on the CPU.
SampledTokens sample_tokens_on_device(const torch::Tensor& logits, const std::vector<RowSampling>& rows);

}  // namespace grpo::rollout
