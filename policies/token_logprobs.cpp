// token_logprobs.cpp: per-token log-probabilities (and entropies) of targets
// under lm_head(hidden)/temperature, computed chunk by chunk. A custom
// autograd function keeps only [N] statistics between forward and backward
// and recomputes each chunk's logits in backward, so neither pass ever holds
// the full [B,T,V] logits or log-softmax.
#include <torch/torch.h>

#include "core/error.h"
#include "policies/causal_lm.h"

namespace grpo::policies {

namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

// Inputs: hidden [N,D], weight [V,D], targets [N] int64. Outputs: logp [N], entropy [N] (fp32).
struct ChunkedTokenScores : public torch::autograd::Function<ChunkedTokenScores> {
  static variable_list forward(AutogradContext* ctx, torch::Tensor hidden, torch::Tensor weight, torch::Tensor targets,
                               double temperature, int64_t chunk) {
    const int64_t N = hidden.size(0);
    torch::Tensor logp = torch::empty({N}, hidden.options().dtype(torch::kFloat));
    torch::Tensor entropy = torch::empty({N}, hidden.options().dtype(torch::kFloat));
    torch::Tensor lse_all = torch::empty({N}, hidden.options().dtype(torch::kFloat));
    for (int64_t s = 0; s < N; s += chunk) {
      int64_t n = std::min(chunk, N - s);
      torch::Tensor z = torch::matmul(hidden.narrow(0, s, n), weight.t()).to(torch::kFloat) / temperature;  // [n,V]
      torch::Tensor lse = z.logsumexp(-1);
      torch::Tensor tz = z.gather(1, targets.narrow(0, s, n).unsqueeze(1)).squeeze(1);
      logp.narrow(0, s, n).copy_(tz - lse);
      torch::Tensor p = (z - lse.unsqueeze(1)).exp();
      entropy.narrow(0, s, n).copy_(lse - (p * z).sum(-1));  // H = lse - E_p[z]
      lse_all.narrow(0, s, n).copy_(lse);
    }
    ctx->save_for_backward({hidden, weight, targets, lse_all, entropy});
    ctx->saved_data["temperature"] = temperature;
    ctx->saved_data["chunk"] = chunk;
    return {logp, entropy};
  }

  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    auto saved = ctx->get_saved_variables();
    torch::Tensor hidden = saved[0], weight = saved[1], targets = saved[2], lse_all = saved[3], entropy = saved[4];
    const double temperature = ctx->saved_data["temperature"].toDouble();
    const int64_t chunk = ctx->saved_data["chunk"].toInt();
    torch::Tensor g_logp = grads[0].defined() ? grads[0].to(torch::kFloat) : torch::Tensor();
    torch::Tensor g_ent = grads[1].defined() ? grads[1].to(torch::kFloat) : torch::Tensor();
    const int64_t N = hidden.size(0);
    torch::Tensor d_hidden = torch::zeros(hidden.sizes(), hidden.options().dtype(torch::kFloat));
    torch::Tensor d_weight = torch::zeros(weight.sizes(), weight.options().dtype(torch::kFloat));
    torch::Tensor w32 = weight.to(torch::kFloat);
    for (int64_t s = 0; s < N; s += chunk) {
      int64_t n = std::min(chunk, N - s);
      torch::Tensor h = hidden.narrow(0, s, n);
      torch::Tensor z = torch::matmul(h, weight.t()).to(torch::kFloat) / temperature;
      torch::Tensor logp_all = z - lse_all.narrow(0, s, n).unsqueeze(1);
      torch::Tensor p = logp_all.exp();
      torch::Tensor dz = torch::zeros_like(z);
      if (g_logp.defined()) {
        // d logp_t / dz = onehot(t) - p
        torch::Tensor g = g_logp.narrow(0, s, n).unsqueeze(1);
        dz = dz - p * g;
        dz.scatter_add_(1, targets.narrow(0, s, n).unsqueeze(1), g);
      }
      if (g_ent.defined()) {
        // dH / dz_j = -p_j (log p_j + H)
        torch::Tensor g = g_ent.narrow(0, s, n).unsqueeze(1);
        dz = dz - g * p * (logp_all + entropy.narrow(0, s, n).unsqueeze(1));
      }
      dz = dz / temperature;
      d_hidden.narrow(0, s, n).copy_(torch::matmul(dz, w32));
      d_weight.add_(torch::matmul(dz.t(), h.to(torch::kFloat)));
    }
    return {d_hidden.to(hidden.scalar_type()), d_weight.to(weight.scalar_type()), torch::Tensor(), torch::Tensor(), torch::Tensor()};
  }
};

}  // namespace

TokenScores CausalLM::token_scores(const torch::Tensor& tokens, const torch::Tensor& targets, const torch::Tensor& mask,
                                   double temperature, int64_t chunk, bool with_entropy) {
  if (temperature <= 0) throw Error("token_logprobs: temperature must be > 0, got " + std::to_string(temperature));
  if (chunk <= 0) throw Error("token_logprobs: chunk must be > 0");
  if (tokens.sizes() != targets.sizes() || tokens.sizes() != mask.sizes())
    throw Error("token_logprobs: tokens, targets and mask must have the same [B,T] shape");
  const int64_t B = tokens.size(0), T = tokens.size(1);
  torch::Tensor h = hidden_states(tokens, positions_from_mask(mask), nullptr, mask);
  const torch::Device dev = h.device();
  torch::Tensor flat = h.reshape({B * T, h.size(-1)});
  auto out = ChunkedTokenScores::apply(flat, lm_head_weight(), targets.reshape({-1}).to(dev, torch::kLong), temperature, chunk);
  torch::Tensor m = mask.to(dev, torch::kFloat);
  TokenScores scores;
  scores.logprobs = out[0].view({B, T}) * m;
  if (with_entropy) scores.entropies = out[1].view({B, T}) * m;
  return scores;
}

torch::Tensor CausalLM::token_logprobs(const torch::Tensor& tokens, const torch::Tensor& targets, const torch::Tensor& mask,
                                       double temperature, int64_t chunk) {
  return token_scores(tokens, targets, mask, temperature, chunk, false).logprobs;
}

}  // namespace grpo::policies
