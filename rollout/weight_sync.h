// weight_sync.h: moving a version of the policy weights from the orchestrator
// to workers in checksummed chunks, and applying it only when complete.
//
//   // publisher
//   auto messages = weight_messages(/*version=*/3, published_tensors(*model, /*bf16_on_wire=*/false), /*chunk_bytes=*/4 << 20);
//   // receiver
//   WeightAssembler assembler("orchestrator");
//   for (auto& m : incoming) if (auto set = assembler.feed(m)) apply_weights(*model, *set);
//
// A version is a weights_begin (tensor list, chunk count) and its chunks; a
// chunk holds byte ranges ("pieces") of tensors, one frame each, every frame
// covered by the wire CRC. The assembler keeps one version in progress: a
// begin of a newer version drops an incomplete older one; chunks of any other
// version, duplicates and out-of-range pieces are rejected (ProtocolError).
// Nothing is returned, and nothing applied, until every chunk has arrived.
// Not thread-safe.
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/wire_message.h"

namespace grpo::policies {
class CausalLM;
}

namespace grpo::rollout {

using NamedTensors = std::vector<std::pair<std::string, torch::Tensor>>;

struct WeightSet {
  int64_t version = -1;
  NamedTensors tensors;
};

// The model's checkpoint tensors as published to workers. With `bf16_on_wire`
// its floating-point parameters travel as bf16 (half of fp32's bytes), and a
// worker's apply_weights copies them back into its own dtype, so it holds the
// bf16-rounded weights; buffers (MoE routing biases) keep their dtype. The
// recipe key is rollout.weight_wire_dtype.
NamedTensors published_tensors(const policies::CausalLM& model, bool bf16_on_wire);

// weights_begin followed by the chunks of `version`.
std::vector<WireMessage> weight_messages(int64_t version, const NamedTensors& tensors, int64_t chunk_bytes);

class WeightAssembler {
 public:
  explicit WeightAssembler(std::string peer) : peer_(std::move(peer)) {}
  // Takes a weights_begin or weights_chunk; returns the version it completed.
  // Throws ProtocolError for a malformed or unexpected message (state unchanged
  // for a stray chunk; a malformed begin leaves no version in progress).
  std::optional<WeightSet> feed(const WireMessage& message);
  // Newest version completed so far (-1 before any).
  int64_t newest_complete() const { return newest_complete_; }
  int64_t in_progress() const { return version_; }

 private:
  std::optional<WeightSet> begin(const WireMessage& m);
  std::optional<WeightSet> chunk(const WireMessage& m);
  WeightSet complete();

  std::string peer_;
  int64_t version_ = -1;  // in progress, -1 none
  int64_t newest_complete_ = -1;
  std::vector<nlohmann::json> metas_;
  std::vector<std::string> buffers_;
  std::vector<bool> received_;
  int64_t missing_ = 0;
};

// Copies a complete set into the model's parameters and buffers by name,
// converting a floating-point tensor to the model's floating dtype (a bf16
// wire). Checks first that names and shapes match and that dtypes match or are
// both floating point, so a mismatch (grpo::Error listing the first
// differences) leaves the model untouched.
void apply_weights(policies::CausalLM& model, const WeightSet& weights);

}  // namespace grpo::rollout
