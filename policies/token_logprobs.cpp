// token_logprobs.cpp: per-token log-probabilities (and entropies) of targets
// under lm_head(hidden)/temperature, computed chunk by chunk. A custom
// autograd function keeps [N] statistics and the FIRST chunk's log-softmax
// between forward and backward and recomputes every other chunk's logits in
// backward, so neither pass ever holds the full [B,T,V] logits or log-softmax:
// at most one kept chunk plus the working ones (each bounded by `chunk` rows).
// A micro-batch whose scored positions fit in one chunk (the usual case)
// therefore never recomputes its lm-head product in backward. On the CPU in
// fp32 a chunk's log-softmax and its gradient are log_softmax_rows.h's row passes.
#include <torch/torch.h>

#include "core/error.h"
#include "policies/causal_lm.h"
#include "policies/log_softmax_rows.h"

namespace grpo::policies {

namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

// Inputs: hidden [N,D], weight [V,D], targets [N] int64. Outputs: logp [N], entropy [N] (fp32; zeros
// unless with_entropy). Each chunk's [n,V] logits are one buffer, transformed in place (the
// same operations as the out-of-place formulas in the comments, minus the copies).
struct ChunkedTokenScores : public torch::autograd::Function<ChunkedTokenScores> {
  // keep_first: hold the first chunk's log-softmax for backward (only when a backward will follow:
  // under no_grad the function's context dies with the call, and the copy would only cost memory).
  static variable_list forward(AutogradContext* ctx, torch::Tensor hidden, torch::Tensor weight, torch::Tensor targets,
                               double temperature, int64_t chunk, bool with_entropy, bool keep_first) {
    const int64_t N = hidden.size(0);
    torch::Tensor logp = torch::empty({N}, hidden.options().dtype(torch::kFloat));
    torch::Tensor entropy = torch::zeros({N}, hidden.options().dtype(torch::kFloat));
    torch::Tensor lse_all = torch::empty({N}, hidden.options().dtype(torch::kFloat));
    for (int64_t s = 0; s < N; s += chunk) {
      int64_t n = std::min(chunk, N - s);
      torch::Tensor z = scaled_logits(hidden.narrow(0, s, n), weight, temperature);  // [n,V]
      if (detail::log_softmax_rows_applies(z)) {  // CPU fp32: one pass per row (log_softmax_rows.h), z becomes z - lse
        detail::log_softmax_rows_(z, lse_all.narrow(0, s, n), with_entropy ? entropy.narrow(0, s, n) : torch::Tensor());
        logp.narrow(0, s, n).copy_(z.gather(1, targets.narrow(0, s, n).unsqueeze(1)).squeeze(1));
        if (s == 0 && keep_first) ctx->saved_data["kept_logp"] = z;
        continue;
      }
      torch::Tensor lse = z.logsumexp(-1);
      torch::Tensor tz = z.gather(1, targets.narrow(0, s, n).unsqueeze(1)).squeeze(1);
      logp.narrow(0, s, n).copy_(tz - lse);
      if (with_entropy) {
        torch::Tensor pz = (z - lse.unsqueeze(1)).exp_().mul_(z);  // p * z
        entropy.narrow(0, s, n).copy_(lse - pz.sum(-1));          // H = lse - E_p[z]
      }
      lse_all.narrow(0, s, n).copy_(lse);
      // z - lse, the same operation backward's recomputation does: the kept values are the recomputed ones.
      if (s == 0 && keep_first) ctx->saved_data["kept_logp"] = z.sub_(lse.unsqueeze(1));
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
    torch::Tensor d_hidden = torch::empty(hidden.sizes(), hidden.options().dtype(torch::kFloat));  // every row written
    // Written by the first chunk's product; zeros only when no row is scored.
    torch::Tensor d_weight = N > 0 ? torch::empty(weight.sizes(), weight.options().dtype(torch::kFloat))
                                   : torch::zeros(weight.sizes(), weight.options().dtype(torch::kFloat));
    torch::Tensor w32 = weight.to(torch::kFloat);
    for (int64_t s = 0; s < N; s += chunk) {
      int64_t n = std::min(chunk, N - s);
      torch::Tensor h = hidden.narrow(0, s, n);
      torch::Tensor logp_all = s == 0 ? take_kept(ctx) : torch::Tensor();
      if (!logp_all.defined())
        logp_all = scaled_logits(h, weight, temperature).sub_(lse_all.narrow(0, s, n).unsqueeze(1));  // z - lse
      torch::Tensor dz = dz_in_place(logp_all, targets.narrow(0, s, n), g_logp, g_ent, entropy, s, n, temperature);
      torch::Tensor d_rows = d_hidden.narrow(0, s, n);  // contiguous rows: the product is written in place
      torch::mm_out(d_rows, dz, w32);
      // Accumulated in place by the product itself: no [V,D] temporary per chunk.
      if (s == 0) torch::mm_out(d_weight, dz.t(), h.to(torch::kFloat));
      else d_weight.addmm_(dz.t(), h.to(torch::kFloat));
    }
    return {d_hidden.to(hidden.scalar_type()), d_weight.to(weight.scalar_type()), torch::Tensor(), torch::Tensor(),
            torch::Tensor(), torch::Tensor(), torch::Tensor()};
  }

 private:
  // The chunk's log-softmax logp_all [n,V] (rows s.. of the batch, their targets) turned into dz in place:
  // dz = [-(p * g_logp) + onehot(t) * g_logp] - g_ent * p * (log p + H), divided by the temperature;
  // d logp_t / dz = onehot(t) - p;  dH / dz_j = -p_j (log p_j + H).
  static torch::Tensor dz_in_place(torch::Tensor& logp_all, const torch::Tensor& targets, const torch::Tensor& g_logp,
                                   const torch::Tensor& g_ent, const torch::Tensor& entropy, int64_t s, int64_t n, double temperature) {
    if (detail::log_softmax_rows_applies(logp_all)) {  // CPU fp32: one pass per row (log_softmax_rows.h)
      detail::log_softmax_rows_backward_(logp_all, targets, g_logp.defined() ? g_logp.narrow(0, s, n) : torch::Tensor(),
                                         g_ent.defined() ? g_ent.narrow(0, s, n) : torch::Tensor(), entropy.narrow(0, s, n),
                                         temperature);
      return logp_all;
    }
    torch::Tensor entropy_term;
    if (g_ent.defined())
      entropy_term = g_ent.narrow(0, s, n).unsqueeze(1) * logp_all.exp() * (logp_all + entropy.narrow(0, s, n).unsqueeze(1));
    torch::Tensor dz;
    if (g_logp.defined()) {
      torch::Tensor g = g_logp.narrow(0, s, n).unsqueeze(1);
      dz = logp_all.exp_().mul_(-g);  // the buffer is now -p * g
      dz.scatter_add_(1, targets.unsqueeze(1), g);
      if (entropy_term.defined()) dz.sub_(entropy_term);
    } else {
      dz = entropy_term.defined() ? entropy_term.neg_() : logp_all.zero_();
    }
    if (temperature != 1.0) dz.div_(temperature);
    return dz;
  }

  // The kept first chunk, handed over once: backward turns it into dz in place, so a second backward
  // through the same graph (retain_graph) finds it gone and recomputes it.
  static torch::Tensor take_kept(AutogradContext* ctx) {
    auto it = ctx->saved_data.find("kept_logp");
    if (it == ctx->saved_data.end()) return {};
    torch::Tensor kept = it->second.toTensor();
    ctx->saved_data.erase(it);
    return kept;
  }

  // h · W^T in fp32, divided by the temperature in place (dividing by 1 is skipped: it is the identity).
  static torch::Tensor scaled_logits(const torch::Tensor& h, const torch::Tensor& weight, double temperature) {
    torch::Tensor z = torch::matmul(h, weight.t()).to(torch::kFloat);
    if (temperature != 1.0) z.div_(temperature);
    return z;
  }
};

}  // namespace

TokenScores CausalLM::token_scores(const torch::Tensor& tokens, const torch::Tensor& targets, const torch::Tensor& mask,
                                   double temperature, int64_t chunk, bool with_entropy, const torch::Tensor& score_mask) {
  if (temperature <= 0) throw Error("token_logprobs: temperature must be > 0, got " + std::to_string(temperature));
  if (chunk <= 0) throw Error("token_logprobs: chunk must be > 0");
  if (tokens.sizes() != targets.sizes() || tokens.sizes() != mask.sizes())
    throw Error("token_logprobs: tokens, targets and mask must have the same [B,T] shape");
  if (score_mask.defined() && score_mask.sizes() != tokens.sizes())
    throw Error("token_logprobs: score_mask must have the [B,T] shape of tokens");
  const int64_t B = tokens.size(0), T = tokens.size(1);
  // The last layer's outputs before the first column any row scores are read by nothing (only its
  // keys and values are, by later positions): run_layers runs the rest of that layer from there on.
  int64_t from = 0;
  torch::Tensor scored;  // score_mask as [B,T] bool
  if (score_mask.defined()) {
    scored = score_mask.ne(0);
    if (last_layer_narrows()) {
      torch::Tensor columns = scored.any(0).nonzero();
      from = columns.numel() > 0 ? columns.min().item<int64_t>() : std::max<int64_t>(T - 1, 0);
    }
  }
  torch::Tensor h = run_layers(tokens, positions_from_mask(mask), nullptr, mask, {}, from);  // [B, T - from, D]
  const torch::Device dev = h.device();
  torch::Tensor flat = h.reshape({B * (T - from), h.size(-1)});
  torch::Tensor flat_targets = targets.narrow(1, from, T - from).reshape({-1}).to(dev, torch::kLong);
  torch::Tensor rows;  // the scored positions of the flattened [B, T] batch, when score_mask narrows them
  if (score_mask.defined()) {
    torch::Tensor kept = scored.narrow(1, from, T - from).reshape({-1}).to(dev).nonzero().squeeze(1);  // in [B, T - from]
    flat = flat.index_select(0, kept);
    flat_targets = flat_targets.index_select(0, kept);
    rows = kept.div(T - from, "floor").mul_(T).add_(kept.remainder(T - from)).add_(from);
  }
  torch::Tensor weight = lm_head_weight();
  const bool backward_follows = torch::GradMode::is_enabled() && (flat.requires_grad() || weight.requires_grad());
  auto out = ChunkedTokenScores::apply(flat, weight, flat_targets, temperature, chunk, with_entropy, backward_follows);
  auto to_grid = [&](const torch::Tensor& v) {  // [B,T], 0 at positions not scored
    return rows.defined() ? torch::zeros({B * T}, v.options()).index_copy(0, rows, v).view({B, T}) : v.view({B, T});
  };
  torch::Tensor m = mask.to(dev, torch::kFloat);
  TokenScores scores;
  scores.logprobs = to_grid(out[0]) * m;
  if (with_entropy) scores.entropies = to_grid(out[1]) * m;
  return scores;
}

torch::Tensor CausalLM::token_logprobs(const torch::Tensor& tokens, const torch::Tensor& targets, const torch::Tensor& mask,
                                       double temperature, int64_t chunk) {
  return token_scores(tokens, targets, mask, temperature, chunk, false).logprobs;
}

}  // namespace grpo::policies
