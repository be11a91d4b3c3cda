// unfiltered_sampler.h: sample_tokens' CPU path when no row filters (no
// top-k, top-p or min-p): each row's temperature-scaled log-softmax and its
// draw in two passes over its logits, with no [N, V] log-prob or weight
// tensor.
//
// Why: at batch 64 and a 32000-token vocabulary the general path (ATen's
// log_softmax, then per row exp and a float64 running sum over the whole
// vocabulary) took ~10% of a decode step of a 50M model.
//
// The draw is the general path's inverse CDF (the first token whose
// cumulative weight exceeds u · total, u = uniform_for(seed, step)) summed
// in two levels: float32 sums of blocks of 64 weights (fixed order), a
// float64 running sum over the blocks, then a float64 running sum inside the
// block that crosses. The same distribution; a draw can differ from the
// general path's only where the target falls within float rounding of a
// cumulative boundary. Log-probs: y_t - max - log Σ exp(y - max) in float64
// from float32 exps, within 1e-6 of ATen's log_softmax. Plain loops, run in
// an AVX2+FMA build where the CPU has one (core/cpu_dispatch.h).
#pragma once

#include <torch/torch.h>

#include <optional>
#include <vector>

#include "rollout/sampler.h"

namespace grpo::rollout::detail {

// logits: [N, V] float32 CPU. Rows with temperature 0 take the first argmax;
// the others draw from softmax(logits / T) with uniforms[i]. Filters of rows
// are ignored: the caller sends only rows without them. nullopt when a row
// has a NaN or +inf logit or only -inf ones: the general path then decides
// what such a batch gives, as before.
std::optional<SampledTokens> sample_unfiltered_rows(const torch::Tensor& logits, const std::vector<RowSampling>& rows,
                                     const std::vector<double>& uniforms);

}  // namespace grpo::rollout::detail
