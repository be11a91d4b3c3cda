// sequence_batch.h: completions of a generation batch as the trainer sees
// them, and their packing into padded [B, T] micro-batch tensors.
//
// Layout of a packed row for a sequence s = prompt + completion of length L:
// inputs  = s[0 .. L-2], targets = s[1 .. L-1], right-padded to T = max L - 1.
// Position t scores targets[t] = s[t+1], so completion token k (0-based) sits
// at position prompt_len - 1 + k; `loss_mask` is 1 exactly there.
#pragma once

#include <cstdint>
#include <vector>

#include <torch/torch.h>

namespace grpo::learner {

// One scored completion, ready for the learner.
struct TrainSequence {
  std::vector<int64_t> tokens;         // prompt followed by completion
  int64_t prompt_len = 0;              // >= 1
  std::vector<float> rollout_logprobs; // one per completion token, or empty when the engine gave none
  bool truncated = false;              // hit the length limit without EOS
  double advantage = 0;                // A_i (from compute_advantages)

  int64_t completion_len() const { return static_cast<int64_t>(tokens.size()) - prompt_len; }
};

// Padded tensors of a micro-batch (rows in the order of `rows`).
struct PackedBatch {
  torch::Tensor inputs;            // [B, T] int64, pad_id after the end
  torch::Tensor targets;           // [B, T] int64
  torch::Tensor attention_mask;    // [B, T] float, 1 on real inputs
  torch::Tensor loss_mask;         // [B, T] float, 1 on completion targets (0 for masked truncated ones)
  torch::Tensor advantages;        // [B] float
  torch::Tensor rollout_logprobs;  // [B, T] float, NaN where unknown; undefined when no row has any
  std::vector<int64_t> rows;       // indices into the generation batch
};

// Micro-batches of `rows` of `batch` within `token_budget` padded tokens (plan_micro_batches on
// the packed lengths, tokens - 1), as indices into `batch`.
std::vector<std::vector<int64_t>> plan_sequence_micro_batches(const std::vector<TrainSequence>& batch,
                                                              const std::vector<int64_t>& rows, int64_t token_budget,
                                                              bool sort_by_length);

// Packs rows of `batch`; mask_truncated gives truncated completions no loss.
PackedBatch pack_sequences(const std::vector<TrainSequence>& batch, const std::vector<int64_t>& rows, int64_t pad_id,
                           bool mask_truncated);

// The completion part of each row of a [B, T] per-position tensor, one 1-D tensor per row.
std::vector<torch::Tensor> unpack_completions(const torch::Tensor& per_position, const std::vector<TrainSequence>& batch,
                                              const std::vector<int64_t>& rows);

// Inverse of unpack_completions: per-row completion values laid out as [B, T] (0 elsewhere).
torch::Tensor pack_completions(const std::vector<torch::Tensor>& values, const std::vector<TrainSequence>& batch,
                               const std::vector<int64_t>& rows, int64_t width);

}  // namespace grpo::learner
