// sequence_batch.cpp: see sequence_batch.h.
#include "learner/sequence_batch.h"

#include <algorithm>
#include <limits>

#include "core/error.h"
#include "learner/micro_batches.h"

namespace grpo::learner {

std::vector<std::vector<int64_t>> plan_sequence_micro_batches(const std::vector<TrainSequence>& batch,
                                                              const std::vector<int64_t>& rows, int64_t token_budget,
                                                              bool sort_by_length) {
  std::vector<int64_t> lengths;
  for (int64_t r : rows) lengths.push_back(static_cast<int64_t>(batch[static_cast<size_t>(r)].tokens.size()) - 1);
  auto plan = plan_micro_batches(lengths, token_budget, sort_by_length);
  for (auto& mb : plan)
    for (auto& i : mb) i = rows[static_cast<size_t>(i)];
  return plan;
}

PackedBatch pack_sequences(const std::vector<TrainSequence>& batch, const std::vector<int64_t>& rows, int64_t pad_id,
                           bool mask_truncated) {
  PackedBatch p;
  p.rows = rows;
  const int64_t b = static_cast<int64_t>(rows.size());
  int64_t width = 1;
  bool any_rollout = false;
  for (int64_t r : rows) {
    const auto& s = batch[static_cast<size_t>(r)];
    if (s.prompt_len < 1 || s.completion_len() < 0)
      throw Error("pack_sequences: sequence " + std::to_string(r) + " has prompt_len " + std::to_string(s.prompt_len) +
                  " of " + std::to_string(s.tokens.size()) + " tokens; every sequence needs a prompt of >= 1 token");
    width = std::max<int64_t>(width, static_cast<int64_t>(s.tokens.size()) - 1);
    any_rollout = any_rollout || !s.rollout_logprobs.empty();
  }
  std::vector<int64_t> in(static_cast<size_t>(b * width), pad_id), tg(static_cast<size_t>(b * width), pad_id);
  std::vector<float> att(static_cast<size_t>(b * width), 0.f), lm(static_cast<size_t>(b * width), 0.f), adv(static_cast<size_t>(b));
  std::vector<float> roll(any_rollout ? static_cast<size_t>(b * width) : 0, std::numeric_limits<float>::quiet_NaN());
  for (int64_t i = 0; i < b; ++i) {
    const auto& s = batch[static_cast<size_t>(rows[static_cast<size_t>(i)])];
    const int64_t len = static_cast<int64_t>(s.tokens.size());
    for (int64_t t = 0; t + 1 < len; ++t) {
      const size_t at = static_cast<size_t>(i * width + t);
      in[at] = s.tokens[static_cast<size_t>(t)];
      tg[at] = s.tokens[static_cast<size_t>(t + 1)];
      att[at] = 1.f;
      const int64_t k = t - (s.prompt_len - 1);  // completion token index of this target
      if (k >= 0) {
        lm[at] = (mask_truncated && s.truncated) ? 0.f : 1.f;
        if (k < static_cast<int64_t>(s.rollout_logprobs.size())) roll[at] = s.rollout_logprobs[static_cast<size_t>(k)];
      }
    }
    adv[static_cast<size_t>(i)] = static_cast<float>(s.advantage);
  }
  p.inputs = torch::tensor(in).reshape({b, width});
  p.targets = torch::tensor(tg).reshape({b, width});
  p.attention_mask = torch::tensor(att).reshape({b, width});
  p.loss_mask = torch::tensor(lm).reshape({b, width});
  p.advantages = torch::tensor(adv);
  if (any_rollout) p.rollout_logprobs = torch::tensor(roll).reshape({b, width});
  return p;
}

std::vector<torch::Tensor> unpack_completions(const torch::Tensor& per_position, const std::vector<TrainSequence>& batch,
                                              const std::vector<int64_t>& rows) {
  std::vector<torch::Tensor> out;
  for (size_t i = 0; i < rows.size(); ++i) {
    const auto& s = batch[static_cast<size_t>(rows[i])];
    out.push_back(per_position[static_cast<int64_t>(i)].slice(0, s.prompt_len - 1, s.prompt_len - 1 + s.completion_len()).clone());
  }
  return out;
}

torch::Tensor pack_completions(const std::vector<torch::Tensor>& values, const std::vector<TrainSequence>& batch,
                               const std::vector<int64_t>& rows, int64_t width) {
  // On the values' device: old/ref log-probs scored on a GPU stay there.
  auto options = rows.empty() ? torch::TensorOptions(torch::kFloat) : values.at(static_cast<size_t>(rows[0])).options();
  torch::Tensor out = torch::zeros({static_cast<int64_t>(rows.size()), width}, options);
  for (size_t i = 0; i < rows.size(); ++i) {
    const auto& s = batch[static_cast<size_t>(rows[i])];
    out[static_cast<int64_t>(i)].slice(0, s.prompt_len - 1, s.prompt_len - 1 + s.completion_len()).copy_(values[static_cast<size_t>(rows[i])]);
  }
  return out;
}

}  // namespace grpo::learner
