// grpo_trainer.cpp: see grpo_trainer.h. One optimizer step reads top to
// bottom: plan micro-batches, normaliser of the whole step, per micro-batch
// (pack, score, loss, backward), guarded optimizer step, routing bias, reference.
#include "learner/grpo_trainer.h"

#include <chrono>
#include <cmath>

#include "core/error.h"
#include "core/log.h"
#include "learner/internal/micro_batch_backward.h"

namespace grpo::learner {
namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

// Micro-batches of `rows` as global row indices.
std::vector<std::vector<int64_t>> plan_rows(const std::vector<TrainSequence>& batch, const std::vector<int64_t>& rows,
                                            const LearnerConfig& c) {
  return plan_sequence_micro_batches(batch, rows, c.micro_batch_tokens, c.sort_by_length);
}

bool needs_old_logprobs(const LearnerConfig& c) {
  return c.num_iterations > 1 || c.steps_per_generation > 1 || c.is_correction != "none";
}

// The step's metrics over all ranks: sums, except the loss (the ranks'
// losses are averaged, as their gradients) and the largest gap.
LossMetrics all_ranks(const LossMetrics& m, DataParallel& dp) {
  auto s = dp.all_reduce({m.loss, m.policy_loss, m.tokens, m.sequences, m.kl, m.entropy, m.clip_low, m.clip_high,
                          m.clip_region, m.dual_clipped, m.is_weight, m.rollout_gap, m.entropy_kept, m.off_policy_masked},
                         Reduce::kSum);
  const double w = static_cast<double>(dp.world_size());
  LossMetrics o;
  o.loss = s[0] / w;
  o.policy_loss = s[1] / w;
  o.tokens = s[2];
  o.sequences = s[3];
  o.kl = s[4];
  o.entropy = s[5];
  o.clip_low = s[6];
  o.clip_high = s[7];
  o.clip_region = s[8];
  o.dual_clipped = s[9];
  o.is_weight = s[10];
  o.rollout_gap = s[11];
  o.entropy_kept = s[12];
  o.off_policy_masked = s[13];
  o.rollout_gap_max = dp.all_reduce({m.rollout_gap_max}, Reduce::kMax)[0];
  return o;
}

}  // namespace

TrainablePolicy TrainablePolicy::from_causal_lm(std::shared_ptr<policies::CausalLM> model, double temperature,
                                                const LearnerConfig& config) {
  return from_causal_lm(std::move(model), temperature, config.logprob_chunk_tokens, config.seq_balance_loss_alpha,
                        config.gradient_checkpointing);
}

TrainablePolicy TrainablePolicy::from_causal_lm(std::shared_ptr<policies::CausalLM> model, double temperature,
                                                int64_t chunk_tokens, double seq_balance_alpha, bool gradient_checkpointing) {
  TrainablePolicy p;
  model->set_sequence_balance_alpha(seq_balance_alpha);
  model->set_gradient_checkpointing(gradient_checkpointing);
  p.score = [model, temperature, chunk_tokens](const torch::Tensor& inputs, const torch::Tensor& targets,
                                               const torch::Tensor& attention_mask, const torch::Tensor& score_mask,
                                               bool with_entropy) {
    return model->token_scores(inputs, targets, attention_mask, temperature, chunk_tokens, with_entropy, score_mask);
  };
  p.parameters = [model] { return model->parameters(); };
  p.clone = [model, temperature, chunk_tokens] {
    auto copy = model->clone_model();
    for (auto& t : copy->parameters()) t.set_requires_grad(false);
    copy->eval();
    return from_causal_lm(copy, temperature, chunk_tokens);
  };
  p.expert_loads = [model] { return model->expert_load_counts(); };
  p.after_step = [model](double gamma) {
    if (gamma > 0) model->update_routing_bias(gamma);
  };
  if (seq_balance_alpha > 0) p.aux_loss = [model] { return model->balance_loss(); };
  return p;
}

GrpoTrainer::GrpoTrainer(TrainablePolicy policy, const LearnerConfig& config, int64_t pad_id, int64_t max_completion_length)
    : policy_(std::move(policy)),
      config_(config),
      loss_options_(LossOptions::from_config(config)),
      pad_id_(pad_id),
      max_completion_length_(max_completion_length) {
  optimizer_ = std::make_unique<Optimizer>(policy_.parameters(), OptimizerOptions::from_config(config));
  // beta = 0 holds no reference at all (grpo-reference.md).
  if (config_.beta > 0) reference_ = std::make_unique<TrainablePolicy>(policy_.clone());
}

void GrpoTrainer::set_data_parallel(std::shared_ptr<DataParallel> dp) {
  dp_ = std::move(dp);
  if (!dp_) return;
  dp_->broadcast_parameters(policy_.parameters());
  if (reference_) dp_->broadcast_parameters(reference_->parameters());
}

