// log_softmax_rows.h: the per-row passes of the chunked token log-probs
// (token_logprobs.cpp) over one [n, V] logits chunk, CPU fp32, in place.
//
//   if (log_softmax_rows_applies(z)) log_softmax_rows_(z, lse, entropy);          // z <- log softmax(z)
//   ... backward: log_softmax_rows_backward_(logp, targets, g_logp, g_ent, entropy, temperature);  // logp <- dz
//
// Why: ATen's logsumexp, z - lse, exp, mul and their backward each stream the
// whole [n, V] chunk through memory (98 MB for 768 x 32000; about 8 passes per
// micro-batch, a fresh 98 MB buffer for z - max), where one row (128 KB at
// V = 32000) fits in the L2 cache: here each row is read from memory once
// per direction, its max, exp-sum and the subtraction done while it is cached.
// Rows run in parallel, the loops in an AVX2+FMA build where the CPU has them
// (core/cpu_dispatch.h).
//
// Numerics: the same formulas as ATen's (max-subtracted logsumexp; H = lse -
// Σ p·z), sums in 8 partial sums per row. DEVIATION: e^x is core/cpu_exp.h's
// (Cephes' polynomial, within 2 ulp of libm), which gives 0 below ln FLT_MIN
// where ATen's exp gives a subnormal: probabilities under 1.2e-38 read as 0
// (at most 1.2e-38 on a gradient; it also never runs into this CPU's slow
// subnormal arithmetic).
// Equal to the ATen path within 1e-5 (tests/policies/token_logprobs_test.cpp).
#pragma once

#include <torch/torch.h>

namespace grpo::policies::detail {

// z is a contiguous 2-D CPU fp32 tensor: the passes below apply.
bool log_softmax_rows_applies(const torch::Tensor& z);

// In place z [n, V] <- z - lse per row; writes lse [n] and, when `entropy` is
// defined, entropy [n] = lse - Σ softmax(z)·z (both fp32, contiguous or not).
void log_softmax_rows_(torch::Tensor& z, torch::Tensor lse, torch::Tensor entropy);

// In place logp [n, V] <- dz / temperature, dz = g_logp·(onehot(targets) - p)
// - g_ent·p·(logp + entropy), p = exp(logp): the gradient of the rows' target
// log-probs and entropies with respect to the scaled logits. g_logp, g_ent
// [n] fp32 may be undefined (no gradient: 0); entropy is needed with g_ent.
void log_softmax_rows_backward_(torch::Tensor& logp, const torch::Tensor& targets, const torch::Tensor& g_logp,
                                const torch::Tensor& g_ent, const torch::Tensor& entropy, double temperature);

}  // namespace grpo::policies::detail
