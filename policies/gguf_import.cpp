// gguf_import.cpp: Llama GGUF -> Hugging Face checkpoint directory.
#include "policies/gguf_import.h"

#include <filesystem>
#include <fstream>
#include <regex>

#include "core/error.h"
#include "policies/causal_lm.h"
#include "policies/gguf_dequant.h"
#include "policies/gguf_tokenizer.h"

namespace grpo::policies {

namespace fs = std::filesystem;

namespace {

// llama.cpp's per-block tensor names (gguf-py tensor_mapping.py, LLAMA) and
// the HF names after "model.layers.N.".
const std::pair<const char*, const char*> kBlockNames[] = {
    {"attn_norm.weight", "input_layernorm.weight"},     {"ffn_norm.weight", "post_attention_layernorm.weight"},
    {"attn_q.weight", "self_attn.q_proj.weight"},       {"attn_k.weight", "self_attn.k_proj.weight"},
    {"attn_v.weight", "self_attn.v_proj.weight"},       {"attn_output.weight", "self_attn.o_proj.weight"},
    {"ffn_gate.weight", "mlp.gate_proj.weight"},        {"ffn_up.weight", "mlp.up_proj.weight"},
    {"ffn_down.weight", "mlp.down_proj.weight"},
};

const std::pair<const char*, const char*> kGlobalNames[] = {
    {"token_embd.weight", "model.embed_tokens.weight"},
    {"output_norm.weight", "model.norm.weight"},
    {"output.weight", "lm_head.weight"},
};

// Undoes llama.cpp's q/k row permutation (see gguf_import.h).
torch::Tensor unpermute_rows(const torch::Tensor& w, int64_t heads) {
  const int64_t half = w.size(0) / heads / 2;
  return w.reshape({heads, half, 2, w.size(1)}).transpose(1, 2).reshape(w.sizes()).contiguous();
}

void write_text(const fs::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary);
  out << text << "\n";
  if (!out) throw IoError(path.string(), "cannot write");
}

}  // namespace

ModelConfig gguf_llama_config(const GgufFile& f) {
  const std::string arch = f.get_string("general.architecture");
  if (arch != "llama")
    throw IoError(f.path(), "general.architecture: '" + arch + "' is not supported by import-gguf (supported: llama)");
  auto key = [](const std::string& name) { return "llama." + name; };
  ModelConfig c;
  c.model_type = "llama";
  c.hidden_size = f.get_int(key("embedding_length"));
  c.intermediate_size = f.get_int(key("feed_forward_length"));
  c.num_hidden_layers = f.get_int(key("block_count"));
  c.num_attention_heads = f.get_int(key("attention.head_count"));
  c.num_key_value_heads = f.get_int(key("attention.head_count_kv"), c.num_attention_heads);
  c.max_position_embeddings = f.get_int(key("context_length"), c.max_position_embeddings);
  c.rms_norm_eps = f.get_float(key("attention.layer_norm_rms_epsilon"), 1e-5);
  c.rope_theta = f.get_float(key("rope.freq_base"), 10000.0);
  const int64_t default_head = c.num_attention_heads > 0 && c.hidden_size % c.num_attention_heads == 0 ? c.hidden_size / c.num_attention_heads : 0;
  const int64_t head_dim = f.get_int(key("attention.key_length"), default_head);
  if (head_dim <= 0)
    throw IoError(f.path(), key("attention.head_count") + ": " + std::to_string(c.num_attention_heads) + " heads do not divide embedding_length " +
                                std::to_string(c.hidden_size) + " and attention.key_length is absent");
  if (head_dim != default_head) c.head_dim = head_dim;
  if (f.get_int(key("attention.value_length"), head_dim) != head_dim)
    throw IoError(f.path(), key("attention.value_length") + ": differs from key_length; Llama uses one head size");
  if (f.get_int(key("rope.dimension_count"), head_dim) != head_dim)
    throw IoError(f.path(), key("rope.dimension_count") + ": " + std::to_string(f.get_int(key("rope.dimension_count"))) +
                                " (partial rotary) is not supported; Llama rotates the whole head of " + std::to_string(head_dim));
  const std::string scaling = f.has(key("rope.scaling.type")) ? f.get_string(key("rope.scaling.type")) : "none";
  if (scaling == "linear") {
    c.rope_scaling.type = "linear";
    c.rope_scaling.factor = f.get_float(key("rope.scaling.factor"), 1.0);
  } else if (scaling != "none") {
    throw IoError(f.path(), key("rope.scaling.type") + ": '" + scaling + "' is not supported (supported: none, linear)");
  }
  if (f.find_tensor("rope_freqs.weight"))
    throw IoError(f.path(), "tensor 'rope_freqs.weight' (Llama 3.1 RoPE scaling baked into frequencies) is not supported");
  if (f.has("tokenizer.ggml.tokens")) c.vocab_size = int64_t(f.get_array("tokenizer.ggml.tokens").size());
  c.vocab_size = f.get_int(key("vocab_size"), c.vocab_size);
  if (c.vocab_size <= 0) {
    const GgufTensorInfo* embd = f.find_tensor("token_embd.weight");
    if (!embd) throw IoError(f.path(), "no token_embd.weight and no vocabulary size in the metadata");
    c.vocab_size = embd->dims.back();
  }
  c.tie_word_embeddings = f.find_tensor("output.weight") == nullptr;
  c.bos_token_id = f.get_int("tokenizer.ggml.bos_token_id", -1);
  c.pad_token_id = f.get_int("tokenizer.ggml.padding_token_id", -1);
  if (f.has("tokenizer.ggml.eos_token_id")) c.eos_token_ids = {f.get_int("tokenizer.ggml.eos_token_id")};
  c.validate(f.path());
  return c;
}