std::vector<int64_t> GrpoTrainer::this_rank_share(const std::vector<int64_t>& rows) const {
  if (!dp_) return rows;
  const int64_t n = static_cast<int64_t>(rows.size()), w = dp_->world_size(), r = dp_->rank();
  return std::vector<int64_t>(rows.begin() + r * n / w, rows.begin() + (r + 1) * n / w);
}

std::vector<torch::Tensor> GrpoTrainer::score_completions(const TrainablePolicy& p, const std::vector<TrainSequence>& batch,
                                                          const std::vector<int64_t>& all) {
  torch::NoGradGuard no_grad;
  std::vector<torch::Tensor> out(batch.size());
  if (all.empty()) return out;
  for (const auto& rows : plan_rows(batch, all, config_)) {
    PackedBatch pk = pack_sequences(batch, rows, pad_id_, false);
    auto scores = p.score(pk.inputs, pk.targets, pk.attention_mask, pk.loss_mask, false);
    auto per_row = unpack_completions(scores.logprobs, batch, rows);
    for (size_t i = 0; i < rows.size(); ++i) out[static_cast<size_t>(rows[i])] = per_row[i];
  }
  return out;
}

std::vector<StepMetrics> GrpoTrainer::train_on_generation(const std::vector<TrainSequence>& batch) {
  if (batch.empty()) throw Error("GrpoTrainer: empty generation batch");
  // steps_per_generation contiguous mini-batches, each one optimizer step;
  // each rank trains on (and scores) its share of every mini-batch.
  const int64_t n = static_cast<int64_t>(batch.size());
  const int64_t parts = std::min<int64_t>(config_.steps_per_generation, n);
  std::vector<std::vector<int64_t>> shares;
  std::vector<int64_t> mine;
  for (int64_t k = 0; k < parts; ++k) {
    std::vector<int64_t> rows;
    for (int64_t i = k * n / parts; i < (k + 1) * n / parts; ++i) rows.push_back(i);
    shares.push_back(this_rank_share(rows));
    mine.insert(mine.end(), shares.back().begin(), shares.back().end());
  }
  auto t0 = Clock::now();
  std::vector<torch::Tensor> old_lp, ref_lp;
  if (needs_old_logprobs(config_)) {
    if (config_.old_logprobs == "rollout") {
      for (const auto& s : batch) {
        if (static_cast<int64_t>(s.rollout_logprobs.size()) != s.completion_len())
          throw Error("GrpoTrainer: learner.old_logprobs = rollout but a completion has " +
                      std::to_string(s.rollout_logprobs.size()) + " rollout log-probs for " +
                      std::to_string(s.completion_len()) + " tokens; set old_logprobs = learner");
        old_lp.push_back(torch::tensor(s.rollout_logprobs));
      }
    } else {
      old_lp = score_completions(policy_, batch, mine);
    }
  }
  const double old_s = seconds_since(t0);
  t0 = Clock::now();
  if (reference_) ref_lp = score_completions(*reference_, batch, mine);
  const double ref_s = seconds_since(t0);

  std::vector<StepMetrics> out;
  for (int it = 0; it < config_.num_iterations; ++it) {
    for (const auto& rows : shares) {
      StepMetrics m = optimizer_step(batch, rows, old_lp, ref_lp);
      m.values["time/old_logprobs_s"] = old_s;
      m.values["time/ref_logprobs_s"] = ref_s;
      out.push_back(std::move(m));
    }
  }
  return out;
}

