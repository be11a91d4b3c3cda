// gguf.h: reading GGUF files, llama.cpp's single-file model format (versions 2
// and 3, little-endian): the header, the metadata key/values, the tensor infos
// and the aligned data section, with tensors dequantised to fp32 on request.
//
//   GgufFile f = GgufFile::open("SmolLM2-135M-Instruct.Q4_1.gguf");
//   std::string arch = f.get_string("general.architecture");   // "llama"
//   torch::Tensor w = f.read_tensor("blk.0.attn_q.weight");      // [576,576] fp32
//
// Layout (ggml's gguf.c): magic "GGUF", u32 version, u64 tensor count, u64
// metadata count; each metadata entry is a string key, a u32 value type and the
// value (strings are u64 length + bytes; arrays are u32 element type + u64
// count + elements); each tensor info is a string name, u32 dimension count,
// u64 dims (ne[0] first: the fastest-varying, i.e. a row's length), u32 ggml
// type and u64 offset relative to the data section, which starts at the next
// multiple of `general.alignment` (default 32) after the infos.
// Every structural problem (truncation, bad magic/version, unknown types,
// offsets outside the file or misaligned, rows not a whole number of blocks)
// throws grpo::IoError naming the file and, where it applies, the tensor or key.
// Immutable after open(); read_tensor() opens its own stream, so const methods
// may be called from several threads.
#pragma once

#include <torch/torch.h>

#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace grpo::policies {

// One tensor's entry in the GGUF header.
struct GgufTensorInfo {
  std::string name;
  std::vector<int64_t> dims;  // GGUF order: dims[0] is the row length (fastest-varying)
  uint32_t type = 0;          // ggml type id (see ggml_type_name)
  uint64_t offset = 0;        // absolute byte offset of the data in the file
  uint64_t bytes = 0;         // size of the data in the file
  // The PyTorch shape: dims reversed (ggml [576, 49152] is torch [49152, 576]).
  std::vector<int64_t> torch_shape() const { return {dims.rbegin(), dims.rend()}; }
  int64_t numel() const;
};

class GgufFile {
 public:
  // Reads and validates everything but the tensor data. Throws IoError.
  static GgufFile open(const std::string& path);

  const std::string& path() const { return path_; }
  uint32_t version() const { return version_; }
  uint64_t alignment() const { return alignment_; }
  uint64_t data_offset() const { return data_offset_; }

  // Metadata: key -> value; integers, floats, bools and strings as JSON scalars,
  // arrays as JSON arrays (nested arrays allowed).
  const nlohmann::json& metadata() const { return metadata_; }
  bool has(const std::string& key) const { return metadata_.contains(key); }
  // Typed lookups; the throwing forms name the file and the key when it is
  // missing or of another type.
  std::string get_string(const std::string& key) const;
  int64_t get_int(const std::string& key) const;
  int64_t get_int(const std::string& key, int64_t fallback) const;
  double get_float(const std::string& key, double fallback) const;
  bool get_bool(const std::string& key, bool fallback) const;
  const nlohmann::json& get_array(const std::string& key) const;

  const std::vector<GgufTensorInfo>& tensors() const { return tensors_; }
  const GgufTensorInfo* find_tensor(const std::string& name) const;
  // The tensor's values as fp32 in its torch shape. Throws grpo::Error naming
  // the tensor and its type when the type cannot be dequantised (see
  // gguf_dequant.h for the supported types).
  torch::Tensor read_tensor(const std::string& name) const;
  torch::Tensor read_tensor(const GgufTensorInfo& info) const;

 private:
  std::string path_;
  uint32_t version_ = 0;
  uint64_t alignment_ = 32;
  uint64_t data_offset_ = 0;
  nlohmann::json metadata_ = nlohmann::json::object();
  std::vector<GgufTensorInfo> tensors_;
};

}  // namespace grpo::policies
