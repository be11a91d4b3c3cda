// gguf_import.h: a Llama-architecture GGUF file (general.architecture
// "llama": Llama 2/3, SmolLM2, TinyLlama, ...) converted to a Hugging Face
// checkpoint directory that CausalLM::load and transformers both read
// (`grpo model import-gguf`):
//   config.json, generation_config.json  from the llama.* metadata
//   model.safetensors                    tensors dequantised to fp32 (see
//                                        gguf_dequant.h), renamed to HF names,
//                                        q/k rows un-permuted (below)
//   tokenizer.json, tokenizer_config.json from tokenizer.ggml.* (gguf_tokenizer.h),
//                                        with the chat template when present
// llama.cpp's converter reorders the rows of attn_q/attn_k from HF's
// rotate-half RoPE layout to ggml's interleaved one, per head:
// w.reshape(H, 2, D/2, in).swapaxes(1, 2); the import undoes it exactly as
// transformers' GGUF loader does: w.reshape(H, D/2, 2, in).swapaxes(1, 2),
// with H = num_key_value_heads for attn_k.
//
//   GgufImportResult r = import_gguf("SmolLM2-135M-Instruct.Q4_1.gguf", "models/smollm2");
//
// Errors (grpo::IoError/Error) name the file and the key or tensor: another
// architecture, RoPE scaling or tensor the Llama model lacks, an unsupported
// quantisation type (names the tensor and the type).
#pragma once

#include <torch/torch.h>

#include <map>
#include <string>

#include "policies/gguf.h"
#include "policies/model_config.h"

namespace grpo::policies {

struct GgufImportOptions {
  torch::ScalarType dtype = torch::kFloat;  // on-disk dtype of the safetensors (kFloat, kBFloat16, kHalf)
};

// What an import wrote.
struct GgufImportResult {
  ModelConfig config;
  std::map<std::string, int64_t> tensor_types;  // ggml type name -> tensors of that type in the file
  bool tokenizer = false;                       // tokenizer.json written
  bool chat_template = false;                   // tokenizer_config.json carries a chat template
};

// The HF LlamaConfig the llama.* metadata describes (vocab from the token
// list, tie_word_embeddings when the file has no output.weight).
ModelConfig gguf_llama_config(const GgufFile& file);

// Every tensor of the file, dequantised to fp32, under its HF name, q/k
// un-permuted. Throws naming any tensor the Llama model has no place for.
std::map<std::string, torch::Tensor> gguf_llama_tensors(const GgufFile& file, const ModelConfig& config);

// Converts `gguf_path` into the checkpoint directory `out_dir` (created).
GgufImportResult import_gguf(const std::string& gguf_path, const std::string& out_dir, const GgufImportOptions& options = {});

}  // namespace grpo::policies
