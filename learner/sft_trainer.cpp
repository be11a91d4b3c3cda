// sft_trainer.cpp: see sft_trainer.h. One step reads top to bottom: plan
// micro-batches, count the step's targets, per micro-batch (pack, score, loss,
// backward), guarded optimizer step, routing bias.
#include "learner/sft_trainer.h"

#include <chrono>
#include <cmath>

#include "core/error.h"
#include "learner/internal/micro_batch_backward.h"
#include "learner/sft_loss.h"

namespace grpo::learner {

SftTrainer::SftTrainer(TrainablePolicy policy, const LearnerConfig& config, int64_t pad_id)
    : policy_(std::move(policy)), config_(config), pad_id_(pad_id) {
  optimizer_ = std::make_unique<Optimizer>(policy_.parameters(), OptimizerOptions::from_config(config));
}

StepMetrics SftTrainer::step(const std::vector<TrainSequence>& batch) {
  const auto t0 = std::chrono::steady_clock::now();
  std::vector<int64_t> rows(batch.size());
  double step_tokens = 0;
  int64_t real = 0;
  for (size_t i = 0; i < batch.size(); ++i) {
    rows[i] = static_cast<int64_t>(i);
    step_tokens += static_cast<double>(batch[i].completion_len());
    real += static_cast<int64_t>(batch[i].tokens.size()) - 1;
  }
  if (step_tokens <= 0) throw Error("SftTrainer: the batch has no target token (every sequence is all prompt)");
  const auto plan = plan_sequence_micro_batches(batch, rows, config_.micro_batch_tokens, config_.sort_by_length);

  double nll = 0;
  int64_t padded = 0;
  bool finite = true;
  for (const auto& mb : plan) {
    PackedBatch pk = pack_sequences(batch, mb, pad_id_, /*mask_truncated=*/false);
    padded += pk.inputs.numel();
    auto scores = policy_.score(pk.inputs, pk.targets, pk.attention_mask, pk.loss_mask, /*with_entropy=*/false);
    SftLossOutput lo = sft_loss(scores.logprobs, pk.loss_mask, step_tokens);
    if (!detail::backward_micro_batch(policy_, *optimizer_, lo.loss, plan.size())) finite = false;
    nll += lo.nll_sum;
  }
  StepReport report = optimizer_->step(finite);
  if (report.applied && policy_.after_step) policy_.after_step(config_.routing_bias_gamma);

  const double train_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  StepMetrics m;
  auto& v = m.values;
  v["loss"] = nll / step_tokens;
  v["grad_norm"] = report.grad_norm;
  v["learning_rate"] = report.lr;
  v["step_applied"] = report.applied ? 1.0 : 0.0;
  v["steps_skipped"] = static_cast<double>(optimizer_->steps_skipped());
  v["tokens/target"] = step_tokens;
  v["tokens/padded"] = static_cast<double>(padded);
  v["micro_batches"] = static_cast<double>(plan.size());
  v["time/train_s"] = train_s;
  v["tokens_per_s/train"] = train_s > 0 ? static_cast<double>(real) / train_s : 0.0;
  return m;
}

}  // namespace grpo::learner
