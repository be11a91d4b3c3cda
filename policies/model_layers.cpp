// model_layers.cpp: RMSNorm, RoPE, MLP, MLA, GQA, DeepSeekMoE, decoder layer.
#include "policies/model_layers.h"

#include <cmath>
#include <limits>
#include <optional>

#include "core/error.h"
#include "core/torch_compat.h"
#include "policies/decode_attention.h"
#include "policies/fused_linear.h"
#include "policies/fused_rms_norm.h"
#include "policies/fused_rope.h"
#include "policies/fused_swiglu.h"
#include "policies/moe_dispatch.h"

namespace grpo::policies::detail {

namespace {

torch::nn::Linear linear(int64_t in, int64_t out, bool bias) {
  return torch::nn::Linear(torch::nn::LinearOptions(in, out).bias(bias));
}

// Masked softmax attention in fp32: scores [...,T,Tk], allowed broadcastable.
// Fully masked rows (left-padding queries) get a uniform distribution, not NaN.
torch::Tensor masked_softmax(const torch::Tensor& scores, const torch::Tensor& allowed) {
  return scores.to(torch::kFloat).masked_fill(allowed.logical_not(), -1e30f).softmax(-1);
}

// Writes new entries [B, ..., T, ...] (time on dim `time_dim` of each row)
// into the cache tensor at (slot, start) for every row. Decode (T = 1) is one
// scatter for the whole batch; prefill copies row by row.
void write_cache(torch::Tensor& store, const torch::Tensor& fresh, const ForwardContext& ctx, int64_t time_dim) {
  torch::NoGradGuard no_grad;
  int64_t t = fresh.size(time_dim + 1);
  if (t == 1) {
    std::vector<at::indexing::TensorIndex> at_row = {ctx.slot_index};
    for (int64_t d = 0; d < time_dim; ++d) at_row.emplace_back(at::indexing::Slice());
    at_row.emplace_back(ctx.start_index);
    store.index_put_(at_row, fresh.detach().select(time_dim + 1, 0));
    return;
  }
  for (size_t b = 0; b < ctx.slots.size(); ++b)
    store[ctx.slots[b]].narrow(time_dim, ctx.starts[b], t).copy_(fresh[static_cast<int64_t>(b)].detach());
}

// Rows [0, Tk) of the cache for the batch's slots: [B, ..., Tk, ...]. A view
// when the slots are consecutive (the usual full decode batch), else a copy.
torch::Tensor read_cache(const torch::Tensor& store, const ForwardContext& ctx, int64_t time_dim) {
  torch::Tensor rows = ctx.first_slot >= 0 ? store.narrow(0, ctx.first_slot, static_cast<int64_t>(ctx.slots.size()))
                                           : store.index_select(0, ctx.slot_index);
  return rows.narrow(time_dim + 1, 0, ctx.key_len);
}

}  // namespace

// ---------------------------------------------------------------- RMSNorm
RMSNormImpl::RMSNormImpl(int64_t dim, double eps_) : eps(eps_) { weight = register_parameter("weight", torch::ones({dim})); }

torch::Tensor RMSNormImpl::forward(const torch::Tensor& x) {
  if (fused_rms_norm_applies(x, weight)) return fused_rms_norm(x, weight, eps);  // one pass per row (fused_rms_norm.h)
  torch::Tensor x32 = x.to(torch::kFloat);
  torch::Tensor y = x32 * torch::rsqrt(x32.pow(2).mean(-1, true) + eps);
  return weight * y.to(x.scalar_type());
}

// ---------------------------------------------------------------- RoPE
std::pair<torch::Tensor, double> rope_inv_freq(const ModelConfig& c) {
  const int64_t dim = c.is_mla() ? c.qk_rope_head_dim : c.dense_head_dim();
  const double base = c.rope_theta;
  // Same float32 expression as HF: 1 / base^(arange(0,dim,2)/dim).
  torch::Tensor pos_freqs = torch::pow(torch::tensor(base, torch::kFloat), torch::arange(0, dim, 2, torch::kFloat) / double(dim));
  torch::Tensor inv = 1.0 / pos_freqs;
  double amplitude = 1.0;
  const RopeScaling& r = c.rope_scaling;
  if (r.type == "linear") {
    inv = inv / r.factor;
  } else if (r.type == "yarn") {
    auto get_mscale = [](double scale, double m) { return scale <= 1 ? 1.0 : 0.1 * m * std::log(scale) + 1.0; };
    double factor = r.factor;
    if (r.attention_factor >= 0) amplitude = r.attention_factor;
    else if (r.mscale != 0 && r.mscale_all_dim != 0) amplitude = get_mscale(factor, r.mscale) / get_mscale(factor, r.mscale_all_dim);
    else amplitude = get_mscale(factor, 1.0);
    double orig = double(r.original_max_position_embeddings > 0 ? r.original_max_position_embeddings : c.max_position_embeddings);
    auto correction_dim = [&](double rot) { return (dim * std::log(orig / (rot * 2 * M_PI))) / (2 * std::log(base)); };
    double low = std::floor(correction_dim(r.beta_fast));
    double high = std::ceil(correction_dim(r.beta_slow));
    low = std::max(low, 0.0);
    high = std::min(high, double(dim - 1));
    if (low == high) high += 0.001;
    torch::Tensor ramp = ((torch::arange(dim / 2, torch::kFloat) - low) / (high - low)).clamp(0, 1);
    torch::Tensor extrapolation_factor = 1 - ramp;
    torch::Tensor interp = 1.0 / (factor * pos_freqs);
    inv = interp * (1 - extrapolation_factor) + inv * extrapolation_factor;
  } else if (r.type == "llama3") {
    double factor = r.factor, lf = r.low_freq_factor, hf = r.high_freq_factor;
    double old_ctx = double(r.original_max_position_embeddings);
    double low_wavelen = old_ctx / lf, high_wavelen = old_ctx / hf;
    torch::Tensor wavelen = 2 * M_PI / inv;
    torch::Tensor scaled = torch::where(wavelen > low_wavelen, inv / factor, inv);
    torch::Tensor smooth = (old_ctx / wavelen - lf) / (hf - lf);
    torch::Tensor smoothed = (1 - smooth) * scaled / factor + smooth * scaled;
    torch::Tensor medium = (wavelen >= high_wavelen).logical_and(wavelen <= low_wavelen);
    inv = torch::where(medium, smoothed, scaled);
  }
  return {inv, amplitude};
}

torch::Tensor apply_rope(const torch::Tensor& x, const torch::Tensor& cos, const torch::Tensor& sin, bool interleaved) {
  if (!interleaved && fused_rope_applies(x, cos, sin)) return fused_rope(x, cos, sin);  // one pass (fused_rope.h)
  const int64_t half = x.size(-1) / 2;
  torch::Tensor x1, x2;
  if (interleaved) {
    x1 = x.slice(-1, 0, x.size(-1), 2);
    x2 = x.slice(-1, 1, x.size(-1), 2);
  } else {
    x1 = x.narrow(-1, 0, half);
    x2 = x.narrow(-1, half, half);
  }
  torch::Tensor c = cos.to(x.scalar_type()), s = sin.to(x.scalar_type());
  return torch::cat({x1 * c - x2 * s, x2 * c + x1 * s}, -1);
}

// ---------------------------------------------------------------- MLP
MLPImpl::MLPImpl(int64_t dim, int64_t inner, bool bias) {
  gate_proj = register_module("gate_proj", linear(dim, inner, bias));
  up_proj = register_module("up_proj", linear(dim, inner, bias));
  down_proj = register_module("down_proj", linear(inner, dim, bias));
  share_rows({&gate_proj, &up_proj});  // one [2·inner, dim] product at decode (fused_linear.h)
}

torch::Tensor MLPImpl::forward(const torch::Tensor& x, OnednnLinear fast) {
  torch::Tensor gate_up = fused_linear({&gate_proj, &up_proj}, x, fast);
  if (!gate_up.defined()) return linear(down_proj, swiglu(linear(gate_proj, x, fast), linear(up_proj, x, fast)), fast);
  const int64_t inner = gate_proj->weight.size(0);
  return linear(down_proj, swiglu(gate_up.narrow(-1, 0, inner), gate_up.narrow(-1, inner, inner)), fast);
}

// ---------------------------------------------------------------- MLA
MLAImpl::MLAImpl(const ModelConfig& c, int64_t layer) : c_(c), layer_(layer), scale_(c.attention_scale()) {
  const int64_t H = c.num_attention_heads, D = c.hidden_size;
  if (c.q_lora_rank > 0) {
    q_a_proj = register_module("q_a_proj", linear(D, c.q_lora_rank, c.attention_bias));
    q_a_layernorm = register_module("q_a_layernorm", RMSNorm(c.q_lora_rank, 1e-6));
    q_b_proj = register_module("q_b_proj", linear(c.q_lora_rank, H * c.qk_head_dim(), false));
  } else {
    q_proj = register_module("q_proj", linear(D, H * c.qk_head_dim(), false));
  }
  kv_a_proj_with_mqa = register_module("kv_a_proj_with_mqa", linear(D, c.kv_lora_rank + c.qk_rope_head_dim, c.attention_bias));
  kv_a_layernorm = register_module("kv_a_layernorm", RMSNorm(c.kv_lora_rank, 1e-6));
  kv_b_proj = register_module("kv_b_proj", linear(c.kv_lora_rank, H * (c.qk_nope_head_dim + c.v_head_dim), false));
  o_proj = register_module("o_proj", linear(H * c.v_head_dim, D, c.attention_bias));
}

torch::Tensor MLAImpl::forward(const torch::Tensor& x, ForwardContext& ctx) {
  const int64_t B = x.size(0), T = x.size(1), H = c_.num_attention_heads;
  const int64_t dn = c_.qk_nope_head_dim, dr = c_.qk_rope_head_dim, dv = c_.v_head_dim, r = c_.kv_lora_rank;
  torch::Tensor q = c_.q_lora_rank > 0 ? linear(q_b_proj, q_a_layernorm(linear(q_a_proj, x, ctx.onednn)), ctx.onednn)
                                        : linear(q_proj, x, ctx.onednn);
  q = q.view({B, T, H, dn + dr}).transpose(1, 2);  // [B,H,T,dq]
  torch::Tensor q_nope = q.narrow(-1, 0, dn);
  torch::Tensor q_pe = apply_rope(q.narrow(-1, dn, dr), ctx.cos.unsqueeze(1), ctx.sin.unsqueeze(1), c_.rope_interleave);
  torch::Tensor kv_a = linear(kv_a_proj_with_mqa, x, ctx.onednn);
  torch::Tensor c_kv = kv_a_layernorm(kv_a.narrow(-1, 0, r));                                  // [B,T,r]
  torch::Tensor k_pe = apply_rope(kv_a.narrow(-1, r, dr), ctx.cos, ctx.sin, c_.rope_interleave);  // [B,T,dr]

  if (ctx.cache) {
    write_cache(ctx.cache->a(layer_), c_kv, ctx, 0);
    write_cache(ctx.cache->b(layer_), k_pe, ctx, 0);
    c_kv = read_cache(ctx.cache->a(layer_), ctx, 0);  // [B,Tk,r]
    k_pe = read_cache(ctx.cache->b(layer_), ctx, 0);  // [B,Tk,dr]
  }
  torch::Tensor out;
  if (ctx.cache && ctx.mla_absorbed) {
    // Weight-absorbed form: attention over the latent, one shared KV "head".
    torch::Tensor w = kv_b_proj->weight.view({H, dn + dv, r});
    torch::Tensor w_uk = w.narrow(1, 0, dn);   // [H,dn,r]
    torch::Tensor w_uv = w.narrow(1, dn, dv);  // [H,dv,r]
    // Per head one product of all B·T query rows with that head's weight: a
    // matmul against w.unsqueeze(0) would broadcast (copy) the weight B times.
    auto per_head = [&](const torch::Tensor& rows, const torch::Tensor& weight) {  // [B,H,T,k] x [H,k,n] -> [B,H,T,n]
      torch::Tensor y = torch::bmm(rows.transpose(0, 1).reshape({H, B * T, rows.size(-1)}), weight);
      return y.view({H, B, T, weight.size(-1)}).transpose(0, 1);
    };
    // The H heads' T queries are H·T rows against the one latent "head": the
    // cache is read in place (broadcasting it over H would copy it every layer).
    const int64_t Tk = c_kv.size(1);
    auto rows_of_heads = [&](const torch::Tensor& t) { return t.reshape({B, H * T, t.size(-1)}); };  // [B,H,T,k] -> [B,H·T,k]
    torch::Tensor q_abs = per_head(q_nope, w_uk);  // [B,H,T,r]
    torch::Tensor scores = (torch::bmm(rows_of_heads(q_abs), c_kv.transpose(1, 2)) + torch::bmm(rows_of_heads(q_pe), k_pe.transpose(1, 2)))
                               .view({B, H, T, Tk});
    torch::Tensor p = masked_softmax(scores * scale_, ctx.allowed).to(x.scalar_type());
    torch::Tensor o_lat = torch::bmm(rows_of_heads(p), c_kv).view({B, H, T, r});  // [B,H,T,r]
    out = per_head(o_lat, w_uv.transpose(-1, -2));                                 // [B,H,T,dv]
  } else {
    const int64_t Tk = c_kv.size(1);
    torch::Tensor kv = kv_b_proj(c_kv).view({B, Tk, H, dn + dv}).transpose(1, 2);  // [B,H,Tk,dn+dv]
    torch::Tensor k = torch::cat({kv.narrow(-1, 0, dn), k_pe.unsqueeze(1).expand({B, H, Tk, dr})}, -1);
    torch::Tensor v = kv.narrow(-1, dn, dv);
    torch::Tensor qf = torch::cat({q_nope, q_pe}, -1);
    torch::Tensor p = masked_softmax(torch::matmul(qf, k.transpose(-1, -2)) * scale_, ctx.allowed).to(x.scalar_type());
    out = torch::matmul(p, v);  // [B,H,T,dv]
  }
  return linear(o_proj, out.transpose(1, 2).reshape({B, T, H * dv}), ctx.onednn);
}

// ---------------------------------------------------------------- GQA
GQAImpl::GQAImpl(const ModelConfig& c, int64_t layer) : c_(c), layer_(layer), scale_(c.attention_scale()) {
  const int64_t hd = c.dense_head_dim(), D = c.hidden_size;
  const bool bias = c.has_qkv_bias();
  q_proj = register_module("q_proj", linear(D, c.num_attention_heads * hd, bias));
  k_proj = register_module("k_proj", linear(D, c.num_key_value_heads * hd, bias));
  v_proj = register_module("v_proj", linear(D, c.num_key_value_heads * hd, bias));
  o_proj = register_module("o_proj", linear(c.num_attention_heads * hd, D, c.model_type == "llama" && c.attention_bias));
  share_rows({&q_proj, &k_proj, &v_proj});  // one [(H + 2·KV)·hd, D] product at decode (fused_linear.h)
}

torch::Tensor GQAImpl::forward(const torch::Tensor& x, ForwardContext& ctx) {
  const int64_t B = x.size(0), T = x.size(1), H = c_.num_attention_heads, KV = c_.num_key_value_heads;
  const int64_t hd = c_.dense_head_dim(), G = H / KV;
  // Queries of the positions from q0 on only (ForwardContext::query_start); keys and values of all.
  const int64_t q0 = ctx.cache ? 0 : ctx.query_start, Tq = T - q0;
  torch::Tensor cos = ctx.cos.unsqueeze(1), sin = ctx.sin.unsqueeze(1);
  torch::Tensor q_lin, k_lin, v_lin;  // [B,Tq,H·hd], [B,T,KV·hd] x2
  if (torch::Tensor qkv = q0 == 0 ? fused_linear({&q_proj, &k_proj, &v_proj}, x, ctx.onednn) : torch::Tensor(); qkv.defined()) {
    q_lin = qkv.narrow(-1, 0, H * hd);
    k_lin = qkv.narrow(-1, H * hd, KV * hd);
    v_lin = qkv.narrow(-1, (H + KV) * hd, KV * hd);
  } else {
    q_lin = linear(q_proj, q0 > 0 ? x.narrow(1, q0, Tq) : x, ctx.onednn);
    k_lin = linear(k_proj, x, ctx.onednn);
    v_lin = linear(v_proj, x, ctx.onednn);
  }
  // One new token per row with host-known lengths (the engine's eager decode):
  // each row's rotary, cache append and attention over its own slot in one
  // kernel reading q/k/v in place, no mask, no gather (decode_attention.h).
  if (ctx.cache && T == 1 && static_cast<int64_t>(ctx.starts.size()) == B &&
      decode_attention_applies(q_lin, ctx.cache->a(layer_), ctx.cache->b(layer_))) {
    torch::Tensor out = decode_attention(q_lin.view({B, H, hd}), k_lin.view({B, KV, hd}), v_lin.view({B, KV, hd}), ctx.cache->a(layer_),
                                         ctx.cache->b(layer_), ctx.slots, ctx.starts, scale_, ctx.cos.view({B, -1}), ctx.sin.view({B, -1}));
    return linear(o_proj, out.view({B, 1, H * hd}), ctx.onednn);
  }
  torch::Tensor q = q0 > 0 ? apply_rope(q_lin.view({B, Tq, H, hd}).transpose(1, 2), cos.narrow(2, q0, Tq).contiguous(),
                                        sin.narrow(2, q0, Tq).contiguous(), false)                  // [B,H,Tq,hd]
                           : apply_rope(q_lin.view({B, T, H, hd}).transpose(1, 2), cos, sin, false);  // [B,H,T,hd]
  torch::Tensor k = apply_rope(k_lin.view({B, T, KV, hd}).transpose(1, 2), cos, sin, false);  // [B,KV,T,hd]
  torch::Tensor v = v_lin.view({B, T, KV, hd}).transpose(1, 2);
  if (ctx.cache) {
    write_cache(ctx.cache->a(layer_), k, ctx, 1);
    write_cache(ctx.cache->b(layer_), v, ctx, 1);
    k = read_cache(ctx.cache->a(layer_), ctx, 1);  // [B,KV,Tk,hd], a view of the cache when slots are consecutive
    v = read_cache(ctx.cache->b(layer_), ctx, 1);
    // The G query heads of a kv head become G·T query rows of one SDPA head
    // (HF repeat_kv order: head h uses kv head h / G), so K/V are never
    // repeated; SDPA's fused kernel reads the cache in place.
    std::optional<torch::Tensor> mask;
    if (ctx.grouped_mask.defined()) mask = ctx.grouped_mask;
    torch::Tensor out = compat::scaled_dot_product_attention(q.reshape({B, KV, G * T, hd}), k, v, mask, scale_);
    return linear(o_proj, out.view({B, H, T, hd}).transpose(1, 2).reshape({B, T, H * hd}), ctx.onednn);
  }
  // No cache (training, scoring): fused SDPA and its fused backward, never the
  // [B,H,T,T] probabilities in memory. Query head h uses kv head h / G (HF
  // repeat_kv order), K/V repeated to the H heads as HF does.
  torch::Tensor kh = k.unsqueeze(2).expand({B, KV, G, T, hd}).reshape({B, H, T, hd});
  torch::Tensor vh = v.unsqueeze(2).expand({B, KV, G, T, hd}).reshape({B, H, T, hd});
  std::optional<torch::Tensor> mask;
  if (ctx.dense_mask.defined()) mask = q0 > 0 ? ctx.dense_mask.narrow(2, q0, Tq) : ctx.dense_mask;
  else if (q0 > 0) mask = torch::ones({Tq, T}, x.options().dtype(torch::kBool)).tril(q0);  // query i is position q0 + i
  torch::Tensor out = compat::scaled_dot_product_attention(q, kh, vh, mask, scale_, /*causal=*/!mask.has_value());
  return o_proj(out.transpose(1, 2).reshape({B, Tq, H * hd}));
}

// ---------------------------------------------------------------- Router / MoE
RouterImpl::RouterImpl(const ModelConfig& c) : c_(c) {
  weight = register_parameter("weight", torch::zeros({c.n_routed_experts, c.hidden_size}));
  if (c.topk_method == "noaux_tc")
    e_score_correction_bias = register_buffer("e_score_correction_bias", torch::zeros({c.n_routed_experts}));
}

std::tuple<torch::Tensor, torch::Tensor, torch::Tensor> RouterImpl::route(const torch::Tensor& x) {
  const int64_t E = c_.n_routed_experts, K = c_.num_experts_per_tok;
  torch::Tensor logits = torch::matmul(x.to(torch::kFloat), weight.to(torch::kFloat).t());  // [N,E]
  torch::Tensor scores = c_.scoring_func == "softmax" ? logits.softmax(-1) : logits.sigmoid();
  torch::Tensor indices;
  {
    torch::NoGradGuard no_grad;  // selection is not differentiable
    torch::Tensor choice = scores.detach();
    if (e_score_correction_bias.defined()) choice = choice + e_score_correction_bias.to(torch::kFloat);
    if (c_.n_group > 1 && c_.topk_method != "greedy") {
      const int64_t N = choice.size(0), per = E / c_.n_group;
      torch::Tensor grouped = choice.view({N, c_.n_group, per});
      torch::Tensor group_scores = c_.topk_method == "noaux_tc" ? std::get<0>(grouped.topk(2, -1)).sum(-1)
                                                                : std::get<0>(grouped.max(-1));
      torch::Tensor group_idx = std::get<1>(group_scores.topk(c_.topk_group, -1));
      torch::Tensor group_mask = torch::zeros_like(group_scores, torch::kBool).scatter_(1, group_idx, true);
      torch::Tensor expert_mask = group_mask.unsqueeze(-1).expand({N, c_.n_group, per}).reshape({N, E});
      // DeepSeek and current HF mask with -inf (model-reference §5.5).
      choice = choice.masked_fill(expert_mask.logical_not(), -std::numeric_limits<float>::infinity());
    }
    indices = std::get<1>(choice.topk(K, -1));
  }
  torch::Tensor weights = scores.gather(1, indices);  // unbiased scores
  if (c_.norm_topk_prob && K > 1) weights = weights / (weights.sum(-1, true) + 1e-20);
  weights = weights * c_.routed_scaling_factor;
  return {weights, indices, scores};
}

MoEImpl::MoEImpl(const ModelConfig& c) : c_(c) {
  gate = register_module("gate", Router(c));
  experts = register_module("experts", torch::nn::ModuleList());
  for (int64_t e = 0; e < c.n_routed_experts; ++e) {
    expert_list.push_back(MLP(c.hidden_size, c.moe_intermediate_size, false));
    experts->push_back(expert_list.back());
  }
  if (c.n_shared_experts > 0)
    shared_experts = register_module("shared_experts", MLP(c.hidden_size, c.moe_intermediate_size * c.n_shared_experts, false));
  load_counts = torch::zeros({c.n_routed_experts}, torch::kLong);
}

torch::Tensor MoEImpl::forward(const torch::Tensor& x_in, ForwardContext& ctx) {
  const int64_t E = c_.n_routed_experts, K = c_.num_experts_per_tok, D = x_in.size(-1);
  torch::Tensor x = x_in.reshape({-1, D});
  const int64_t N = x.size(0);
  auto [weights, indices, scores] = gate->route(x);

  torch::Tensor flat = indices.reshape({-1});
  if (is_training()) {
    if (ctx.record_expert_load) {
      // A scatter-add of ones (0 for padding tokens, which do not count as
      // load): unlike masked_select + bincount, no host synchronisation.
      torch::Tensor one = ctx.token_mask.defined() ? ctx.token_mask.reshape({-1, 1}).expand({N, K}).reshape({-1}).to(torch::kLong)
                                                   : torch::ones_like(flat);
      load_counts = load_counts.to(x.device()).scatter_add(0, flat, one);
    }
    if (ctx.balance_alpha > 0) {
      // L_Bal = alpha Σ_i f_i P_i per sequence (DeepSeek-V3 §2.1.2), mean over sequences.
      const int64_t B = x_in.size(0), T = x_in.size(1);
      torch::Tensor m = ctx.token_mask.defined() ? ctx.token_mask.to(torch::kFloat) : torch::ones({B, T}, x.options().dtype(torch::kFloat));
      torch::Tensor len = m.sum(1).clamp_min(1);                                  // [B]
      torch::Tensor s_norm = (scores / scores.sum(-1, true)).view({B, T, E});
      torch::Tensor P = (s_norm * m.unsqueeze(-1)).sum(1) / len.unsqueeze(-1);   // [B,E]
      torch::Tensor onehot = torch::zeros({N, E}, x.options().dtype(torch::kFloat)).scatter_(1, indices, 1.0).view({B, T, E});
      torch::Tensor f = (onehot * m.unsqueeze(-1)).sum(1) * (double(E) / double(K)) / len.unsqueeze(-1);
      torch::Tensor loss = ctx.balance_alpha * (f.detach() * P).sum(-1).mean();
      ctx.balance_loss = ctx.balance_loss.defined() ? ctx.balance_loss + loss : loss;
    }
  }
  torch::Tensor out;
  if (resolve_moe_dispatch(dispatch, x.is_cuda(), x.scalar_type(), cuda_compute_major(x.device()), D,
                           c_.moe_intermediate_size) == MoeDispatch::kGrouped) {
    out = grouped_experts(x, weights, indices, expert_list);
  } else {
    // Group (token, k) pairs by expert: one gather + one matmul chain per expert hit.
    torch::Tensor order = flat.argsort();
    torch::Tensor token_of = order.div(K, "floor");
    torch::Tensor weight_of = weights.reshape({-1}).index_select(0, order);
    torch::Tensor counts_cpu = torch::bincount(flat, {}, E).to(torch::kCPU);
    const int64_t* cnt = counts_cpu.data_ptr<int64_t>();
    std::vector<torch::Tensor> parts;
    int64_t offset = 0;
    for (int64_t e = 0; e < E; ++e) {
      if (cnt[e] == 0) continue;
      torch::Tensor rows = token_of.narrow(0, offset, cnt[e]);
      // ATen's linear: an expert's row count changes every step, and oneDNN creates a primitive per row count.
      parts.push_back(expert_list[e](x.index_select(0, rows)).to(torch::kFloat) * weight_of.narrow(0, offset, cnt[e]).unsqueeze(1));
      offset += cnt[e];
    }
    // One scatter-add of all (token, expert) outputs, summed in fp32 (HF order).
    out = torch::zeros({N, D}, x.options().dtype(torch::kFloat)).index_add(0, token_of, torch::cat(parts, 0));
  }
  torch::Tensor y = out.to(x.scalar_type());
  if (shared_experts) y = y + shared_experts->forward(x, ctx.onednn);
  return y.view(x_in.sizes());
}

// ---------------------------------------------------------------- decoder layer
DecoderLayerImpl::DecoderLayerImpl(const ModelConfig& c, int64_t layer, bool mtp) {
  if (mtp) {
    embed_tokens = register_module("embed_tokens", torch::nn::Embedding(c.vocab_size, c.hidden_size));
    enorm = register_module("enorm", RMSNorm(c.hidden_size, c.rms_norm_eps));
    hnorm = register_module("hnorm", RMSNorm(c.hidden_size, c.rms_norm_eps));
    eh_proj = register_module("eh_proj", linear(2 * c.hidden_size, c.hidden_size, false));
    auto shared_head = std::make_shared<torch::nn::Module>();
    head_norm = shared_head->register_module("norm", RMSNorm(c.hidden_size, c.rms_norm_eps));
    head = shared_head->register_module("head", linear(c.hidden_size, c.vocab_size, false));
    register_module("shared_head", shared_head);
  }
  input_layernorm = register_module("input_layernorm", RMSNorm(c.hidden_size, c.rms_norm_eps));
  if (c.is_mla()) mla = register_module("self_attn", MLA(c, layer));
  else gqa = register_module("self_attn", GQA(c, layer));
  post_attention_layernorm = register_module("post_attention_layernorm", RMSNorm(c.hidden_size, c.rms_norm_eps));
  if (c.is_moe_layer(layer)) moe = register_module("mlp", MoE(c));
  else dense = register_module("mlp", MLP(c.hidden_size, c.intermediate_size, c.mlp_bias));
}

torch::Tensor DecoderLayerImpl::forward(const torch::Tensor& x, ForwardContext& ctx) {
  const int64_t q0 = ctx.cache ? 0 : ctx.query_start;
  if (q0 > 0 && (mla || moe))
    throw Error("DecoderLayer: ForwardContext::query_start needs a GQA layer with a dense MLP (MLA and MoE layers run every position)");
  torch::Tensor h = input_layernorm(x);
  torch::Tensor a = mla ? mla(h, ctx) : gqa(h, ctx);  // [B, T - q0, D]
  torch::Tensor y = (q0 > 0 ? x.narrow(1, q0, x.size(1) - q0) : x) + a;
  torch::Tensor f = post_attention_layernorm(y);
  return y + (moe ? moe(f, ctx) : dense->forward(f, ctx.onednn));
}

BackboneImpl::BackboneImpl(const ModelConfig& c, bool with_mtp) {
  embed_tokens = register_module("embed_tokens", torch::nn::Embedding(c.vocab_size, c.hidden_size));
  layers = register_module("layers", torch::nn::ModuleList());
  int64_t total = c.num_hidden_layers + (with_mtp ? c.num_nextn_predict_layers : 0);
  for (int64_t l = 0; l < total; ++l) {
    layer_list.push_back(DecoderLayer(c, l, l >= c.num_hidden_layers));
    layers->push_back(layer_list.back());
  }
  norm = register_module("norm", RMSNorm(c.hidden_size, c.rms_norm_eps));
}

}  // namespace grpo::policies::detail
