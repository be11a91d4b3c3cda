// tensor_codec.h: tensors to and from bytes for wire messages: a JSON
// description (name, dtype, shape) plus the raw little-endian contents.
//
//   nlohmann::json meta = tensor_meta("layers.0.w", t);
//   std::string bytes = tensor_bytes(t);                  // contiguous CPU copy
//   torch::Tensor u = decode_tensor(meta, bytes, "orchestrator");  // ProtocolError if inconsistent
//
// Stateless and thread-safe.
#pragma once

#include <torch/torch.h>

#include <optional>
#include <string>

#include <nlohmann/json.hpp>

namespace grpo {

// "float32", "bfloat16", "float16", "float64", "int64", "int32", "int8", "uint8", "bool".
std::string dtype_name(torch::ScalarType dtype);
// Inverse of dtype_name; nullopt for an unknown name.
std::optional<torch::ScalarType> parse_dtype(const std::string& name);

// {"name": name, "dtype": ..., "shape": [...]}.
nlohmann::json tensor_meta(const std::string& name, const torch::Tensor& tensor);
// The tensor's contents, row-major, as bytes (copied to the CPU if needed).
std::string tensor_bytes(const torch::Tensor& tensor);
// Rebuilds a CPU tensor; checks the meta's fields and that the byte count
// equals numel * element size. `peer` names the sender in errors.
torch::Tensor decode_tensor(const nlohmann::json& meta, const std::string& bytes, const std::string& peer);
// Number of bytes a tensor with this meta holds; throws ProtocolError when the meta is malformed.
int64_t meta_byte_size(const nlohmann::json& meta, const std::string& peer);

}  // namespace grpo
