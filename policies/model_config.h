// model_config.h: the architecture of a policy, parsed from a Hugging Face
// `config.json` (model_type deepseek_v3, deepseek_v2, qwen2, llama) or taken
// from a named preset for `grpo model init`. A plain value; no tensors here.
//
//   ModelConfig c = ModelConfig::from_file("ckpt/config.json");
//   ModelConfig t = ModelConfig::preset("deepseek_v3", "tiny");
//
// Field names and defaults follow transformers' configuration classes (see
// shared/docs/model-reference.md §1.1, §2.1). Unknown keys are kept verbatim
// in `extra_json` so that save_hf writes them back unchanged.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace grpo::policies {

// RoPE frequency scaling (`rope_scaling` / `rope_parameters`).
struct RopeScaling {
  std::string type;  // "" (none), "yarn", "llama3", "linear"
  double factor = 1.0;
  int64_t original_max_position_embeddings = 0;
  double beta_fast = 32.0;         // yarn
  double beta_slow = 1.0;          // yarn
  double mscale = 1.0;             // yarn: amplitude numerator
  double mscale_all_dim = 0.0;     // yarn: softmax-scale correction (0 = none)
  double attention_factor = -1.0;  // yarn: explicit amplitude; < 0 = derived
  double low_freq_factor = 1.0;    // llama3
  double high_freq_factor = 4.0;   // llama3
};

struct ModelConfig {
  std::string model_type = "qwen2";  // deepseek_v3 | deepseek_v2 | qwen2 | llama
  int64_t vocab_size = 0;
  int64_t hidden_size = 0;
  int64_t intermediate_size = 0;
  int64_t num_hidden_layers = 0;
  int64_t num_attention_heads = 0;
  int64_t num_key_value_heads = 0;
  int64_t head_dim = 0;  // dense archs; 0 in the json → hidden/heads
  int64_t max_position_embeddings = 4096;
  double rms_norm_eps = 1e-6;
  double rope_theta = 10000.0;
  RopeScaling rope_scaling;
  bool tie_word_embeddings = false;
  bool attention_bias = false;  // qwen2: always true for q/k/v (never o); deepseek: q_a/kv_a/o bias
  bool mlp_bias = false;
  std::string hidden_act = "silu";
  double initializer_range = 0.02;

  // Multi-head latent attention (deepseek_*). q_lora_rank 0 = plain q_proj.
  int64_t q_lora_rank = 0;
  int64_t kv_lora_rank = 0;
  int64_t qk_nope_head_dim = 0;
  int64_t qk_rope_head_dim = 0;
  int64_t v_head_dim = 0;
  bool rope_interleave = true;

  // DeepSeekMoE.
  int64_t moe_intermediate_size = 0;
  int64_t n_routed_experts = 0;  // 0 = dense model
  int64_t n_shared_experts = 0;
  int64_t num_experts_per_tok = 0;
  int64_t n_group = 1;
  int64_t topk_group = 1;
  int64_t first_k_dense_replace = 0;
  int64_t moe_layer_freq = 1;
  double routed_scaling_factor = 1.0;
  bool norm_topk_prob = true;
  std::string scoring_func = "sigmoid";  // sigmoid (V3) | softmax (V2)
  std::string topk_method = "noaux_tc";  // noaux_tc (V3) | greedy | group_limited_greedy (V2)
  int64_t num_nextn_predict_layers = 0;  // MTP modules stored after the main layers

  int64_t bos_token_id = -1;
  std::vector<int64_t> eos_token_ids;
  int64_t pad_token_id = -1;
  std::string torch_dtype = "float32";
  std::string extra_json = "{}";  // unknown keys, written back by to_json()

  bool is_mla() const { return kv_lora_rank > 0; }
  bool is_moe_layer(int64_t layer) const {
    return n_routed_experts > 0 && layer >= first_k_dense_replace && layer % moe_layer_freq == 0;
  }
  bool has_qkv_bias() const { return model_type == "qwen2" || attention_bias; }
  int64_t dense_head_dim() const { return head_dim > 0 ? head_dim : hidden_size / num_attention_heads; }
  int64_t qk_head_dim() const { return qk_nope_head_dim + qk_rope_head_dim; }
  // Softmax scale of attention, including YaRN's mscale² correction for MLA.
  double attention_scale() const;

  // Parsing. `origin` names the file in error messages.
  static ModelConfig from_json(const std::string& json_text, const std::string& origin = "config.json");
  static ModelConfig from_file(const std::string& path);
  // A complete HF config.json for this architecture (transformers-loadable).
  std::string to_json() const;

  // Named random-init shapes for `grpo model init`: arch deepseek_v3|qwen2|llama,
  // preset tiny (tests, ~1M), small (~10M), base50m (~50M dense / ~50M total MoE).
  static ModelConfig preset(const std::string& arch, const std::string& preset);
  static std::vector<std::string> preset_names();

  // Throws ConfigError (origin, key) for inconsistent shapes (e.g. odd rope dim,
  // experts not divisible by n_group, heads not divisible by kv heads).
  void validate(const std::string& origin = "config.json") const;

  // Parameter counts: all tensors, and the ones a single token touches
  // (shared + top-k routed experts, not all experts). Embedding included once
  // (twice when untied, since lm_head is separate).
  int64_t total_parameters() const;
  int64_t active_parameters_per_token() const;
  // KV-cache values cached per token per layer (MLA: kv_lora_rank + rope dim;
  // GQA: 2·kv_heads·head_dim) and bytes per token over all layers at `dtype_bytes`.
  int64_t kv_values_per_token_per_layer() const;
  int64_t kv_bytes_per_token(int64_t dtype_bytes = 2) const;
};

}  // namespace grpo::policies