std::map<std::string, torch::Tensor> gguf_llama_tensors(const GgufFile& f, const ModelConfig& c) {
  static const std::regex block_re(R"(^blk\.(\d+)\.(.+)$)");
  std::map<std::string, torch::Tensor> out;
  for (const GgufTensorInfo& info : f.tensors()) {
    std::string hf;
    std::smatch m;
    for (const auto& [gguf, name] : kGlobalNames)
      if (info.name == gguf) hf = name;
    if (hf.empty() && std::regex_match(info.name, m, block_re)) {
      for (const auto& [gguf, name] : kBlockNames)
        if (m[2].str() == gguf) hf = "model.layers." + m[1].str() + "." + name;
    }
    if (hf.empty())
      throw IoError(f.path(), "tensor '" + info.name + "' has no place in a Llama model (is general.architecture right?)");
    torch::Tensor t = f.read_tensor(info);
    if (info.name.find(".attn_q.") != std::string::npos) t = unpermute_rows(t, c.num_attention_heads);
    if (info.name.find(".attn_k.") != std::string::npos) t = unpermute_rows(t, c.num_key_value_heads);
    out.emplace(hf, std::move(t));
  }
  return out;
}

GgufImportResult import_gguf(const std::string& gguf_path, const std::string& out_dir, const GgufImportOptions& options) {
  GgufFile f = GgufFile::open(gguf_path);
  GgufImportResult r;
  r.config = gguf_llama_config(f);
  for (const GgufTensorInfo& t : f.tensors()) ++r.tensor_types[ggml_type_name(t.type)];
  // Tokenizer first: it is cheap, and a bad one fails before minutes of dequantising.
  std::string tokenizer_json, tokenizer_config;
  if (f.has("tokenizer.ggml.model")) {
    tokenizer_json = gguf_tokenizer_json(f);
    tokenizer_config = gguf_tokenizer_config_json(f);
    r.tokenizer = true;
    r.chat_template = f.has("tokenizer.chat_template");
  }
  auto model = CausalLM::from_tensors(r.config, gguf_llama_tensors(f, r.config), LoadOptions{}, gguf_path);
  SaveOptions save;
  save.dtype = options.dtype;
  model->save_hf(out_dir, save);
  if (r.tokenizer) {
    write_text(fs::path(out_dir) / "tokenizer.json", tokenizer_json);
    write_text(fs::path(out_dir) / "tokenizer_config.json", tokenizer_config);
  }
  return r;
}

}  // namespace grpo::policies
