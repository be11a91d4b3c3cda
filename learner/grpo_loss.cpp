// grpo_loss.cpp: see grpo_loss.h. The order of operations follows TRL's
// GRPOTrainer._compute_loss (TRL 1.16): ratio, clip, policy-gradient term,
// off-policy mask, entropy mask, IS weight, + beta*KL, aggregation, entropy bonus.
#include "learner/grpo_loss.h"

#include <algorithm>
#include <cmath>

#include "core/error.h"

namespace grpo::learner {
namespace {

[[noreturn]] void fail(const std::string& what) { throw Error("grpo_loss: " + what); }

std::string shape_of(const torch::Tensor& t) {
  std::string s = "[";
  for (int64_t i = 0; i < t.dim(); ++i) s += (i ? ", " : "") + std::to_string(t.size(i));
  return s + "]";
}

void check_like(const torch::Tensor& t, const char* name, const torch::Tensor& mask) {
  if (t.sizes() != mask.sizes())
    fail(std::string(name) + " has shape " + shape_of(t) + " but mask has " + shape_of(mask) + "; both must be [B, T]");
}

// Zero at padding, so NaN/inf there reach neither the loss nor the gradient
// (x * mask would give 0 * inf = NaN, and so would its backward).
torch::Tensor at_active(const torch::Tensor& x, const torch::Tensor& active) {
  return torch::where(active, x, torch::zeros_like(x));
}

void validate(const LossInputs& in, const LossOptions& o) {
  if (!in.logprobs.defined() || !in.mask.defined() || !in.advantages.defined())
    fail("logprobs, mask and advantages are required");
  if (in.mask.dim() != 2) fail("mask must be [B, T], got " + shape_of(in.mask));
  check_like(in.logprobs, "logprobs", in.mask);
  if (in.old_logprobs.defined()) check_like(in.old_logprobs, "old_logprobs", in.mask);
  const int64_t b = in.mask.size(0);
  const bool adv_ok = (in.advantages.dim() == 1 && in.advantages.size(0) == b) ||
                      (in.advantages.dim() == 2 && in.advantages.sizes() == in.mask.sizes());
  if (!adv_ok) fail("advantages has shape " + shape_of(in.advantages) + "; expected [B] or [B, T] with B = " + std::to_string(b));
  if (o.beta > 0) {
    if (!in.ref_logprobs.defined()) fail("beta > 0 needs ref_logprobs (set learner.beta = 0 to train without a reference)");
    check_like(in.ref_logprobs, "ref_logprobs", in.mask);
  }
  if (o.is_correction != "none" || o.off_policy_mask_threshold) {
    if (o.is_correction != "none" && !in.rollout_logprobs.defined())
      fail("is_correction = " + o.is_correction + " needs rollout_logprobs (the sampling engine's log-probs)");
    if (in.rollout_logprobs.defined()) check_like(in.rollout_logprobs, "rollout_logprobs", in.mask);
  }
  if (o.top_entropy_quantile < 1.0 || o.entropy_coef != 0.0) {
    if (!in.entropies.defined()) fail("top_entropy_quantile < 1 or entropy_coef > 0 needs entropies");
    check_like(in.entropies, "entropies", in.mask);
  }
  static const char* kLosses[] = {"grpo", "bnpo", "dr_grpo", "dapo"};
  if (std::none_of(std::begin(kLosses), std::end(kLosses), [&](const char* l) { return o.loss_type == l; }))
    fail("unknown loss_type '" + o.loss_type + "' (grpo, bnpo, dr_grpo, dapo)");
  if (o.importance_sampling_level != "token" && o.importance_sampling_level != "sequence")
    fail("importance_sampling_level must be token or sequence, got '" + o.importance_sampling_level + "'");
}

// The tensors every stage reads, cleaned of padding garbage.
struct Prepared {
  torch::Tensor active;    // [B, T] bool
  torch::Tensor m;         // [B, T] float mask
  torch::Tensor lp;        // [B, T] with grad
  torch::Tensor old;       // [B, T] no grad
  torch::Tensor adv;       // [B, 1] or [B, T]
  torch::Tensor entropies; // [B, T] or undefined
};

Prepared prepare(const LossInputs& in) {
  Prepared p;
  p.active = in.mask.to(torch::kBool);
  p.m = p.active.to(in.logprobs.scalar_type());
  p.lp = at_active(in.logprobs, p.active);
  p.old = in.old_logprobs.defined() ? at_active(in.old_logprobs.detach(), p.active) : p.lp.detach();
  p.adv = in.advantages.to(in.logprobs.scalar_type());
  if (p.adv.dim() == 1) p.adv = p.adv.unsqueeze(1);
  if (in.entropies.defined()) p.entropies = at_active(in.entropies, p.active);
  return p;
}

// Importance ratio rho: per token, or one per sequence (GSPO: exp of the mean log-ratio).
torch::Tensor importance_ratio(const Prepared& p, const std::string& level) {
  torch::Tensor log_ratio = p.lp - p.old;  // [B, T]
  if (level == "token") return torch::exp(log_ratio);
  torch::Tensor seq = (log_ratio * p.m).sum(-1) / p.m.sum(-1).clamp_min(1.0);
  return torch::exp(seq).unsqueeze(-1);  // [B, 1]
}

// DeepSeek-V3.2 off-policy sequence mask: keep when A >= 0 or the mean
// (sampling - current) log-prob gap is at most the threshold. [B, 1]
torch::Tensor off_policy_keep(const LossInputs& in, const Prepared& p, double threshold) {
  torch::Tensor sampling = in.rollout_logprobs.defined() ? at_active(in.rollout_logprobs, p.active) : p.old;
  torch::Tensor gap = torch::nan_to_num(sampling - p.lp.detach(), 0.0);
  torch::Tensor mean_gap = (gap * p.m).sum(-1, true) / p.m.sum(-1, true).clamp_min(1.0);
  torch::Tensor adv = p.adv.dim() == 2 && p.adv.size(1) > 1 ? p.adv.select(1, 0).unsqueeze(1) : p.adv;
  return ((adv >= 0) | (mean_gap <= threshold)).to(p.m.scalar_type());
}

// Tokens whose entropy is at or above the (1 - q) quantile of the active
// tokens' entropies (TRL get_high_entropy_mask, one rank). [B, T] bool
torch::Tensor high_entropy_mask(const Prepared& p, double quantile) {
  torch::Tensor values = p.entropies.detach().masked_select(p.active).to(torch::kFloat);
  if (values.numel() == 0) return torch::zeros_like(p.active);
  torch::Tensor threshold = torch::quantile(values, 1.0 - quantile);
  return (p.entropies.detach() >= threshold.to(p.entropies.scalar_type())) & p.active;
}

// Rollout/trainer mismatch weight pi_old / pi_rollout, truncated or masked to
// [C_min, C_max]; [B, T] for token modes, [B, 1] for sequence modes. Detached.
torch::Tensor is_weight(const LossInputs& in, const Prepared& p, const LossOptions& o) {
  torch::Tensor rollout = at_active(in.rollout_logprobs.detach(), p.active);
  // NaN = the engine could not score the token: ratio 1 (no correction), as TRL.
  torch::Tensor diff = torch::nan_to_num((p.old - rollout) * p.m, 0.0);
  const bool sequence = o.is_correction.rfind("sequence", 0) == 0;
  torch::Tensor w = torch::exp(sequence ? diff.sum(-1, true) : diff);
  const bool truncate = o.is_correction.find("truncate") != std::string::npos;
  if (truncate) {
    if (o.is_clip_min) w = w.clamp_min(*o.is_clip_min);
    if (o.is_clip_max) w = w.clamp_max(*o.is_clip_max);
    return w;
  }
  torch::Tensor outside = torch::zeros_like(w, torch::kBool);
  if (o.is_clip_min) outside = outside | (w < *o.is_clip_min);
  if (o.is_clip_max) outside = outside | (w > *o.is_clip_max);
  return w.masked_fill(outside, 0.0);
}

double sum_active(const torch::Tensor& x, const Prepared& p) {
  return (x.detach().to(p.m.scalar_type()).expand_as(p.m) * p.m).sum().item<double>();
}

// The micro-batch scalar of each aggregation (grpo-reference.md table).
// DEVIATION: grpo and dr_grpo divide by the step's sequences per rank instead
// of B * GA; both are the same when micro-batches hold equally many
// completions (TRL's case), and ours stays exact with token-budget
// micro-batches of unequal size.
torch::Tensor aggregate(const torch::Tensor& per_token, const Prepared& p, const std::string& loss_type,
                        const StepNormaliser& n) {
  const double ranks = static_cast<double>(n.world_size);
  torch::Tensor summed = per_token * p.m;
  if (loss_type == "grpo") {
    torch::Tensor seq_means = summed.sum(-1) / p.m.sum(-1).clamp_min(1.0);
    return seq_means.sum() / std::max(n.step_sequences / ranks, 1e-12);
  }
  // bnpo: the mean over all micro-batches of the step, all ranks (TRL's ranks
  // hold equally many; ours may not, under token-budget micro-batches).
  if (loss_type == "bnpo")
    return summed.sum() / p.m.sum().clamp_min(1.0) / n.micro_batches_per_rank();
  if (loss_type == "dr_grpo")
    return summed.sum() / std::max(n.step_sequences / ranks * static_cast<double>(n.max_completion_length), 1e-12);
  return summed.sum() / (std::max(n.step_tokens, 1.0) / ranks);  // dapo
}

}  // namespace

LossOptions LossOptions::from_config(const LearnerConfig& c) {
  LossOptions o;
  o.loss_type = c.loss_type;
  o.epsilon_low = c.epsilon;
  o.epsilon_high = c.epsilon_high_or_default();
  o.delta = c.delta;
  o.dual_clip_c = c.dual_clip_c;
  o.importance_sampling_level = c.importance_sampling_level;
  o.is_correction = c.is_correction;
  o.is_clip_min = c.is_clip_min;
  o.is_clip_max = c.is_clip_max;
  o.off_policy_mask_threshold = c.off_policy_mask_threshold;
  o.top_entropy_quantile = c.top_entropy_quantile;
  o.entropy_coef = c.entropy_coef;
  o.beta = c.beta;
  o.kl_estimator = c.kl_estimator;
  o.kl_ratio_correction = c.kl_ratio_correction;
  return o;
}

StepNormaliser StepNormaliser::single(const torch::Tensor& mask, int64_t max_completion_length) {
  StepNormaliser n;
  n.step_tokens = mask.to(torch::kBool).sum().item<double>();
  n.step_sequences = static_cast<double>(mask.size(0));
  n.max_completion_length = max_completion_length;
  return n;
}

void LossMetrics::merge(const LossMetrics& o) {
  loss += o.loss;
  policy_loss += o.policy_loss;
  tokens += o.tokens;
  sequences += o.sequences;
  kl += o.kl;
  entropy += o.entropy;
  clip_low += o.clip_low;
  clip_high += o.clip_high;
  clip_region += o.clip_region;
  dual_clipped += o.dual_clipped;
  is_weight += o.is_weight;
  rollout_gap += o.rollout_gap;
  rollout_gap_max = std::max(rollout_gap_max, o.rollout_gap_max);
  entropy_kept += o.entropy_kept;
  off_policy_masked += o.off_policy_masked;
}

torch::Tensor kl_estimate(const torch::Tensor& logprobs, const torch::Tensor& ref_logprobs, const std::string& estimator) {
  if (estimator == "k1") return logprobs - ref_logprobs;
  if (estimator == "k2") return 0.5 * (logprobs - ref_logprobs).pow(2);
  if (estimator != "k3") fail("kl_estimator must be k1, k2 or k3, got '" + estimator + "'");
  torch::Tensor d = ref_logprobs - logprobs;  // log(pi_ref / pi)
  return torch::exp(d) - d - 1.0;
}

namespace {

// The inputs on the device of the log-probs: the trainer packs old/ref/rollout
// log-probs, advantages and masks on the CPU while the policy may score on a GPU.
LossInputs on_logprobs_device(const LossInputs& in) {
  const torch::Device dev = in.logprobs.device();
  auto move = [&](const torch::Tensor& t) { return t.defined() ? t.to(dev) : t; };
  return LossInputs{in.logprobs, move(in.old_logprobs), move(in.ref_logprobs), move(in.rollout_logprobs),
                    move(in.advantages), move(in.mask), move(in.entropies)};
}

}  // namespace

LossOutput grpo_loss(const LossInputs& in_any_device, const LossOptions& o, const StepNormaliser& norm) {
  const LossInputs in = in_any_device.logprobs.defined() ? on_logprobs_device(in_any_device) : in_any_device;
  validate(in, o);
  const Prepared p = prepare(in);
  LossOutput out;
  LossMetrics& mt = out.metrics;

  // Clipped surrogate: L = -min(rho*A, clamp(rho)*A), delta caps the unclipped side.
  torch::Tensor rho = importance_ratio(p, o.importance_sampling_level);
  torch::Tensor rho_clipped = torch::clamp(rho, 1.0 - o.epsilon_low, 1.0 + o.epsilon_high);
  torch::Tensor rho_capped = o.delta ? torch::clamp_max(rho, *o.delta) : rho;
  torch::Tensor pg = -torch::min(rho_capped * p.adv, rho_clipped * p.adv);
  if (o.dual_clip_c) {  // dual clip (Ye et al. 2020; verl): for A < 0 the loss is at most -c*A
    torch::Tensor bound = -(*o.dual_clip_c) * p.adv;
    torch::Tensor taken = (p.adv < 0) & (pg > bound);
    mt.dual_clipped = sum_active(taken, p);
    pg = torch::where(taken, bound.expand_as(pg), pg);
  }
  if (o.off_policy_mask_threshold) {
    torch::Tensor keep = off_policy_keep(in, p, *o.off_policy_mask_threshold);
    mt.off_policy_masked = (1.0 - keep).sum().item<double>();
    pg = pg * keep;
  }
  torch::Tensor entropy_mask;
  if (o.top_entropy_quantile < 1.0) {
    entropy_mask = high_entropy_mask(p, o.top_entropy_quantile);
    mt.entropy_kept = entropy_mask.sum().item<double>();
    pg = pg * entropy_mask.to(pg.scalar_type());
  }
  if (o.is_correction != "none") {
    torch::Tensor w = is_weight(in, p, o);
    mt.is_weight = sum_active(w, p);
    pg = pg * w;
  }
  torch::Tensor per_token = pg;
  if (o.beta > 0) {
    torch::Tensor kl = kl_estimate(p.lp, at_active(in.ref_logprobs.detach(), p.active), o.kl_estimator);
    mt.kl = sum_active(kl, p);
    if (o.kl_ratio_correction) kl = kl * rho;  // unbiased reverse-KL gradient (DeepSeek-V3.2, TRL default)
    per_token = per_token + o.beta * kl;
  }
  per_token = per_token.expand_as(p.m);
  torch::Tensor loss = aggregate(per_token, p, o.loss_type, norm);
  mt.policy_loss = loss.item<double>();

  // DEVIATION: grpo-reference.md says the entropy bonus is "aggregated like the
  // loss"; we follow TRL 1.16 (the issue asks for TRL's numbers): the mean
  // entropy of the tokens the loss acts on, per micro-batch, divided by GA (micro-batches per rank).
  if (o.entropy_coef != 0.0) {
    torch::Tensor eff = entropy_mask.defined() ? p.m * entropy_mask.to(p.m.scalar_type()) : p.m;
    torch::Tensor bonus = (p.entropies * eff).sum() / eff.sum().clamp_min(1.0) / norm.micro_batches_per_rank();
    loss = loss - o.entropy_coef * bonus;
  }
  out.loss = loss;

  mt.loss = loss.item<double>();
  mt.tokens = p.m.sum().item<double>();
  mt.sequences = static_cast<double>(p.m.size(0));
  if (p.entropies.defined()) mt.entropy = sum_active(p.entropies, p);
  torch::Tensor low = (rho.detach() < 1.0 - o.epsilon_low) & (p.adv < 0);
  torch::Tensor high = (rho.detach() > 1.0 + o.epsilon_high) & (p.adv > 0);
  mt.clip_low = sum_active(low, p);
  mt.clip_high = sum_active(high, p);
  mt.clip_region = sum_active(low | high, p);
  if (in.rollout_logprobs.defined()) {
    torch::Tensor gap = torch::nan_to_num((p.old - at_active(in.rollout_logprobs.detach(), p.active)).abs(), 0.0);
    mt.rollout_gap = sum_active(gap, p);
    mt.rollout_gap_max = mt.tokens > 0 ? gap.masked_select(p.active).max().item<double>() : 0.0;
  }
  return out;
}

}  // namespace grpo::learner