StepMetrics GrpoTrainer::optimizer_step(const std::vector<TrainSequence>& batch, const std::vector<int64_t>& rows,
                                        const std::vector<torch::Tensor>& old_lp, const std::vector<torch::Tensor>& ref_lp) {
  const auto t0 = Clock::now();
  const auto plan = plan_rows(batch, rows, config_);
  // The normaliser needs the whole step: active tokens, sequences, L_max.
  StepNormaliser norm;
  norm.micro_batches = static_cast<int64_t>(plan.size());
  norm.step_sequences = static_cast<double>(rows.size());
  norm.step_tokens = 0;
  int64_t longest = 0, padded = 0, real = 0;
  for (int64_t r : rows) {
    const auto& s = batch[static_cast<size_t>(r)];
    if (!(config_.mask_truncated_completions && s.truncated)) norm.step_tokens += static_cast<double>(s.completion_len());
    longest = std::max(longest, s.completion_len());
    real += static_cast<int64_t>(s.tokens.size()) - 1;
  }
  if (dp_) {  // the step's counts over all ranks
    norm.world_size = dp_->world_size();
    auto sums = dp_->all_reduce({norm.step_sequences, norm.step_tokens, static_cast<double>(norm.micro_batches)}, Reduce::kSum);
    norm.step_sequences = sums[0];
    norm.step_tokens = sums[1];
    norm.micro_batches = static_cast<int64_t>(sums[2]);
    longest = static_cast<int64_t>(dp_->all_reduce({static_cast<double>(longest)}, Reduce::kMax)[0]);
  }
  norm.max_completion_length = max_completion_length_ > 0 ? max_completion_length_ : std::max<int64_t>(longest, 1);

  LossMetrics lm;
  bool finite = true;
  for (const auto& mb : plan) {
    PackedBatch pk = pack_sequences(batch, mb, pad_id_, config_.mask_truncated_completions);
    padded += pk.inputs.numel();
    const int64_t width = pk.inputs.size(1);
    auto scores = policy_.score(pk.inputs, pk.targets, pk.attention_mask, pk.loss_mask, /*with_entropy=*/true);
    LossInputs in;
    in.logprobs = scores.logprobs;
    in.entropies = loss_options_.entropy_coef > 0 ? scores.entropies : scores.entropies.detach();
    if (!old_lp.empty()) in.old_logprobs = pack_completions(old_lp, batch, mb, width);
    if (!ref_lp.empty()) in.ref_logprobs = pack_completions(ref_lp, batch, mb, width);
    in.rollout_logprobs = pk.rollout_logprobs;
    in.advantages = pk.advantages;
    in.mask = pk.loss_mask;
    LossOutput lo = grpo_loss(in, loss_options_, norm);
    if (!detail::backward_micro_batch(policy_, *optimizer_, lo.loss, plan.size())) finite = false;
    lm.merge(lo.metrics);
  }
  if (dp_) {
    // One rank's non-finite loss skips the step on all ranks (their gradients are one sum).
    finite = dp_->all_reduce({finite ? 1.0 : 0.0}, Reduce::kMin)[0] > 0;
    // The gradients sit on the optimizer's float32 masters (the parameters themselves in float32).
    if (finite) dp_->average_gradients(optimizer_->master_weights());
    lm = all_ranks(lm, *dp_);
  }
  StepReport report = optimizer_->step(finite);
  if (report.applied && policy_.after_step) {
    // The routing-bias update reads the expert loads of the whole step, all ranks.
    if (dp_ && policy_.expert_loads) dp_->sum_in_place(policy_.expert_loads());
    policy_.after_step(config_.routing_bias_gamma);
  }
  ++steps_done_;
  maybe_sync_reference();

  const double train_s = seconds_since(t0);
  StepMetrics m;
  auto& v = m.values;
  v["loss"] = lm.loss;
  v["policy_loss"] = lm.policy_loss;
  v["grad_norm"] = report.grad_norm;
  v["learning_rate"] = report.lr;
  v["step_applied"] = report.applied ? 1.0 : 0.0;
  v["steps_skipped"] = static_cast<double>(optimizer_->steps_skipped());
  v["entropy"] = lm.mean_per_token(lm.entropy);
  if (config_.beta > 0) v["kl"] = lm.mean_per_token(lm.kl);
  v["clip_ratio/low_mean"] = lm.mean_per_token(lm.clip_low);
  v["clip_ratio/high_mean"] = lm.mean_per_token(lm.clip_high);
  v["clip_ratio/region_mean"] = lm.mean_per_token(lm.clip_region);
  if (lm.rollout_gap_max > 0 || lm.rollout_gap > 0) {
    v["rollout_logprob_gap/mean"] = lm.mean_per_token(lm.rollout_gap);
    v["rollout_logprob_gap/max"] = lm.rollout_gap_max;
  }
  v["tokens/completion"] = lm.tokens;
  v["tokens/padded"] = static_cast<double>(padded);
  v["padding_ratio"] = padded > 0 ? 1.0 - static_cast<double>(real) / static_cast<double>(padded) : 0.0;
  v["micro_batches"] = static_cast<double>(plan.size());  // of this rank
  v["learner/ranks"] = dp_ ? static_cast<double>(dp_->world_size()) : 1.0;
  v["time/train_s"] = train_s;
  v["tokens_per_s/train"] = train_s > 0 ? static_cast<double>(real) / train_s : 0.0;
  GRPO_LOG_DEBUG("learner", "step " << steps_done_ << " loss " << lm.loss << " grad_norm " << report.grad_norm
                                    << " lr " << report.lr << (report.applied ? "" : " (skipped)"));
  return m;
}

void GrpoTrainer::maybe_sync_reference() {
  if (!reference_ || config_.ref_sync_steps <= 0 || steps_done_ % config_.ref_sync_steps != 0) return;
  torch::NoGradGuard no_grad;
  auto ref = reference_->parameters();
  auto cur = policy_.parameters();
  const double a = config_.ref_mix_alpha;
  for (size_t i = 0; i < ref.size() && i < cur.size(); ++i) ref[i].mul_(1.0 - a).add_(cur[i].detach(), a);
}

}  // namespace grpo::learner
