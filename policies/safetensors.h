// safetensors.h: reading and writing the safetensors format and Hugging Face
// checkpoint layouts (single model.safetensors or shards + index.json).
// Validation follows the reference reader (shared/docs/model-reference.md §4):
// every failure names the file and, when it applies, the tensor.
#pragma once

#include <torch/torch.h>

#include <map>
#include <string>
#include <vector>

namespace grpo::policies {

// All tensors of one .safetensors file, converted to `dtype` when it is a
// floating type (kFloat default; pass torch::kUndefined... i.e. keep_dtype=true
// to keep the on-disk dtype). Throws IoError on truncated files, bad headers,
// overlapping/holey offsets and unknown dtypes.
std::map<std::string, torch::Tensor> read_safetensors(const std::string& path, bool keep_dtype = false);

// Writes tensors (contiguous copies, little-endian) with {"format":"pt"} metadata,
// 8-byte aligned header, tensors sorted by name.
void write_safetensors(const std::string& path, const std::map<std::string, torch::Tensor>& tensors);

// A checkpoint directory: model.safetensors, or model.safetensors.index.json
// plus the shards it names. Every name must be present exactly once.
std::map<std::string, torch::Tensor> read_checkpoint_tensors(const std::string& dir, bool keep_dtype = false);

// Writes model.safetensors, or shards of at most `max_shard_bytes` plus
// model.safetensors.index.json when max_shard_bytes > 0 and the total exceeds it.
void write_checkpoint_tensors(const std::string& dir, const std::map<std::string, torch::Tensor>& tensors,
                              int64_t max_shard_bytes = 0);

// "BF16" <-> kBFloat16, etc.; unknown strings throw (caller names the file).
torch::ScalarType safetensors_dtype(const std::string& name);
std::string safetensors_dtype_name(torch::ScalarType type);

}  // namespace grpo::policies
